"""RIS (rispy): every database's RIS export. A record without its ``ER`` line is truncated."""

from __future__ import annotations

import re
from typing import Any

from ...errors import FormatError
from ...models import Record, pmid_from_accession
from .common import (
    ISBN_RE,
    ISSN_RE,
    clean,
    doi_of,
    first,
    id_from_links,
    join_pages,
    make_record,
    pick,
    pick_text,
    pmid_of,
    split_authors,
)
from .vendors import (
    DATABASE_NAMES,
    OVID_DATABASES,
    PROVIDER_DATABASES,
    RIS_BOOK_TYPES,
    RIS_EXTRA,
    RIS_FIELDS,
    RIS_LIST_TAGS,
    RIS_TYPE_FIELDS,
)

# "Griffiths RR, Johnson MW, Carducci MA": surname + initials, comma-separated, on one line
_VANCOUVER_LIST = re.compile(r"[^\W\d][\w'\- ]*? [A-Z]{1,3}(?:, [^\W\d][\w'\- ]*? [A-Z]{1,3})+")
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


def _database(tags: dict[str, list[str]]) -> str | None:
    """The record's own database: Ovid's D= code in its links, else its DB tag."""
    for link in tags.get("L2", []) + tags.get("UR", []):
        m = re.search(r"ovid\.com/.*?[?&]D=([a-z]+)", link, re.IGNORECASE)
        if m:
            code = m.group(1).lower()
            for prefix in sorted(OVID_DATABASES, key=len, reverse=True):
                if code.startswith(prefix):
                    return OVID_DATABASES[prefix]
    provider = (pick_text(tags, ("DP",)) or "").upper()
    return database_name(pick_text(tags, RIS_FIELDS["database"])) or PROVIDER_DATABASES.get(
        provider
    )


def database_name(text: str | None) -> str | None:
    """A vendor's database text ('EBM Reviews - Cochrane Central Register ...') -> 'CENTRAL'."""
    if not text:
        return None
    low = text.lower()
    return next((name for key, name in DATABASE_NAMES if key in low), text)


def to_record(tags: dict[str, list[str]]) -> Record:
    """One RIS record ({tag: [values]}) mapped through the vendor tables in ``vendors.py``."""
    ty = (pick_text(tags, ("TY",)) or "GEN").upper()
    table = {**RIS_FIELDS, **RIS_TYPE_FIELDS.get(ty, {})}

    def text(name: str) -> str | None:
        return pick_text(tags, table[name])

    links = [u for t in table["url"] for u in tags.get(t, [])]
    doi = doi_of(pick(tags, table["doi"])) or doi_of(*[u for u in links if "doi" in u.lower()])
    database = _database(tags)
    authors = pick(tags, table["authors"])
    if len(authors) == 1 and _VANCOUVER_LIST.fullmatch(authors[0]):
        authors = list(split_authors(authors[0], ","))  # CENTRAL: "Griffiths RR, Johnson MW"
    accession = text("record_id")
    pmid = pmid_of(
        *[v for t in table["pmid"] for v in tags.get(t, []) if t != "U1" or v.startswith("PMID")]
    )
    # Ovid MEDLINE and PubMed accession numbers are PMIDs; Embase/PsycINFO ones are not
    pmid = pmid or pmid_from_accession(accession, database)
    pmid = pmid or pmid_of(*[u for u in links if "pubmed" in u.lower()])
    extra: dict[str, Any] = {}
    for tag, key in RIS_EXTRA.items():
        values = [v for v in tags.get(tag, []) if v.strip()]
        if values and not (tag == "M3" and doi_of(values)):
            extra[key] = values if tag in RIS_LIST_TAGS else clean(" ".join(values))
    if "series" in table:
        extra.pop("series", None)
        if series := text("series"):
            extra["series"] = series
    sns = pick(tags, table["issn"])  # SN holds an ISSN or an ISBN, whatever the type says
    isbns = [v for v in sns if ISBN_RE.search(v)]
    issns = [v for v in sns if v not in isbns and (ISSN_RE.search(v) or ty not in RIS_BOOK_TYPES)]
    isbns += [v for v in sns if v not in isbns and v not in issns]
    return make_record(
        title=text("title"),
        abstract=text("abstract"),
        authors=authors,
        year=text("year"),
        doi=doi,
        pmid=pmid,
        venue=text("venue"),
        volume=text("volume"),
        issue=text("issue"),
        pages=join_pages(text("start_page"), text("end_page")),
        language=text("language"),
        record_type=ty,
        url=first(*[u for u in links if "doi.org" not in u.lower()], *links),
        keywords=[k for t in ("KW", "DE") for v in tags.get(t, []) if (k := clean(v))],
        isbn="; ".join(isbns) or None,
        issn=issns,
        source_record_id=first(accession, id_from_links(links), text("export_id")),
        database=database,
        raw=tags,
        raw_format="ris",
        extra=extra,
    )


def read(text: str, path: str) -> list[Record]:
    import rispy

    lines = check_structure(_normalise(text), path)
    expected = sum(1 for ln in lines if ln.startswith("ER  -"))
    names = sorted({ln[:2] for ln in lines if ln[2:5] == "  -"} - {"ER"})
    mapping = {t: t for t in names} | {"UK": "UK"}  # rispy files unmatched tags under UK
    try:
        parser = rispy.RisParser(mapping=mapping, list_tags=[t for t in names if t != "TY"])
        entries = parser.parse_lines(iter(lines))
    except Exception as e:  # noqa: BLE001 - rispy raises plain exceptions on odd input
        raise FormatError(f"RIS parser failed: {e}", path=path) from e
    if len(entries) != expected:
        raise FormatError(f"parsed {len(entries)} of {expected} RIS records", path=path)
    out = []
    for entry in entries:
        unknown = entry.pop("UK", {})
        tags: dict[str, list[str]] = {}
        for k, v in [*entry.items(), *(unknown.items() if isinstance(unknown, dict) else [])]:
            values = [v] if isinstance(v, str) else list(v)
            if k is None:  # longer tags rispy cannot place ("PMID  - 33355555")
                for line in values:
                    if m := re.match(r"^([A-Z][A-Z0-9]{1,3})\s+-\s*(.*)$", line):
                        tags.setdefault(m.group(1), []).append(m.group(2).strip())
            else:
                tags.setdefault(str(k), []).extend(values)
        out.append(to_record(_join_wrapped(tags)))
    return out


def _join_wrapped(tags: dict[str, list[str]]) -> dict[str, list[str]]:
    """Untagged continuation lines: items of list tags (EndNote's KW/AD/N1), text elsewhere."""
    return {
        t: v if t in RIS_LIST_TAGS or len(v) < 2 else [" ".join(x.strip() for x in v)]
        for t, v in tags.items()
    }


def source_name(text: str) -> str | None:
    m = re.search(r"^DB\s{1,3}-\s*(.+)$", text[:20000], re.MULTILINE)
    return m.group(1).strip() if m else None
