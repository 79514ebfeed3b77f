"""Small helpers every format reader shares: clean values, years, author lists, record building."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from ...models import Record, normalize_doi, normalize_pmid
from .vendors import ID_IN_URL

_YEAR_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|2100)(?!\d)")
_YYYYMMDD_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])(?!\d)")
_WS_RE = re.compile(r"\s+")
_PAGE_DASH = re.compile(r"\s*[-\u2010-\u2015]+\s*")


def clean(value: Any) -> str | None:
    """A stripped single-spaced string, or None for empty/missing values."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value if v is not None)
    text = _WS_RE.sub(" ", str(value)).strip()
    if not text or text.lower() in {"nan", "none", "null", "n/a", "unknown"}:
        return None
    return text


def clean_html(value: Any) -> str | None:
    text = clean(value)
    return html.unescape(text) if text else text


def year_of(value: Any) -> int | None:
    """The first plausible year in a value ('2021', '2021/12/21', 'Dec 2019', 2020.0)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        v = int(value)
        return v if 1500 <= v <= 2100 else None
    m = _YEAR_RE.search(str(value)) or _YYYYMMDD_RE.search(str(value))
    return int(m.group(1)) if m else None


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [s for v in value if (s := clean(v))]
    s = clean(value)
    return [s] if s else []


def split_authors(value: Any, sep: str | None = None) -> tuple[str, ...]:
    """Authors from a list or a string joined by ' and ', ';' or ','.

    A string is split on ' and ' (BibTeX) or ';' first; on ',' only when no part looks like
    'Surname, Initials' (i.e. 'Smith A, Walter B' or 'Joseph Rottman, Erran Carmel').
    """
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(a for v in value if (a := clean(v)))
    text = clean(value)
    if not text:
        return ()
    if sep is not None:
        parts = text.split(sep)
    elif re.search(r"\s+and\s+", text) and ("," in text or text.count(" and ") > 1):
        parts = re.split(r"\s+and\s+", text)
    elif ";" in text:
        parts = text.split(";")
    elif "," in text and _comma_separated_names(text):
        parts = text.split(",")
    else:
        parts = [text]
    return tuple(a for p in parts if (a := clean(p)))


def _comma_separated_names(text: str) -> bool:
    """'Smith A, Walter B' / 'Joseph Rottman, Erran Carmel' (not 'Smith, John')."""
    parts = [p.strip() for p in text.split(",")]
    return all(len(p.split()) >= 2 for p in parts)  # 'Articlewriter, Laura, III' is one name


def full_pages(value: Any) -> str | None:
    """'1 - 10', '1–10' -> '1-10'; an abbreviated end is written out: '122-4' -> '122-124'."""
    text = _PAGE_DASH.sub("-", clean(value) or "")
    m = re.fullmatch(r"(\d+)-(\d+)", text)
    if m and len(m.group(2)) < len(m.group(1)):
        start, end = m.groups()
        full = start[: len(start) - len(end)] + end
        if int(full) >= int(start):
            text = f"{start}-{full}"
    return text or None


def join_pages(start: Any, end: Any) -> str | None:
    s, e = clean(start), clean(end)
    if s and e and s != e:
        return f"{s}-{e}"
    return s or e


def first(*values: Any) -> Any:
    for v in values:
        if v not in (None, "", [], ()):
            return v
    return None


def doi_of(*values: Any) -> str | None:
    """The first DOI in these values, URL-decoded (Ovid writes ``10.1016/0376-8716%2876%29...``)."""
    for v in values:
        for item in v if isinstance(v, list | tuple) else [v]:
            text = clean(item)
            if text and "%" in text:
                text = unquote(text)
            d = normalize_doi(text)
            if d:
                return d
    return None


def pmid_of(*values: Any) -> str | None:
    """A PubMed id from 'PMID:123', 'MEDLINE:123', a bare number or a PubMed link
    (``models.normalize_pmid``, the normaliser dedup uses too)."""
    for v in values:
        for item in v if isinstance(v, list | tuple) else [v]:
            pmid = normalize_pmid(clean(item))
            if pmid:
                return pmid
    return None


ISSN_RE = re.compile(r"(?<!\d)\d{4}-?\d{3}[\dXx](?![\w-])")


ISBN_RE = re.compile(r"\b(?:\d[-\s]?){12}\d\b|\b(?:\d[-\s]?){9}[\dXx]\b")  # ISBN-13, -10


def issn_of(*values: Any) -> str | None:
    """Every ISSN in these values, upper case, once each, joined by '; ' ('2325-9671
    (electronic)' -> '2325-9671'); the cleaned text when none looks like an ISSN."""
    texts = [t for v in values for t in (v if isinstance(v, list | tuple) else [v]) if t]
    found = [m.upper() for t in texts for m in ISSN_RE.findall(str(t))]
    if found:
        return "; ".join(dict.fromkeys(found))
    return clean(texts[0]) if texts else None


def pick(tags: dict[str, list[str]], order: tuple[str, ...]) -> list[str]:
    """The values of the first tag in ``order`` that has a non-empty value."""
    for tag in order:
        values = [v for v in tags.get(tag, []) if v and v.strip()]
        if values:
            return values
    return []


def pick_text(tags: dict[str, list[str]], order: tuple[str, ...]) -> str | None:
    return clean(" ".join(pick(tags, order))) if pick(tags, order) else None


def make_record(
    *,
    title: Any,
    raw: Any,
    raw_format: str,
    authors: Iterable[str] = (),
    keywords: Iterable[str] = (),
    affiliation_countries: Iterable[str] = (),
    **fields: Any,
) -> Record:
    """A Record with cleaned strings (None for blanks) and tuple lists."""
    kw: dict[str, Any] = {}
    for key, value in fields.items():
        if key in {"year"}:
            kw[key] = year_of(value)
        elif key in {"extra"}:
            kw[key] = value or {}
        elif key == "abstract":
            kw[key] = clean_html(value)
        elif key == "issn":
            kw[key] = issn_of(value)
        elif key == "pages":
            kw[key] = full_pages(value)
        elif key == "venue":
            kw[key] = clean_html(value)  # 'Dummy in Practice &#169;' -> '... ©'
        elif key == "pmid":
            kw[key] = pmid_of(value)  # digits only: a CODEN in the wrong column is no PMID
        else:
            kw[key] = clean(value)
    isbn = kw.get("isbn")
    if isbn and ISSN_RE.search(isbn) and not ISBN_RE.search(isbn) and not kw.get("issn"):
        kw["issn"], kw["isbn"] = issn_of(isbn), None  # '2277-9175 (Print)': an ISSN filed as ISBN
    if not kw.get("pmid") and kw.get("url") and "pubmed" in kw["url"].lower():
        kw["pmid"] = pmid_of(kw["url"])  # a PubMed link names the PMID, whatever the format
    return Record(
        title=clean_html(title),
        authors=tuple(a for a in authors if a),
        keywords=tuple(dict.fromkeys(c for k in keywords if (c := clean(k)))),
        affiliation_countries=tuple(dict.fromkeys(c.upper() for c in affiliation_countries if c)),
        raw=raw,
        raw_format=raw_format,
        **kw,
    )


def id_from_links(links: list[str]) -> str | None:
    for link in links:
        for pattern, _vendor in ID_IN_URL:
            m = re.search(pattern, link, re.IGNORECASE)
            if m:
                return m.group(1)
    return None
