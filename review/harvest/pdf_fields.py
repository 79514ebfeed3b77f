"""Bibliographic fields of a PDF from its own front matter: pure functions over page texts.

A thesis cites hundreds of DOIs and years; only its metadata and first pages describe the thesis
itself. So the DOI, year and ISBN come from metadata and the first ``FRONT_PAGES`` pages, cut at a
References/Bibliography heading; the abstract is the text under an Abstract/Summary heading;
theses and reports get their type, degree and institution from the title pages.
"""

from __future__ import annotations

import re
from typing import Any

from ..models import normalize_doi

FRONT_PAGES = 2  # title page and its reverse: where a document names its own DOI/ISBN/year
ABSTRACT_PAGES = 12  # theses put cover, declaration, dedication, acknowledgements first
_DOI_RE = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+", re.I)
_REFERENCES = re.compile(
    r"^\s*(?:\d+\.?\s*)?(references|bibliography|works cited|literature cited|"
    r"références|referências|bibliografía|bibliografia|literatur)\s*:?\s*$",
    re.I | re.M,
)
_ABSTRACT = re.compile(
    r"^\s*(abstract|summary|executive summary|résumé|resumo|resumen|zusammenfassung)"
    r"\s*[:.]?\s*(.*)$",
    re.I,
)
# a line that starts the next section after an abstract
_NEXT_SECTION = re.compile(
    r"^\s*(key ?words?|index terms|acknowledge?ments?|declaration|dedication|table of contents|"
    r"contents|list of (figures|tables|abbreviations)|preface|foreword|opsomming|"
    r"(chapter\s+)?(1|i)\.?\s+introduction|introduction)\b",
    re.I,
)
_DEGREE = re.compile(
    r"\b(doctor of philosophy|doctor of [a-z]+(?: [a-z]+)?|master of [a-z]+(?: [a-z]+)?|"
    r"bachelor of [a-z]+(?: [a-z]+)?|ph\.? ?d\.?|m\.? ?phil\.?|msc|m\.sc\.|mba|ma|llm|dphil)\b",
    re.I,
)
_THESIS = re.compile(r"\b(thesis|dissertation|mini-dissertation|tese|thèse|tesis)\b", re.I)
_REPORT = re.compile(
    r"\b(technical report|working paper|policy brief|discussion paper|research report|"
    r"report no\.?|annual report|evaluation report|report)\b",
    re.I,
)
_INSTITUTION = re.compile(
    r"\b(university|universit[éeà]|universidade|universidad|institute|institut|college|"
    r"polytechnic|school of|ministry|agency|council|programme|organi[sz]ation|foundation|"
    r"centre|center|bank|commission)\b",
    re.I,
)


def front_matter(pages: tuple[str, ...] | list[str], n: int = FRONT_PAGES) -> str:
    """The first ``n`` pages' text, cut at a References/Bibliography heading."""
    text = "\n".join(pages[:n])
    m = _REFERENCES.search(text)
    return text[: m.start()] if m else text


def document_doi(meta: dict[str, Any], pages: tuple[str, ...] | list[str]) -> str | None:
    """A DOI from the metadata (doi, subject, keywords) or the front matter; never from the body
    or a reference list."""
    for key in ("doi", "subject", "keywords", "title"):
        m = _DOI_RE.search(str(meta.get(key) or ""))
        if m:
            return normalize_doi(m.group(0))
    m = _DOI_RE.search(front_matter(pages))
    return normalize_doi(m.group(0)) if m else None


def section_abstract(pages: tuple[str, ...] | list[str], limit: int = 3000) -> str | None:
    """The text under an Abstract/Summary heading in the first pages, to the next section."""
    lines = "\n".join(pages[:ABSTRACT_PAGES]).splitlines()
    for i, line in enumerate(lines):
        m = _ABSTRACT.match(line)
        if not m or len(line) > 200:
            continue
        body: list[str] = [m.group(2)] if m.group(2) else []
        for nxt in lines[i + 1 :]:
            if _NEXT_SECTION.match(nxt) or _REFERENCES.match(nxt):
                break
            body.append(nxt)
            if sum(len(b) for b in body) > limit:
                break
        text = " ".join(" ".join(body).split())
        if len(text.split()) >= 15:
            return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
    return None


def document_kind(pages: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``record_type`` (thesis/report) from the title pages; for theses also the ``degree`` and
    the ``institution`` (the first title-page line naming a university, institute or college)."""
    front = front_matter(pages, 2)
    out: dict[str, str] = {}
    first_page = front_matter(pages, 1)
    if _THESIS.search(front) and (_DEGREE.search(front) or re.search(r"submitted", front, re.I)):
        out["record_type"] = "thesis"
        m = _DEGREE.search(first_page) or _DEGREE.search(front)
        if m:
            out["degree"] = _degree_name(m.group(1))
    elif _REPORT.search(first_page):
        out["record_type"] = "report"
    if out.get("record_type") != "thesis":  # a report's first page is too varied to guess from
        return out
    for line in first_page.splitlines():
        line = " ".join(line.split())
        if _INSTITUTION.search(line) and 4 <= len(line) <= 120 and not _DEGREE.search(line):
            out["institution"] = line.rstrip(".,")
            break
    return out


def title_and_authors(pages: tuple[str, ...] | list[str]) -> tuple[str | None, tuple[str, ...]]:
    """A title page's title (its first line of 3-30 words that is not an institution, degree or
    thesis statement) and the name on the line after a lone "by"."""
    lines = [" ".join(ln.split()) for ln in front_matter(pages, 1).splitlines()]
    lines = [ln for ln in lines if ln]
    title = None
    for ln in lines[:8]:
        words = ln.split()
        if not 3 <= len(words) <= 30 or sum(c.isalpha() for c in ln) < 0.7 * len(ln):
            continue
        if _INSTITUTION.search(ln) or _THESIS.search(ln) or re.search(r"\bsubmitted\b", ln, re.I):
            continue
        title = ln
        break
    authors: tuple[str, ...] = ()
    for i, ln in enumerate(lines[:-1]):
        if ln.lower() in {"by", "author", "authors", "par", "por", "von"}:
            name = lines[i + 1]
            if 2 <= len(name.split()) <= 6 and not _INSTITUTION.search(name):
                authors = tuple(a.strip() for a in re.split(r",| and | & ", name) if a.strip())
            break
    return title, authors


def _degree_name(text: str) -> str:
    t = " ".join(text.split())
    if t.lower().startswith(("doctor", "master", "bachelor")):
        return " ".join(w if w.lower() == "of" else w.capitalize() for w in t.lower().split())
    return t


def front_year(pages: tuple[str, ...] | list[str], find_year: Any) -> int | None:
    """A year on the first page, else anywhere in the front matter."""
    return find_year(front_matter(pages, 1)) or find_year(front_matter(pages))
