"""Tagged plain-text exports: PubMed/ERIC MEDLINE (.nbib/.txt) and Web of Science plain text."""

from __future__ import annotations

import re

from ...errors import FormatError
from ...models import Record
from .common import clean, doi_of, first, join_pages, make_record, split_authors

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
    def one(tag: str) -> str | None:
        vals = f.get(tag)
        return vals[0] if vals else None

    ids = f.get("AID", []) + f.get("LID", [])
    doi = doi_of(*[v for v in ids if "[doi]" in v or "doi" in v.lower()]) or doi_of(*ids)
    url = first(*[v for v in f.get("LID", []) if v.startswith("http")])
    return make_record(
        title=first(one("TI"), one("BTI")),
        abstract=one("AB"),
        authors=split_authors(f.get("FAU") or f.get("AU") or []),
        year=first(one("DP"), one("DEP"), one("SO")),
        doi=doi,
        pmid=one("PMID"),
        venue=first(one("JT"), one("TA")),
        volume=one("VI"),
        issue=one("IP"),
        pages=one("PG"),
        language=one("LA"),
        record_type=one("PT"),
        url=url,
        keywords=[k.lstrip("*") for k in f.get("OT", []) + f.get("MH", [])],
        source_record_id=first(one("PMID"), one("OID"), one("AN")),
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


_JOINED = {"TI", "SO", "AB", "SE", "BS", "CT", "PU", "PA"}


def wos_record(f: Fields) -> Record:
    def text(tag: str) -> str | None:
        return clean(" ".join(f.get(tag, []))) if f.get(tag) else None

    def items(tag: str) -> list[str]:
        return [k.strip() for k in "; ".join(f.get(tag, [])).split(";") if k.strip()]

    return make_record(
        title=text("TI"),
        abstract=text("AB"),
        authors=tuple(f.get("AF") or f.get("AU") or []),
        year=first(text("PY"), text("PD")),
        doi=doi_of(text("DI")),
        pmid=text("PM"),
        venue=first(text("SO"), text("SE")),
        volume=text("VL"),
        issue=text("IS"),
        pages=join_pages(text("BP"), text("EP")),
        language=text("LA"),
        record_type=text("DT"),
        isbn=text("BN"),
        keywords=items("DE") + items("ID"),
        source_record_id=text("UT"),
        raw={k: (" ".join(v) if k in _JOINED else v) for k, v in f.items()},
        raw_format="wos",
    )


def read_wos(text: str, path: str) -> list[Record]:
    parsed = parse_wos(text, path)
    if not parsed:
        raise FormatError("no Web of Science records (PT ... ER)", path=path)
    return [wos_record(f) for _, f in parsed]
