"""Write a ``Flow`` to a file; the format follows the extension (.svg .pdf .png .html .csv).

PDF and PNG are converted from the SVG by PyMuPDF (imported lazily, so `review --help` stays fast).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from ..errors import PrismaError
from .csvfmt import to_csv
from .flow import Flow, explain
from .svg import to_svg

FORMATS = (".svg", ".pdf", ".png", ".html", ".csv")


def _fitz():  # -> module
    try:
        import pymupdf as fitz
    except ImportError:  # older PyMuPDF names the module fitz only
        try:
            import fitz  # type: ignore[no-redef]
        except ImportError as e:
            raise PrismaError("PDF/PNG output needs PyMuPDF: pip install pymupdf") from e
    return fitz


def svg_to_pdf(svg: str) -> bytes:
    fitz = _fitz()
    with fitz.open(stream=svg.encode("utf-8"), filetype="svg") as doc:
        return bytes(doc.convert_to_pdf())


def svg_to_png(svg: str, dpi: int = 200) -> bytes:
    fitz = _fitz()
    with fitz.open(stream=svg.encode("utf-8"), filetype="svg") as doc:
        pix = doc[0].get_pixmap(dpi=dpi, alpha=False)
        return bytes(pix.tobytes("png"))


def to_html(flow: Flow) -> str:
    """The SVG inline, each number with a tooltip naming its query, and the queries below."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>PRISMA 2020 flow diagram</title>"
        "<style>body{font-family:Helvetica,Arial,sans-serif;margin:2em}svg{max-width:100%;height:auto}"
        "pre{font-size:12px;white-space:pre-wrap;background:#f6f6f6;padding:1em}</style></head><body>\n"
        + to_svg(flow, tooltips=True)
        + "<p>Hover over a number to see the query behind it.</p>\n"
        + "<details><summary>All queries (review prisma --explain)</summary><pre>"
        + escape(explain(flow))
        + "</pre></details>\n</body></html>\n"
    )


def render(flow: Flow, fmt: str, *, dpi: int = 200) -> bytes:
    fmt = fmt.lower()
    if fmt == ".svg":
        return to_svg(flow).encode("utf-8")
    if fmt == ".html":
        return to_html(flow).encode("utf-8")
    if fmt == ".csv":
        return to_csv(flow).encode("utf-8")
    if fmt == ".pdf":
        return svg_to_pdf(to_svg(flow))
    if fmt == ".png":
        return svg_to_png(to_svg(flow), dpi=dpi)
    raise PrismaError(f"unknown output format {fmt or '(none)'!r}; use one of {', '.join(FORMATS)}")


def write(flow: Flow, path: str | Path, *, dpi: int = 200) -> Path:
    """Render ``flow`` in the format named by ``path``'s extension and write it."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise PrismaError(
            f"unknown output format {p.suffix or '(none)'!r}; use one of {', '.join(FORMATS)}",
            path=str(p),
        )
    data = render(flow, p.suffix, dpi=dpi)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    except OSError as e:
        raise PrismaError(f"cannot write output: {e.strerror or e}", path=str(p)) from e
    return p
