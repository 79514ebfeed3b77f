"""Gray-literature PDFs: read with PyMuPDF, store a copy, one record + document per file.

``read_pdf(path)`` is pure (no workspace): text per page, page count, metadata, a plausible title,
year, DOI, ISBN and language. ``add_pdfs(ws, paths)`` reads every file first, then stores each
good one in its own transaction, so a bad file never leaves half a record behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FormatError, HarvestError
from ..models import Record, normalize_doi
from ..store.records import add_records, start_search
from ..store.workspace import Workspace
from . import documents as docs

DEFAULT_SOURCE = "PDF reports"
_DOI_TEXT_RE = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+", re.I)


@dataclass(frozen=True)
class PdfDocument:
    path: Path
    sha256: str
    pages: tuple[str, ...]
    metadata: dict[str, Any]
    title: str | None
    year: int | None
    doi: str | None
    isbn: str | None
    language: str | None
    authors: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n\f".join(self.pages)


@dataclass
class AddResult:
    """What one gray-literature batch did (also logged as a ``searches`` row)."""

    search_id: int | None = None
    added: list[int] = field(default_factory=list)  # record ids
    duplicates: list[str] = field(default_factory=list)  # file paths already stored
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    found: int = 0


def _fitz() -> Any:
    try:
        import pymupdf
    except ImportError:  # pragma: no cover - older PyMuPDF
        import fitz as pymupdf  # type: ignore[no-redef]
    return pymupdf


def read_pdf(path: str | Path) -> PdfDocument:
    """Extract everything we keep from one PDF; ``FormatError`` names the file (and page)."""
    p = Path(path)
    if not p.is_file():
        raise FormatError("no such file", path=str(p))
    pymupdf = _fitz()
    with p.open("rb") as f:
        head = f.read(1024)
        f.seek(max(0, p.stat().st_size - 4096))
        tail = f.read()
    if b"%PDF-" not in head:
        raise FormatError("not a PDF (no %PDF- header)", path=str(p))
    if b"%%EOF" not in tail:
        raise FormatError(
            "corrupt PDF: the file is truncated (no %%EOF marker at its end)", path=str(p)
        )
    try:
        doc = pymupdf.open(str(p), filetype="pdf")
    except Exception as e:  # noqa: BLE001 - PyMuPDF raises FileDataError/RuntimeError/ValueError
        raise FormatError(f"corrupt PDF: {e}", path=str(p)) from e
    try:
        if doc.needs_pass:
            raise FormatError("encrypted PDF: a password is needed to read it", path=str(p))
        if doc.page_count == 0:
            raise FormatError("corrupt PDF: no readable pages", path=str(p))
        pages: list[str] = []
        for i in range(doc.page_count):
            try:
                pages.append(_clean_page(doc.load_page(i).get_text("text")))
            except Exception as e:  # noqa: BLE001
                raise FormatError(
                    f"cannot read page: {e}", path=str(p), where=f"page {i + 1}"
                ) from e
        meta = {k: v for k, v in (doc.metadata or {}).items() if v}
        try:
            heading = _largest_text(doc.load_page(0))
        except Exception:  # noqa: BLE001 - a title guess is optional
            heading = None
    finally:
        doc.close()
    text = "\n".join(pages)
    first = "\n".join(pages[:2])
    title = _plausible_title(meta.get("title"), p) or heading
    doi_m = _DOI_TEXT_RE.search(text)
    year = docs.find_year(pages[0]) or docs.find_year(text) or _meta_year(meta)
    author = meta.get("author", "")
    authors = (author,) if author and _plausible_title(author, p) and len(author) > 8 else ()
    return PdfDocument(
        path=p,
        sha256=docs.sha256_file(p),
        pages=tuple(pages),
        metadata=meta,
        title=title,
        year=year,
        doi=normalize_doi(doi_m.group(0)) if doi_m else None,
        isbn=docs.find_isbn(first) or docs.find_isbn(text),
        language=docs.detect_language(text),
        authors=authors,
    )


def _clean_page(text: str) -> str:
    lines = [ln.rstrip() for ln in text.splitlines()]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def _meta_year(meta: dict[str, Any]) -> int | None:
    for key in ("creationDate", "modDate"):
        m = re.match(r"D:(\d{4})", str(meta.get(key, "")))
        if m and 1950 <= int(m.group(1)) <= 2049:
            return int(m.group(1))
    return None


_BAD_TITLE = re.compile(
    r"^(microsoft (word|powerpoint|excel)\b|untitled|document\d*$|title$|slide \d+$|"
    r"(pdf|doc|docx|xls|xlsx|ppt|pptx|exe|tmp|txt|rtf|indd|qxd)$)",
    re.I,
)


def _plausible_title(value: Any, path: Path) -> str | None:
    """A metadata title worth keeping: not empty, not a file name, not an authoring-tool default."""
    if not value or not isinstance(value, str):
        return None
    t = " ".join(value.split()).strip()
    if len(t) < 4 or sum(c.isalpha() for c in t) < 3:
        return None
    if _BAD_TITLE.match(t) or re.search(
        r"\.(pdf|docx?|xlsx?|pptx?|exe|tmp|txt|rtf|indd|qxd)$", t, re.I
    ):
        return None
    if (
        t.lower() in {path.name.lower(), path.stem.lower()}
        or re.fullmatch(r"[\w\-.]+", t)
        and "_" in t
    ):
        return None
    return t


def _largest_text(page: Any) -> str | None:
    """The first page's text set in the largest font (a title guess when metadata has none).

    Takes the first run of up to three consecutive lines in the largest size; when the whole page
    is one size there is no heading and the guess is None.
    """
    lines: list[tuple[float, str]] = []
    for block in page.get_text("dict").get("blocks", []):
        for line in block.get("lines", []):
            spans = [s for s in line.get("spans", []) if s.get("text", "").strip()]
            t = " ".join(s["text"].strip() for s in spans)
            if sum(c.isalpha() for c in t) >= 2:
                lines.append((round(max(float(s.get("size", 0)) for s in spans), 1), t))
    if not lines:
        return None
    biggest = max(s for s, _ in lines)
    big = [i for i, (s, _) in enumerate(lines) if s >= biggest - 0.5]
    if len(big) > max(3, len(lines) // 3):
        return None
    run = [lines[big[0]][1]]
    for i in range(big[0] + 1, min(big[0] + 3, len(lines))):
        if i not in big:
            break
        run.append(lines[i][1])
    title = " ".join(" ".join(run).split())
    if len(title) > 250:
        title = title[:250].rsplit(" ", 1)[0]
    return title or None


def pdf_record(pdf: PdfDocument, *, url: str | None = None) -> Record:
    text = pdf.text
    abstract = _abstract(text)
    return Record(
        title=pdf.title or pdf.path.stem,
        abstract=abstract,
        authors=pdf.authors,
        year=pdf.year,
        doi=pdf.doi,
        isbn=pdf.isbn,
        language=pdf.language,
        record_type="report",
        url=url,
        source_record_id=url or pdf.path.name,
        file_sha256=pdf.sha256,
        raw={**pdf.metadata, "file_name": pdf.path.name},
        raw_format="pdf-metadata",
        extra={"pages": len(pdf.pages), "file_name": pdf.path.name},
    )


def _abstract(text: str, limit: int = 1200) -> str | None:
    """The first prose-like paragraph(s) of the text, as a screening aid."""
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    out: list[str] = []
    size = 0
    for p in paras:
        letters = [c for c in p if c.isalpha()]
        if len(p.split()) < 12 or not re.search(r"\w[.!?]( |$)", p) or len(letters) < 0.6 * len(p):
            continue
        if sum(c.isupper() for c in letters) > 0.4 * len(letters):
            continue
        out.append(p)
        size += len(p)
        if size >= 300 or len(out) >= 2:
            break
    if not out:
        return None
    a = "\n\n".join(out)
    return a if len(a) <= limit else a[:limit].rsplit(" ", 1)[0] + " …"


def add_pdfs(
    ws: Workspace,
    paths: Iterable[str | Path],
    *,
    source: str | None = None,
    kind: str | None = None,
    url: str | None = None,
    skip_bad: bool = False,
) -> AddResult:
    """Add PDFs (files or folders) to the "other" arm as one logged batch.

    Every file is read before anything is written. Bad files raise ``FormatError`` (naming each
    one) and nothing is stored, unless ``skip_bad``: then the good files are stored and the bad ones
    returned in ``failed``. A file whose SHA-256 is already stored adds no second record.
    """
    files = docs.iter_files(paths, (".pdf",))
    if not files:
        raise HarvestError("no PDF files found", path=", ".join(map(str, paths)))
    if url and len(files) > 1:
        raise HarvestError("--url names one document; give one PDF with it")
    result = AddResult()
    parsed: list[PdfDocument] = []
    errors: list[FormatError] = []
    for f in files:
        try:
            parsed.append(read_pdf(f))
        except FormatError as e:
            errors.append(e)
            result.failed.append((str(f), str(e)))
    if errors and not skip_bad:
        if len(errors) == 1:
            raise errors[0]
        listing = "; ".join(msg for _, msg in result.failed)
        raise FormatError(
            f"{len(result.failed)} of {len(files)} PDFs are bad ({listing}); "
            "fix or remove them, or use --skip-bad to add the good ones"
        )
    src_name, src_kind = _source(ws, source, kind, default_kind="organisation")
    result.found = len(parsed)
    result.search_id = start_search(
        ws,
        source=src_name,
        arm="other",
        kind="pdf",
        query=None,
        file_name=", ".join(sorted({f.name for f in files}))[:2000],
        tool="pymupdf",
        tool_version=str(getattr(_fitz(), "VersionBind", "") or ""),
        params={"source_kind": src_kind, "url": url, "files": len(files), "failed": result.failed},
    )
    seen = docs.known_sha256(ws)
    with docs.logged_batch(ws, result.search_id, result):
        for pdf in parsed:
            if pdf.sha256 in seen:
                result.duplicates.append(str(pdf.path))
                continue
            with ws.transaction():
                ids = add_records(
                    ws, result.search_id, [pdf_record(pdf, url=url)], skip_existing=False
                )
                rel = docs.store_file(ws, pdf.path, pdf.sha256, ".pdf")
                docs.insert_document(
                    ws,
                    record_id=ids[0],
                    kind="pdf",
                    path=rel,
                    original_name=pdf.path.name,
                    sha256=pdf.sha256,
                    text=pdf.text,
                    pages=pdf.pages,
                    language=pdf.language,
                    meta=pdf.metadata,
                )
            seen.add(pdf.sha256)
            result.added.extend(ids)
    return result


def _source(
    ws: Workspace, name: str | None, kind: str | None, *, default_kind: str
) -> tuple[str, str]:
    """Source name and kind: --source/--kind, else the protocol's matching source, else defaults."""
    proto = ws.protocol()
    src = proto.source(name) if proto and name else None
    if src is not None and src.arm != "other":
        raise HarvestError(
            f"source {name!r} is in the {src.arm!r} arm; gray literature goes to 'other' "
            "(use a website or organisation source)"
        )
    resolved = kind or (
        src.kind if src and src.kind in {"website", "organisation"} else default_kind
    )
    return name or (DEFAULT_SOURCE if default_kind == "organisation" else "Web pages"), resolved
