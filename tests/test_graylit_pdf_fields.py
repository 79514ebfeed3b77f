"""PDF fields from the document's own front matter: a thesis's DOI never comes from its reference
list, its abstract is the Abstract section (not the cover, declaration or acknowledgements), its
degree, institution and type are kept; an image-only PDF is reported, never silently titled.

The PDFs are written with PyMuPDF in the layout of a real thesis (cover, declaration,
acknowledgements, abstract, chapters, references) and read back by the real reader.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.cli import cli
from review.harvest.pdf import add_pdfs, pdf_record, read_pdf

LOREM = (
    "Smart city programmes in Southern Africa are studied through interviews with municipal "
    "officials and residents of informal settlements in Lusaka and Maputo. "
)
PAGES = [
    "Digital Infrastructure and Informal Settlements in Lusaka\n\nby\n\nMulenga Banda\n\n"
    "A thesis submitted in fulfilment of the requirements for the degree of\n"
    "Doctor of Philosophy\n\nUniversity of Cape Town\nFaculty of Engineering\n\n2021",
    "Declaration\n\nI declare that this thesis is my own unaided work. It is being submitted for "
    "the degree of Doctor of Philosophy at the University of Cape Town. It has not been "
    "submitted before for any degree or examination at any other university.",
    "Acknowledgements\n\nI thank my supervisors, my family and the residents of Kanyama who "
    "gave their time generously to this study over three years of fieldwork and many visits.",
    "Abstract\n\nThis thesis examines how digital infrastructure reaches informal settlements "
    "in Lusaka. Using mixed methods, it finds that mobile money and community Wi-Fi matter "
    "more than municipal platforms.\n\nKeywords: smart cities; Zambia; informality\n\n"
    "Table of Contents\n\n1 Introduction ........ 1",
    "1 Introduction\n\n" + LOREM * 6,
    "2 Literature review\n\n" + LOREM * 6,
    "References\n\nAbrahamsen, R. (2019). Urban futures. Journal of Modern African Studies, "
    "57(2), 1-20. https://doi.org/10.1017/S0022278X19000016\n\n"
    "Banda, M. (2018). Book chapter. doi:10.1007/978-3-319-99999-9_4",
]


def _pdf(path: Path, pages: list[str], meta: dict[str, str] | None = None) -> Path:
    import pymupdf

    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page()
        page.insert_textbox(pymupdf.Rect(56, 56, 540, 790), text, fontsize=10)
    doc.set_metadata(meta or {})
    doc.save(str(path))
    doc.close()
    return path


def _image_only(path: Path, n: int) -> Path:
    import pymupdf

    doc = pymupdf.open()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 60, 40), False)
    pix.clear_with(200)
    for _ in range(n):
        page = doc.new_page()
        page.insert_image(pymupdf.Rect(50, 50, 550, 780), pixmap=pix)
    doc.save(str(path))
    doc.close()
    return path


@pytest.fixture
def thesis(tmp_path: Path) -> Path:
    return _pdf(tmp_path / "banda-thesis.pdf", PAGES)


def test_thesis_doi_never_comes_from_the_reference_list(thesis: Path):
    assert read_pdf(thesis).doi is None


def test_doi_on_the_title_page_is_kept(tmp_path: Path):
    pages = [PAGES[0] + "\n\nhttps://doi.org/10.25375/uct.12345678", *PAGES[1:]]
    assert read_pdf(_pdf(tmp_path / "t.pdf", pages)).doi == "10.25375/uct.12345678"


def test_doi_from_metadata(tmp_path: Path):
    pdf = _pdf(tmp_path / "m.pdf", PAGES, {"subject": "doi:10.1234/meta.5", "title": "A title"})
    assert read_pdf(pdf).doi == "10.1234/meta.5"


def test_abstract_is_the_abstract_section(thesis: Path):
    rec = pdf_record(read_pdf(thesis))
    assert rec.abstract is not None
    assert rec.abstract.startswith("This thesis examines how digital infrastructure")
    assert rec.abstract.endswith("municipal platforms.")
    assert "declare" not in rec.abstract and "supervisors" not in rec.abstract


def test_thesis_degree_institution_and_type(thesis: Path):
    rec = pdf_record(read_pdf(thesis))
    assert rec.record_type == "thesis"
    assert rec.extra["degree"] == "Doctor of Philosophy"
    assert rec.extra["institution"] == "University of Cape Town"
    assert rec.year == 2021


def test_thesis_title_and_author_from_the_title_page(thesis: Path):
    doc = read_pdf(thesis)
    assert doc.title == "Digital Infrastructure and Informal Settlements in Lusaka"
    assert doc.authors == ("Mulenga Banda",)
    assert not any("file name" in w for w in doc.warnings)


def test_year_not_taken_from_deep_pages(tmp_path: Path):
    pages = ["A report on smart water meters", LOREM, LOREM, "Annex\n\nData from 1987."]
    assert read_pdf(_pdf(tmp_path / "r.pdf", pages)).year is None


def test_image_only_pdf_is_reported(ws, tmp_path: Path):
    pdf = _image_only(tmp_path / "scan.pdf", 3)
    doc = read_pdf(pdf)
    if shutil.which("tesseract"):
        pytest.skip("tesseract installed: the pages get OCR text")
    assert doc.warnings[0] == "no text layer: 3 of 3 pages (install Tesseract to OCR them)"
    result = add_pdfs(ws, [pdf])
    assert any("no text layer: 3 of 3 pages" in w for w in result.warnings)
    assert any("title taken from the file name" in w for w in result.warnings)


def test_cli_reports_image_only_pages(db_path: str, tmp_path: Path):
    if shutil.which("tesseract"):
        pytest.skip("tesseract installed: the pages get OCR text")
    pdf = _image_only(tmp_path / "scan.pdf", 2)
    r = CliRunner().invoke(cli, ["add-pdf", str(pdf), "--db", db_path])
    assert r.exit_code == 0, r.output
    assert "no text layer: 2 of 2 pages" in r.output
