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
from ..models import Record
from ..store.workspace import Workspace
from . import documents as docs
from .batch import AddResult, BatchSpec, ReadDocument, add_documents
from .pdf_fields import (
    document_doi,
    document_kind,
    front_matter,
    front_year,
    section_abstract,
    title_and_authors,
)

DEFAULT_SOURCE = "PDF reports"
__all__ = ["AddResult", "PdfDocument", "add_pdfs", "pdf_record", "read_pdf"]


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
    kind: dict[str, str] = field(default_factory=dict)  # record_type, degree, institution
    warnings: tuple[str, ...] = ()  # no text layer, title from the file name

    @property
    def text(self) -> str:
        return "\n\f".join(self.pages)


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
        no_text: list[int] = []
        for i in range(doc.page_count):
            try:
                page = doc.load_page(i)
                text = _clean_page(page.get_text("text"))
                if sum(c.isalnum() for c in text) < 3:
                    no_text.append(i)
                    text = _ocr(page) or text
                pages.append(text)
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
    page_title, page_authors = title_and_authors(pages)
    title = _plausible_title(meta.get("title"), p) or heading or page_title
    author = meta.get("author", "")
    meta_authors = (author,) if author and _plausible_title(author, p) and len(author) > 8 else ()
    authors: tuple[str, ...] = meta_authors or page_authors
    warnings = []
    if no_text:
        how = "read by OCR (Tesseract)" if _tesseract() else "install Tesseract to OCR them"
        warnings.append(f"no text layer: {len(no_text)} of {len(pages)} pages ({how})")
    if title is None:
        warnings.append(
            "no title in the metadata or on the first page: title taken from the file name"
        )
    return PdfDocument(
        path=p,
        sha256=docs.sha256_file(p),
        pages=tuple(pages),
        metadata=meta,
        title=title,
        year=front_year(pages, docs.find_year) or _meta_year(meta),
        doi=document_doi(meta, pages),
        isbn=docs.find_isbn(front_matter(pages, 3)),
        language=docs.detect_language(text),
        authors=authors,
        kind=document_kind(pages),
        warnings=tuple(warnings),
    )


def _tesseract() -> bool:
    import shutil

    return shutil.which("tesseract") is not None


def _ocr(page: Any) -> str | None:
    """OCR text of an image-only page through PyMuPDF + Tesseract, when Tesseract is installed."""
    if not _tesseract():
        return None
    try:
        tp = page.get_textpage_ocr(full=True, dpi=200)
        return _clean_page(page.get_text("text", textpage=tp)) or None
    except Exception:  # noqa: BLE001 - OCR is optional: no tessdata, unsupported image
        return None


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
    """The record of a PDF: the abstract is the Abstract/Summary section when there is one, else
    the first prose of the front pages; theses and reports keep degree and institution."""
    abstract = section_abstract(pdf.pages) or _abstract(front_matter(pdf.pages, 4))
    kind = {k: v for k, v in pdf.kind.items() if k != "record_type"}
    return Record(
        title=pdf.title or pdf.path.stem,
        abstract=abstract,
        authors=pdf.authors,
        year=pdf.year,
        doi=pdf.doi,
        isbn=pdf.isbn,
        language=pdf.language,
        record_type=pdf.kind.get("record_type", "report"),
        url=url,
        source_record_id=url or pdf.path.name,
        file_sha256=pdf.sha256,
        raw={**pdf.metadata, "file_name": pdf.path.name},
        raw_format="pdf-metadata",
        extra={"pages": len(pdf.pages), "file_name": pdf.path.name, **kind},
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
    """Add PDFs (files or folders) to the "other" arm as one logged batch (see batch.py).

    Bad files raise ``FormatError`` (naming each one) and nothing is stored, unless ``skip_bad``.
    A file whose SHA-256 is already stored adds no second record. Image-only pages are reported
    in ``warnings`` (and read by OCR when Tesseract is installed).
    """
    files = docs.iter_files(paths, (".pdf",))
    if not files:
        raise HarvestError("no PDF files found", path=", ".join(map(str, paths)))
    if url and len(files) > 1:
        raise HarvestError("--url names one document; give one PDF with it")

    def read(f: Path) -> ReadDocument:
        pdf = read_pdf(f)
        return ReadDocument(
            path=pdf.path,
            sha256=pdf.sha256,
            record=pdf_record(pdf, url=url),
            kind="pdf",
            text=pdf.text,
            language=pdf.language,
            meta=pdf.metadata,
            suffix=".pdf",
            pages=pdf.pages,
            warnings=pdf.warnings,
        )

    spec = BatchSpec(
        what="PDFs",
        search_kind="pdf",
        default_kind="organisation",
        tool="pymupdf",
        tool_version=str(getattr(_fitz(), "VersionBind", "") or ""),
    )
    log_name = ", ".join(sorted({f.name for f in files}))
    return add_documents(
        ws,
        files,
        read,
        spec,
        source=source,
        kind=kind,
        url=url,
        skip_bad=skip_bad,
        log_name=log_name,
    )
