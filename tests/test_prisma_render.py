"""PRISMA diagram output: SVG text, SVG -> PNG/PDF through PyMuPDF, HTML tooltips, CLI formats."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from test_prisma import add, build_full, decide

from review import prisma
from review.cli import cli
from review.prisma.render import render, svg_to_png, to_html
from review.prisma.svg import to_svg
from review.prisma.text import text_width, wrap_text

fitz = pytest.importorskip("pymupdf")

SVG_NS = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # well-formed XML (names are escaped)
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


def test_svg_contains_every_number_and_labels(ws):
    build_full(ws)
    f = prisma.compute(ws)
    texts = _texts(to_svg(f))
    joined = " ".join(texts)
    for label in ("Identification", "Screening", "Included"):
        assert label in texts
    for s in (
        "Databases (n = 17)",
        "OpenAlex (n = 12)",
        "Registers (n = 2)",
        "Records screened (n = 16)",
        "Records excluded (n = 6)",
        "Reports sought for retrieval (n = 10)",  # the maybe is a vote to go on (issue 12)
        "Reports not retrieved (n = 2)",
        "Reports assessed for eligibility (n = 7)",
        "Reports excluded (n = 3)",
        "E3 (n = 2)",
        "Websites (n = 4)",
        "Organisations (n = 3)",
        "Reports sought for retrieval (n = 5)",
        "Studies included in review (n = 6)",
    ):
        assert s in joined, s
    # the title/abstract reasons only when asked
    assert "E1 (n = 4)" not in texts
    assert "E1 (n = 4)" in _texts(to_svg(prisma.compute(ws, reasons_at_screening=True)))


def test_names_are_xml_escaped(ws):
    add(ws, 'Smith & Jones <"index">', "databases", "file", 2)
    svg = to_svg(prisma.compute(ws))
    assert 'Smith &amp; Jones &lt;"index"&gt; (n = 2)' in svg
    ET.fromstring(svg)


def test_text_fits_its_box():
    for line in wrap_text("A" * 80 + " and some words (n = 1,234) that go on and on", 180):
        assert text_width(line) <= 180
    assert "(n = 1,234)" in " ".join(wrap_text("Reports sought for retrieval (n = 1,234)", 120))


def test_png_is_rendered_and_not_blank(ws):
    build_full(ws)
    svg = to_svg(prisma.compute(ws))
    png = svg_to_png(svg, dpi=72)
    pix = fitz.Pixmap(png)
    w, h = (float(x) for x in re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())  # type: ignore[union-attr]
    assert (
        abs(pix.width - w) <= 2 and abs(pix.height - h) <= 2
    )  # MuPDF: 1 SVG unit = 1 pt; 72 dpi = 1 px per unit
    samples = pix.samples
    values = samples[:: pix.n]  # first channel
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / len(values)
    assert var > 100  # black text and lines on white, coloured headers
    assert 200 < mean < 255  # mostly white, not all white
    big = fitz.Pixmap(svg_to_png(svg, dpi=144))
    assert big.width == pytest.approx(2 * pix.width, abs=3)


def test_pdf_has_real_text(ws):
    build_full(ws)
    pdf = render(prisma.compute(ws), ".pdf")
    with fitz.open(stream=pdf, filetype="pdf") as doc:
        text = doc[0].get_text()
    assert "Records screened (n = 16)" in text
    assert "Identification of new studies via other methods" in text


def test_html_tooltips_name_the_queries(ws):
    build_full(ws)
    html = to_html(prisma.compute(ws))
    assert "<title>records_screened: Records screened" in html
    assert "dbr_excluded_reasons: Full-text exclusion reasons" in html
    assert html.count("<title>") > 15


def test_cli_writes_every_format(ws, db_path, tmp_path):
    w = add(ws, "OpenAlex", "databases", "openalex", 3)
    decide(ws, w[0], "title-abstract", "include")
    add(ws, "UNDP Accelerator Labs", "other", "web", 2)
    for ext in ("svg", "pdf", "png", "html", "csv"):
        out = tmp_path / f"prisma.{ext}"
        args = ["prisma", "-o", str(out), "--db", db_path] + (
            ["--dpi", "72"] if ext == "png" else []
        )
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 0, r.output
        assert out.stat().st_size > 500, ext
    assert (tmp_path / "prisma.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "prisma.pdf").read_bytes()[:5] == b"%PDF-"
