"""Plain reference lists (.md/.txt): one formatted reference per line or bullet.

Author–year styles only, where the year follows the authors in parentheses::

    Adams CE, Polzmacher S, and Wolff A (2013) Systematic reviews: ... Journal of X 6(4): 232–235.
    - Smith, J. A., & Lee, K. (2020). Title of the paper. Journal of Y, 12(3), 45–67. https://doi.org/...

Extraction is deliberately conservative: authors before ``(year)``, the title up to the first
full stop, the venue and volume/issue/pages only when they have the usual shape, and a DOI when
one is written out. Anything else stays in the record's raw text rather than being guessed.
"""

from __future__ import annotations

import re

from ...errors import FormatError
from ...models import Record
from .common import clean, doi_of, make_record

EXTENSIONS = (".md", ".markdown", ".txt")

_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,4}[.)]|\[\d{1,4}\])\s+")
_REF = re.compile(
    r"^(?P<authors>[^()\d]{2,400}?)\s*\((?P<year>(?:1[5-9]|20)\d\d)[a-z]?\)[.,:]?\s+(?P<rest>\S.*)$"
)
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")
_SAGE_VENUE = re.compile(
    r"^(?P<venue>.+?)\s+(?P<volume>\d+)(?:\((?P<issue>[^)]+)\))?:\s*(?P<pages>[\w\-–]+)\.?$"
)
_APA_VENUE = re.compile(
    r"^(?P<venue>.+?),\s*(?P<volume>\d+)(?:\((?P<issue>[^)]+)\))?(?:,\s*(?P<pages>[\w\-–]+))?\.?$"
)
_YEAR = re.compile(r"(?<!\d)(?:1[5-9]|20)\d\d(?!\d)")
_ET_AL = re.compile(r",?\s*et al\.?$", re.I)


def _lines(text: str) -> list[str]:
    """Reference lines: blank lines, Markdown headings and horizontal rules left out."""
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if not s or s.startswith("#") or set(s) <= {"-", "*", "_", "="}:
            continue
        out.append(_BULLET.sub("", s).replace("**", "").replace("__", ""))
    return out


def looks_like(text: str) -> bool:
    """Most lines (≥ 80 %, at least one) are author–year references."""
    lines = _lines(text)
    if not lines:
        return False
    hits = sum(1 for line in lines if _REF.match(line))
    return hits >= 1 and hits >= 0.8 * len(lines)


def split_authors(text: str) -> tuple[str, ...]:
    """'Adams CE, Polzmacher S, and Wolff A' or 'Smith, J. A., & Lee, K.' (et al. dropped)."""
    s = _ET_AL.sub("", text.strip().rstrip(",").strip()) if text else ""
    s = s.replace(" & ", " and ")
    if re.search(r"\b[A-Z]\.,", s) or re.search(r",\s*[A-Z]\.", s):  # APA: 'Smith, J. A.'
        parts = re.split(r"(?<=\.),\s+(?:and\s+)?|\s+and\s+", s)
    else:
        parts = re.split(r",\s*(?:and\s+)?|;\s*|\s+and\s+", s)
    return tuple(a for p in parts if (a := clean(p.strip().rstrip(",").strip())))


def parse_line(line: str) -> dict[str, str | None] | None:
    """The fields of one reference line, or None when it is not an author–year reference."""
    m = _REF.match(line)
    if not m:
        return None
    rest = m["rest"].strip()
    doi_m = _DOI.search(rest)
    doi = doi_m.group(0).rstrip(".,;)]") if doi_m else None
    if doi_m:  # drop the DOI (and a doi.org URL or 'doi:' prefix) before splitting the rest
        start = rest.rfind(" ", 0, doi_m.start()) + 1
        rest = (rest[:start] + rest[doi_m.end() :]).strip()
    title, _, after = rest.partition(". ")
    after = after.strip()
    fields: dict[str, str | None] = {
        "authors": m["authors"],
        "year": m["year"],
        "title": title.rstrip("."),
        "doi": doi,
        "venue": None,
        "volume": None,
        "issue": None,
        "pages": None,
        "record_type": None,
    }
    if after.startswith("In: ") or after.startswith("In "):
        fields["record_type"] = "inproceedings"
        fields["venue"] = after.split(" ", 1)[1].split(",", 1)[0].rstrip(".")
    elif after:
        vm = _SAGE_VENUE.match(after) or _APA_VENUE.match(after)
        if vm:
            fields["record_type"] = "article"
            fields.update({k: vm[k] for k in ("venue", "volume", "issue", "pages")})
        elif len(after) <= 200:
            fields["venue"] = after.rstrip(".")
    return fields


def read(text: str, path: str) -> list[Record]:
    records: list[Record] = []
    for lineno, raw in enumerate(text.split("\n"), start=1):
        lines = _lines(raw)
        if not lines:
            continue
        f = parse_line(lines[0])
        if f is None:
            if _YEAR.search(lines[0]):  # a reference we cannot read: say so, don't drop it
                raise FormatError(
                    "not an author (year) reference; fix the line or remove it",
                    path=path,
                    where=f"line {lineno}",
                )
            continue  # a heading or a note such as 'References'
        if not f["title"]:
            raise FormatError("reference without a title", path=path, where=f"line {lineno}")
        records.append(
            make_record(
                title=f["title"],
                authors=split_authors(f["authors"] or ""),
                year=f["year"],
                doi=doi_of(f["doi"]),
                venue=f["venue"],
                volume=f["volume"],
                issue=f["issue"],
                pages=f["pages"],
                record_type=f["record_type"],
                raw={"line": lineno, "text": raw.strip()},
                raw_format="reflist",
            )
        )
    if not records:
        raise FormatError("no author–year references found", path=path)
    return records
