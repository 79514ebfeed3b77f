"""RIS (rispy): every database's RIS export. A record without its ``ER`` line is truncated."""

from __future__ import annotations

import re
from typing import Any

from ...errors import FormatError
from ...models import Record
from .common import as_list, doi_of, first, join_pages, make_record, split_authors

_TAG_RE = re.compile(r"^([A-Z][A-Z0-9])\s{0,3}-(?:\s(.*)|\s*)$")


def looks_like(text: str) -> bool:
    head = [ln for ln in text[:5000].split("\n") if ln.strip()][:40]
    return any(re.match(r"^TY\s{1,3}-", ln) for ln in head)


def _normalise(text: str) -> list[str]:
    """Lines with tags rewritten to rispy's 'XX  - value' shape ('TY - X', 'TY  -X')."""
    out = []
    for line in text.split("\n"):
        m = _TAG_RE.match(line.rstrip())
        out.append(f"{m.group(1)}  - {(m.group(2) or '').strip()}" if m else line)
    return out


def check_structure(lines: list[str], path: str) -> list[str]:
    """Every TY ... ER block must be closed; returns the lines, with an ER added where a record
    is followed by a blank line and a new TY (some exports forget ER between records)."""
    out: list[str] = []
    start: int | None = None
    n = 0
    gap: int | None = None  # index in ``out`` of the first blank line after the last tag
    for i, line in enumerate(lines, 1):
        tag = line[:2] if line[2:5] == "  -" else None
        if tag == "TY":
            if start is not None:
                if gap is None:
                    raise FormatError(
                        f"record {n + 1} (line {start}) has no ER line before the next TY",
                        path=path,
                        where=f"line {i}",
                    )
                out.insert(gap, "ER  - ")
                n += 1
            start = i
        elif tag == "ER":
            if start is None:
                raise FormatError(
                    "ER line without a TY line before it", path=path, where=f"line {i}"
                )
            n += 1
            start = None
        if tag is not None:
            gap = None
        elif not line.strip() and gap is None:
            gap = len(out)
        out.append(line)
    if start is not None:
        raise FormatError(
            f"record {n + 1} starting at line {start} is truncated: the file ends before its ER line",
            path=path,
            where=f"line {len(lines)}",
        )
    if n == 0:
        raise FormatError("no RIS records (no TY ... ER blocks)", path=path)
    return out


def _plain(entry: dict[str, Any]) -> dict[str, Any]:
    out = dict(entry)
    if "unknown_tag" in out:
        out["unknown_tag"] = {k: list(v) for k, v in out["unknown_tag"].items()}
    return out


def to_record(entry: dict[str, Any]) -> Record:
    urls = as_list(entry.get("urls"))
    doi = doi_of(entry.get("doi"), *[u for u in urls if "doi" in u.lower()])
    ty = entry.get("type_of_reference")
    return make_record(
        title=first(entry.get("title"), entry.get("primary_title"), entry.get("translated_title")),
        abstract=first(entry.get("abstract"), entry.get("notes_abstract")),
        authors=split_authors(first(entry.get("authors"), entry.get("first_authors")) or []),
        year=first(entry.get("year"), entry.get("publication_year"), entry.get("date")),
        doi=doi,
        venue=first(
            entry.get("secondary_title") if ty not in {"BOOK"} else None,
            entry.get("journal_name"),
            entry.get("alternate_title3"),
            entry.get("alternate_title1"),
            entry.get("alternate_title2"),
            entry.get("tertiary_title"),
        ),
        volume=entry.get("volume"),
        issue=entry.get("number"),
        pages=join_pages(entry.get("start_page"), entry.get("end_page")),
        language=entry.get("language"),
        record_type=ty,
        url=first(*[u for u in urls if "doi" not in u.lower()], *urls),
        keywords=as_list(entry.get("keywords")),
        isbn=entry.get("issn") if ty in {"BOOK", "CHAP", "EBOOK", "ECHAP"} else None,
        source_record_id=first(entry.get("id"), entry.get("accession_number")),
        raw=_plain(entry),
        raw_format="ris",
    )


def read(text: str, path: str) -> list[Record]:
    import rispy

    lines = check_structure(_normalise(text), path)
    expected = sum(1 for ln in lines if ln.startswith("ER  -"))
    try:
        entries = rispy.RisParser(enforce_list_tags=False).parse_lines(iter(lines))
    except Exception as e:  # noqa: BLE001 - rispy raises plain exceptions on odd input
        raise FormatError(f"RIS parser failed: {e}", path=path) from e
    if len(entries) != expected:
        raise FormatError(f"parsed {len(entries)} of {expected} RIS records", path=path)
    return [to_record(entry) for entry in entries]


def source_name(text: str) -> str | None:
    m = re.search(r"^DB\s{1,3}-\s*(.+)$", text[:20000], re.MULTILINE)
    return m.group(1).strip() if m else None
