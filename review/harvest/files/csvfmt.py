"""CSV/TSV exports: Scopus, Web of Science (tab-delimited), IEEE Xplore, SpringerLink, PubMed and
generic tables, mapped by column name (case-insensitive). An ``ID``/``id``/``record_id`` column
becomes the record's ``source_record_id``."""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from ...errors import FormatError
from ...models import Record
from .common import as_list, clean, doi_of, first, join_pages, make_record, split_authors

COLUMNS: dict[str, tuple[str, ...]] = {
    "title": (
        "title",
        "document title",
        "item title",
        "article title",
        "ti",
        "primary title",
        "paper title",
        "titles",
    ),
    "abstract": ("abstract", "ab", "abstract note", "summary", "description"),
    "authors": (
        "authors",
        "author",
        "author(s)",
        "author full names",
        "af",
        "au",
        "creators",
        "author names",
    ),
    "year": (
        "year",
        "publication year",
        "py",
        "pub year",
        "publication_year",
        "publication date",
        "date",
        "pubyear",
        "originalpaperdate",
    ),
    "doi": ("doi", "item doi", "di", "doi link", "originalpaperdoi"),
    "venue": (
        "source title",
        "journal",
        "publication title",
        "journal/book",
        "so",
        "publication",
        "journal title",
        "venue",
        "source",
        "booktitle",
        "container-title",
        "secondary title",
        "publication name",
    ),
    "volume": ("volume", "vl", "journal volume"),
    "issue": ("issue", "number", "is", "journal issue"),
    "pages": ("pages", "page", "page range"),
    "start_page": ("page start", "start page", "bp", "first page"),
    "end_page": ("page end", "end page", "ep", "last page"),
    "keywords": (
        "author keywords",
        "keywords",
        "de",
        "ieee terms",
        "mesh terms",
        "mesh_terms",
        "subject",
        "index keywords",
        "id",
    ),
    "url": ("url", "link", "pdf link", "urls"),
    "language": ("language", "language of original document", "la", "lang"),
    "record_type": (
        "document type",
        "content type",
        "entrytype",
        "type",
        "dt",
        "publication type",
        "record_type",
        "item type",
        "articletype",
    ),
    "pmid": ("pmid", "pubmed id", "pm"),
    "isbn": ("isbn", "isbns", "bn"),
    "issn": ("issn", "sn", "eissn"),
    "database": ("database",),
    "publisher": ("publisher", "pu"),
    "series": ("series",),
    "pmcid": ("pmcid", "pmc"),
    "id": (
        "source_record_id",
        "id",
        "record_id",
        "record id",
        "recordid",
        "key",
        "citation_key",
        "eid",
        "ut",
        "unique-id",
        "accession number",
        "an",
    ),
}
_FUNDING = "Funding Text 1"
_PUBMED_CITATION = re.compile(r";\s*([^():;\s]+)(?:\(([^)]+)\))?:\s*([\w-]+)")
_NEUTRALISED = ("=", "+", "-", "@", "\t", "\r")
WOS_TAGS = {"pt", "au", "ti", "so", "py", "ut"}


def looks_like(text: str) -> bool:
    first_line = text.split("\n", 1)[0]
    return any(d in first_line for d in (",", "\t", ";")) and bool(_header_map(_header(text)))


def _delimiter(text: str, path: str) -> str:
    line = text.split("\n", 1)[0]
    if path.lower().endswith((".tsv", ".tab")) or line.count("\t") > max(line.count(","), 0):
        return "\t"
    if line.count(";") > line.count(","):
        return ";"
    return ","


def _header(text: str, path: str = "") -> list[str]:
    reader = csv.reader(text.split("\n", 1)[:1], delimiter=_delimiter(text, path))
    return next(reader, [])


def _header_map(header: list[str]) -> dict[str, str]:
    """{our field: column name} for the columns we recognise."""
    lower = {h.strip().lstrip("\ufeff").lower(): h for h in header}
    tab_tags = WOS_TAGS <= set(lower)
    out: dict[str, str] = {}
    for field, names in COLUMNS.items():
        for name in names:
            if field == "keywords" and name == "id" and not tab_tags:
                continue
            if field == "id" and name in {"id"} and tab_tags:
                continue  # WoS 'ID' = Keywords Plus
            if name in lower:
                out[field] = lower[name]
                break
    if "title" not in out:
        return {}
    return out


def flavour(header: list[str]) -> tuple[str, str | None]:
    """(format name, default source name) from the header."""
    h = {c.strip().lstrip("\ufeff").lower() for c in header}
    if WOS_TAGS <= h:
        return "wos-tsv", "Web of Science"
    if "eid" in h or ("source title" in h and "link" in h):
        return "scopus-csv", "Scopus"
    if "document title" in h or "ieee terms" in h or "pdf link" in h:
        return "ieee-csv", "IEEE Xplore"
    if "item title" in h and "item doi" in h:
        return "springer-csv", "SpringerLink"
    if "pmid" in h and ("journal/book" in h or "citation" in h):
        return "pubmed-csv", "PubMed"
    return "csv", None


_SPRINGER_SPLIT = re.compile(r"(?<=[a-z\u00e0-\u00ff.])(?<!\bMc)(?<!\bMac)(?=[A-Z])")


def _springer_authors(value: str | None) -> tuple[str, ...]:
    """SpringerLink glues names together: 'Andy SmithTom Weber'."""
    return tuple(a.strip() for a in _SPRINGER_SPLIT.split(value or "") if a.strip())


def row_record(row: dict[str, Any], cols: dict[str, str], fmt: str) -> Record:
    def get(field: str) -> Any:
        col = cols.get(field)
        value = row.get(col) if col else None
        if isinstance(value, str) and value[:1] == "'" and value[1:2] in _NEUTRALISED:
            return value[1:]  # a cell our CSV export made inert for spreadsheets ('=...)
        return value

    authors_raw = get("authors")
    if fmt == "springer-csv":
        authors = _springer_authors(clean(authors_raw))
    else:
        authors = split_authors(authors_raw)
    kw_raw = clean(get("keywords"))
    sep = ";" if ";" in (kw_raw or "") else r"[;|]"
    keywords = [k.strip() for k in re.split(sep, kw_raw or "") if k.strip()]
    volume, issue, pages = get("volume"), get("issue"), get("pages")
    if fmt == "pubmed-csv" and not volume:  # "Nature. 2021 Dec 21;1(2):10-11. doi: ..."
        m = _PUBMED_CITATION.search(str(row.get("Citation") or ""))
        if m:
            volume, issue, pages = m.group(1), issue or m.group(2), pages or m.group(3)
    return make_record(
        title=get("title"),
        abstract=get("abstract"),
        authors=authors,
        year=get("year"),
        doi=doi_of(get("doi")),
        venue=get("venue"),
        volume=volume,
        issue=issue,
        pages=first(clean(pages), join_pages(get("start_page"), get("end_page"))),
        language=get("language"),
        record_type=get("record_type"),
        url=first(*as_list(get("url"))),
        pmid=get("pmid"),
        isbn=get("isbn"),
        issn=get("issn"),
        database=get("database"),
        extra={k: v for k in ("publisher", "series", "pmcid") if (v := clean(get(k)))},
        keywords=keywords,
        source_record_id=first(clean(get("id")), clean(get("pmid"))),
        raw={k: v for k, v in row.items() if k is not None and v not in (None, "")},
        raw_format=fmt,
    )


def read(
    text: str, path: str, warnings: list[str] | None = None
) -> tuple[list[Record], str, str | None]:
    """Records, format name and default source name."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    delim = _delimiter(text, path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as e:
        raise FormatError("empty or unreadable CSV header", path=path, where="line 1") from e
    try:
        return read_rows(header, reader, path, warnings=warnings)
    except csv.Error as e:
        raise FormatError(f"malformed CSV ({e})", path=path, where=f"line {reader.line_num}") from e


def read_rows(
    header: list[str],
    rows: Iterable[Sequence[str]],
    path: str,
    *,
    header_at: str = "line 1",
    generic: str = "csv",
    warnings: list[str] | None = None,
) -> tuple[list[Record], str, str | None]:
    """Records from a header and its data rows (CSV lines or spreadsheet rows), mapped by the
    same column names; format name and default source name as for :func:`read` (``generic``
    names a table no vendor header was recognised in)."""
    header = [h.strip().lstrip("\ufeff") for h in header]
    cols = _header_map(header)
    if not cols:
        raise FormatError(
            f"no title column (looked for {', '.join(COLUMNS['title'][:4])}, ...; "
            f"found {', '.join(header[:8])})",
            path=path,
            where=header_at,
        )
    fmt, source = flavour(header)
    fmt = generic if fmt == "csv" else fmt
    records: list[Record] = []
    ragged: list[str] = []
    realigned = 0
    for n, values in enumerate(rows, 2):
        if not any(v.strip() for v in values):
            continue
        names = header
        if len(values) > len(header) and _FUNDING in header:
            # Scopus writes "Funding Text 2, 3 ..." values its header lacks: realign the row
            i = header.index(_FUNDING) + 1
            more = [f"Funding Text {j + 2}" for j in range(len(values) - len(header))]
            names = [*header[:i], *more, *header[i:]]
            realigned += 1
        elif len(values) != len(header):
            ragged.append(f"row {n}: {len(values)} fields")
        row: dict[str, Any] = dict(zip(names, values, strict=False))
        if len(values) > len(names):
            row["_extra_fields"] = list(values[len(names) :])
        records.append(row_record(row, cols, fmt))
    if not records:
        raise FormatError("no data rows", path=path)
    if realigned and warnings is not None:
        warnings.append(
            f"{path}: {realigned} row(s) carry more 'Funding Text' columns than the header "
            f"names (a Scopus export quirk); realigned"
        )
    if ragged and warnings is not None:
        rest = f" (and {len(ragged) - 10} more)" if len(ragged) > 10 else ""
        warnings.append(
            f"{path}: {len(ragged)} ragged row(s), the header has {len(header)} fields: "
            + "; ".join(ragged[:10])
            + rest
            + " - short rows leave later columns empty, long rows' extra fields are kept in raw"
        )
    return records, fmt, source
