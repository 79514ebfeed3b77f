"""EndNote: XML exports (``<xml><records><record>``) and tagged ``%T``/``%A`` text (.enw/.enl/.txt)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from ...errors import FormatError
from ...models import Record
from .common import clean, doi_of, first, make_record

_TAG = re.compile(r"^%([0-9A-Z@!#$&()*+^<>?~\]\[|])(?: (.*))?$")


def looks_like_xml(text: str) -> bool:
    head = text[:3000].lstrip()
    return head.startswith("<") and bool(re.search(r"<records>\s*<record>|<xml>\s*<records", head))


def looks_like_tagged(text: str) -> bool:
    lines = [ln for ln in text[:5000].split("\n") if ln.strip()][:20]
    return sum(1 for ln in lines if _TAG.match(ln)) >= max(2, len(lines) // 2) and any(
        ln.startswith(("%T ", "%0 ")) for ln in lines
    )


# XML ---------------------------------------------------------------------------------------
def _text(el: ET.Element | None) -> str | None:
    if el is None:
        return None
    return clean("".join(el.itertext()))


def _all(rec: ET.Element, path: str) -> list[str]:
    return [t for el in rec.findall(path) if (t := _text(el))]


def xml_entry(rec: ET.Element) -> dict[str, Any]:
    """A plain dict of one <record> (the raw payload)."""
    ref = rec.find("ref-type")
    return {
        "rec_number": _text(rec.find("rec-number")),
        "ref_type": ref.get("name") if ref is not None else None,
        "authors": _all(rec, "contributors/authors/author"),
        "secondary_authors": _all(rec, "contributors/secondary-authors/author"),
        "auth_address": _text(rec.find("auth-address")),
        "title": _text(rec.find("titles/title")),
        "secondary_title": _text(rec.find("titles/secondary-title")),
        "alt_title": _text(rec.find("titles/alt-title")),
        "periodical": first(
            _text(rec.find("periodical/full-title")), _text(rec.find("periodical/abbr-1"))
        ),
        "pages": _text(rec.find("pages")),
        "volume": _text(rec.find("volume")),
        "number": _text(rec.find("number")),
        "keywords": _all(rec, "keywords/keyword"),
        "year": _text(rec.find("dates/year")),
        "pub_date": _text(rec.find("dates/pub-dates/date")),
        "isbn": _text(rec.find("isbn")),
        "accession_num": _text(rec.find("accession-num")),
        "abstract": _text(rec.find("abstract")),
        "notes": _text(rec.find("notes")),
        "urls": _all(rec, "urls/related-urls/url") + _all(rec, "urls/web-urls/url"),
        "electronic_resource_num": _text(rec.find("electronic-resource-num")),
        "remote_database_name": _text(rec.find("remote-database-name")),
        "language": _text(rec.find("language")),
        "caption": _text(rec.find("caption")),
        "label": _text(rec.find("label")),
    }


def xml_record(e: dict[str, Any]) -> Record:
    return make_record(
        title=e["title"],
        abstract=e["abstract"],
        authors=e["authors"],
        year=first(e["year"], e["pub_date"]),
        doi=doi_of(e["electronic_resource_num"], *e["urls"]),
        venue=first(e["secondary_title"], e["periodical"], e["alt_title"]),
        volume=e["volume"],
        issue=e["number"],
        pages=e["pages"],
        language=e["language"],
        record_type=e["ref_type"],
        url=first(*e["urls"]),
        isbn=e["isbn"],
        keywords=e["keywords"],
        source_record_id=first(e["accession_num"], e["rec_number"]),  # the vendor id first
        raw=e,
        raw_format="endnote-xml",
    )


def read_xml(text: str, path: str) -> list[Record]:
    text = re.sub(r"^<\?xml[^>]*\?>", "", text.lstrip())  # already decoded: drop the declaration
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        line, col = e.position
        raise FormatError(
            f"malformed EndNote XML ({e.msg if hasattr(e, 'msg') else e})",
            path=path,
            where=f"line {line}, column {col}",
        ) from e
    recs = root.findall(".//records/record") or root.findall(".//record")
    if not recs:
        raise FormatError("no <record> elements: not an EndNote XML export", path=path)
    return [xml_record(xml_entry(r)) for r in recs]


# tagged text --------------------------------------------------------------------------------
def parse_tagged(text: str, path: str) -> list[tuple[int, dict[str, list[str]]]]:
    out: list[tuple[int, dict[str, list[str]]]] = []
    cur: dict[str, list[str]] = {}
    start, last = 0, None
    for i, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            if cur:
                out.append((start, cur))
            cur, last = {}, None
            continue
        m = _TAG.match(line.rstrip())
        if m:
            if not cur:
                start = i
            last = m.group(1)
            cur.setdefault(last, []).append((m.group(2) or "").strip())
        elif last is not None:
            cur[last][-1] = f"{cur[last][-1]} {line.strip()}".strip()
        else:
            raise FormatError(
                f"not an EndNote tag line: {line[:60]!r}", path=path, where=f"line {i}"
            )
    if cur:
        out.append((start, cur))
    return out


def tagged_record(f: dict[str, list[str]]) -> Record:
    def one(tag: str) -> str | None:
        return f[tag][0] if f.get(tag) else None

    keywords = [k.strip() for v in f.get("K", []) for k in re.split(r"[;\n]", v) if k.strip()]
    return make_record(
        title=one("T"),
        abstract=one("X"),
        authors=f.get("A", []),
        year=first(one("D"), one("8")),
        doi=doi_of(one("R"), *f.get("U", [])),
        venue=first(one("J"), one("B")),
        volume=one("V"),
        issue=one("N"),
        pages=one("P"),
        language=one("G"),
        record_type=one("0"),
        url=one("U"),
        isbn=one("@"),
        keywords=keywords,
        source_record_id=first(one("M"), one("F")),
        raw=f,
        raw_format="endnote",
    )


def read_tagged(text: str, path: str) -> list[Record]:
    parsed = parse_tagged(text, path)
    if not parsed:
        raise FormatError("no EndNote records", path=path)
    for line, f in parsed:
        if not f.get("T"):
            raise FormatError("record has no %T title", path=path, where=f"line {line}")
    return [tagged_record(f) for _, f in parsed]
