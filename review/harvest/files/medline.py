"""Tagged plain-text exports: PubMed/ERIC MEDLINE (.nbib/.txt) and Web of Science plain text."""

from __future__ import annotations

import re

from ...errors import FormatError
from ...models import Record
from .common import (
    doi_of,
    first,
    join_pages,
    make_record,
    pick,
    pick_text,
    pmid_of,
    split_authors,
)
from .vendors import MEDLINE_EXTRA, MEDLINE_FIELDS, WOS_EXTRA, WOS_FIELDS, WOS_LINE_ITEM_TAGS

_MED_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3})\s*- ?(.*)$")
_WOS_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")

Fields = dict[str, list[str]]


def looks_like_medline(text: str) -> bool:
    return bool(re.search(r"^(PMID|OWN |FAU |STAT|AID )- ", text[:20000], re.MULTILINE))


def looks_like_wos(text: str) -> bool:
    head = text[:5000]
    return bool(
        re.match(r"\s*FN (Clarivate|Thomson|ISI)", head)
        or re.search(r"^PT [A-Z]\n(AU|AF|TI) ", head, re.M)
    )


# MEDLINE ----------------------------------------------------------------------------------
def parse_medline(text: str, path: str) -> list[tuple[int, Fields]]:
    """(first line, {tag: [values]}) per record; records are separated by blank lines."""
    out: list[tuple[int, Fields]] = []
    cur: Fields = {}
    start = 0
    last: str | None = None
    for i, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            if cur:
                out.append((start, cur))
            cur, last = {}, None
            continue
        m = _MED_TAG.match(line)
        if m and not line.startswith(" "):
            if not cur:
                start = i
            last = m.group(1)
            cur.setdefault(last, []).append(m.group(2).strip())
        elif line.startswith(" ") and last is not None:
            cur[last][-1] = f"{cur[last][-1]} {line.strip()}"
        else:
            raise FormatError(
                f"not a MEDLINE tag line: {line[:60]!r}", path=path, where=f"line {i}"
            )
    if cur:
        out.append((start, cur))
    return out


def medline_record(f: Fields) -> Record:
    """One MEDLINE record through ``vendors.MEDLINE_FIELDS`` (first tag with a value wins)."""

    def one(name: str) -> str | None:
        vals = pick(f, MEDLINE_FIELDS[name])
        return vals[0] if vals else None

    ids = f.get("AID", []) + f.get("LID", [])
    doi = doi_of(*[v for v in ids if "[doi]" in v or "doi" in v.lower()]) or doi_of(*ids)
    url = first(*[v for v in f.get("LID", []) if v.startswith("http")])
    return make_record(
        title=one("title"),
        abstract=one("abstract"),
        authors=split_authors(pick(f, MEDLINE_FIELDS["authors"])),
        year=one("year"),
        doi=doi,
        pmid=pmid_of(one("pmid")),
        venue=one("venue"),
        volume=one("volume"),
        issue=one("issue"),
        pages=one("pages"),
        language=one("language"),
        record_type=one("record_type"),
        url=url,
        keywords=[k.lstrip("*") for t in MEDLINE_FIELDS["keywords"] for k in f.get(t, [])],
        issn=pick(f, MEDLINE_FIELDS["issn"]),
        isbn=one("isbn"),
        extra={key: v[0] for tag, key in MEDLINE_EXTRA.items() if (v := f.get(tag))},
        source_record_id=one("record_id"),
        raw=f,
        raw_format="medline",
    )


def read_medline(text: str, path: str) -> list[Record]:
    parsed = parse_medline(text, path)
    if not parsed:
        raise FormatError("no MEDLINE records", path=path)
    for line, f in parsed:
        if not (f.get("TI") or f.get("BTI") or f.get("PMID")):
            raise FormatError("record has neither TI nor PMID", path=path, where=f"line {line}")
    return [medline_record(f) for _, f in parsed]


def medline_source(text: str) -> str:
    m = re.search(r"^OWN - (\S+)", text[:5000], re.MULTILINE)
    own = m.group(1) if m else "NLM"
    return {"NLM": "PubMed", "PUBMED": "PubMed"}.get(own.upper(), own)


# Web of Science ---------------------------------------------------------------------------
def parse_wos(text: str, path: str) -> list[tuple[int, Fields]]:
    out: list[tuple[int, Fields]] = []
    cur: Fields | None = None
    start = 0
    last: str | None = None
    lines = text.split("\n")
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if line.startswith("   ") and cur is not None and last is not None:
            cur[last].append(line.strip())
            continue
        m = _WOS_TAG.match(line.rstrip())
        if not m:
            raise FormatError(
                f"not a Web of Science tag line: {line[:60]!r}", path=path, where=f"line {i}"
            )
        tag, value = m.group(1), (m.group(2) or "").strip()
        if tag in {"FN", "VR", "EF"}:
            continue
        if tag == "PT":
            if cur is not None:
                raise FormatError(
                    f"record starting at line {start} has no ER line", path=path, where=f"line {i}"
                )
            cur, start, last = {}, i, None
        if cur is None:
            raise FormatError(
                f"tag {tag} outside a record (no PT line)", path=path, where=f"line {i}"
            )
        if tag == "ER":
            out.append((start, cur))
            cur, last = None, None
            continue
        cur.setdefault(tag, []).append(value)
        last = tag
    if cur is not None:
        raise FormatError(
            f"record starting at line {start} is truncated: the file ends before its ER line",
            path=path,
            where=f"line {len(lines)}",
        )
    return out


def wos_record(f: Fields) -> Record:
    """One Web of Science record through ``vendors.WOS_FIELDS``: continuation lines are items
    only for line-item tags (authors, addresses, references); elsewhere they continue the text,
    so a keyword wrapped at "Machine / learning" stays one keyword."""
    tags: Fields = {
        k: v if k in WOS_LINE_ITEM_TAGS else [" ".join(x.strip() for x in v)] for k, v in f.items()
    }

    def text(name: str) -> str | None:
        return pick_text(tags, WOS_FIELDS[name])

    keywords = [
        k.strip() for t in WOS_FIELDS["keywords"] for v in tags.get(t, []) for k in v.split(";")
    ]
    extra = {key: v for tag, key in WOS_EXTRA.items() if (v := pick_text(tags, (tag,)))}
    return make_record(
        title=text("title"),
        abstract=text("abstract"),
        authors=tuple(pick(tags, WOS_FIELDS["authors"])),
        year=text("year"),
        doi=doi_of(text("doi")),
        pmid=pmid_of(text("pmid")),
        venue=text("venue"),
        volume=text("volume"),
        issue=text("issue"),
        pages=join_pages(text("start_page"), text("end_page")),
        language=text("language"),
        record_type=text("record_type"),
        isbn=text("isbn"),
        issn=text("issn"),
        keywords=[k for k in keywords if k],
        source_record_id=text("record_id"),
        database="Web of Science",
        raw={k: (v[0] if len(v) == 1 else v) for k, v in tags.items()},
        raw_format="wos",
        extra=extra,
    )


def read_wos(text: str, path: str) -> list[Record]:
    parsed = parse_wos(text, path)
    if not parsed:
        raise FormatError("no Web of Science records (PT ... ER)", path=path)
    return [wos_record(f) for _, f in parsed]
