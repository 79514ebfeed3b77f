"""Import bibliographic export files: detect the format by content (and extension) and read it.

Formats: RIS, BibTeX, PubMed/ERIC MEDLINE (nbib), Web of Science plain text, EndNote XML and
tagged text, Scopus/WoS/IEEE/Springer/PubMed/generic CSV and TSV, Excel workbooks (first sheet,
same column mapping as CSV), OpenAlex JSON and plain JSON (lines) records, and plain author–year
reference lists in .md/.txt files. ``read_file(path)`` returns Records; ``import_files(ws, paths, ...)`` stores
them, one search-log row and one transaction per file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...errors import FormatError
from ...models import Record
from ..formats import FILE_FORMATS
from . import bibtex, csvfmt, endnote, jsonfmt, medline, reflist, ris, xlsx
from .encoding import read_text_checked
from .idempotency import text_sha256

FORMATS: tuple[str, ...] = FILE_FORMATS
_EXTENSIONS = {
    ".ris": "ris",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".nbib": "medline",
    ".medline": "medline",
    ".xml": "endnote-xml",
    ".enw": "endnote",
    ".enl": "endnote",
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_SOURCES = {"medline": None, "wos": "Web of Science", "openalex": "OpenAlex"}


@dataclass
class ParsedFile:
    path: Path
    format: str  # reader format: ris, bibtex, medline, wos, endnote-xml, endnote, scopus-csv, ...
    source: str  # default source name for the search log
    encoding: str
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # mixed encodings, ragged rows, ...
    text_sha256: str = ""  # idempotency.text_sha256 of the decoded text (not for workbooks)


def detect(path: str | Path, text: str) -> str:
    """The format of a file's text (content first, the extension when content is ambiguous)."""
    ext = _EXTENSIONS.get(Path(path).suffix.lower())
    if jsonfmt.looks_like(text) and ext in {None, "json"}:
        return "json"
    if endnote.looks_like_xml(text):
        return "endnote-xml"
    if ris.looks_like(text):
        return "ris"
    if medline.looks_like_wos(text):
        return "wos"
    if medline.looks_like_medline(text):
        return "medline"
    if endnote.looks_like_tagged(text):
        return "endnote"
    if bibtex.looks_like(text):
        return "bibtex"
    if csvfmt.looks_like(text):
        return "csv"
    if Path(path).suffix.lower() in reflist.EXTENSIONS and reflist.looks_like(text):
        return "reflist"
    if ext is not None:
        return ext
    raise FormatError(
        "unrecognised format (expected RIS, BibTeX, MEDLINE, Web of Science, EndNote, CSV/TSV, "
        "Excel, JSON or an author (year) reference list in .md/.txt)",
        path=str(path),
    )


def parse_file(path: str | Path, fmt: str | None = None) -> ParsedFile:
    """Read and parse one file; raises FormatError naming the file and record/line."""
    p = Path(path)
    if not p.is_file():
        raise FormatError("no such file", path=str(p))
    if fmt is not None and fmt not in FORMATS:
        raise FormatError(
            f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", path=str(p)
        )
    if fmt == "xlsx" or (fmt is None and xlsx.looks_like(p)):
        rows, sheet_fmt, sheet_source = xlsx.read(p)
        return ParsedFile(p, sheet_fmt, sheet_source or p.name, encoding="xlsx", records=rows)
    text, enc, warnings = read_text_checked(p)
    if not text.strip():
        raise FormatError("empty file", path=str(p))
    kind = fmt or detect(p, text)
    name = str(p)
    source: str | None = None
    if kind == "ris":
        records = ris.read(text, name)
        source = ris.source_name(text)
    elif kind == "bibtex":
        records = bibtex.read(text, name)
        source = bibtex.source_name(text)
    elif kind == "medline":
        records = medline.read_medline(text, name)
        source = medline.medline_source(text)
    elif kind == "wos":
        records = medline.read_wos(text, name)
        source = "Web of Science"
    elif kind == "endnote-xml":
        records = endnote.read_xml(text, name)
    elif kind == "endnote":
        records = endnote.read_tagged(text, name)
    elif kind == "csv":
        records, kind, source = csvfmt.read(text, name, warnings)
    elif kind == "reflist":
        records = reflist.read(text, name)
    else:
        records, kind = jsonfmt.read(text, name)
        source = _SOURCES.get(kind)
    return ParsedFile(p, kind, source or p.name, enc, records, warnings, text_sha256(text))


def read_file(path: str | Path, fmt: str | None = None) -> list[Record]:
    """The records of one export file."""
    return parse_file(path, fmt).records


from .importer import ImportReport, expand_paths, import_files  # noqa: E402

__all__ = [
    "FORMATS",
    "ImportReport",
    "ParsedFile",
    "detect",
    "expand_paths",
    "import_files",
    "parse_file",
    "read_file",
]
