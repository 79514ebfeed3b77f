"""add-pdf: real PDFs through PyMuPDF into a real workspace; bad PDFs change nothing."""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, shared_path

from review.cli import cli
from review.errors import FormatError
from review.harvest.pdf import add_pdfs, read_pdf

PDFS = DATA / "pdfs"
FRENCH = PDFS / "2023-06-20-PV.pdf"
SCOTUS = PDFS / "scotus-transcript-p1.pdf"


def _dump(ws) -> list[str]:
    return list(ws.db.conn.iterdump())


def _words(text: str) -> list[str]:
    return [w for w in text.split() if not w.isdigit()]


def test_read_pdf_text_matches_ground_truth():
    pdf = read_pdf(SCOTUS)
    assert len(pdf.pages) == 1
    truth = (PDFS / "scotus-transcript-p1.txt").read_text("utf-8")
    ratio = difflib.SequenceMatcher(None, _words(pdf.text), _words(truth), autojunk=False).ratio()
    assert ratio > 0.9, ratio
    assert pdf.title is None  # metadata title "10811.exe" is a file name, and no heading stands out
    assert pdf.year == 2009
    assert pdf.language == "en"


def test_french_record_keeps_language_and_metadata_title():
    pdf = read_pdf(FRENCH)
    assert len(pdf.pages) == 2
    assert pdf.language == "fr"
    assert pdf.title and pdf.title.startswith("Comité de démolition")
    assert pdf.year == 2023


def test_add_pdf_stores_copy_record_document_pages(ws, tmp_path: Path):
    src = tmp_path / "incoming" / FRENCH.name
    src.parent.mkdir()
    shutil.copy(FRENCH, src)
    result = add_pdfs(ws, [src], source="Municipal and government reports")
    assert len(result.added) == 1
    sha = hashlib.sha256(FRENCH.read_bytes()).hexdigest()
    src.unlink()  # the record must not depend on where the file was
    rec = ws.db.execute(
        "SELECT r.file_sha256, r.language, r.arm, r.work_id, r.raw, r.title FROM records r"
    ).fetchone()
    assert rec[0] == sha and rec[1] == "fr" and rec[2] == "other"
    assert json.loads(rec[4])["file_name"] == FRENCH.name
    doc = ws.db.execute(
        "SELECT id, work_id, kind, path, sha256, pages, language FROM documents"
    ).fetchone()
    assert doc[1] == rec[3] and doc[2] == "pdf" and doc[4] == sha and doc[5] == 2 and doc[6] == "fr"
    stored = ws.files_dir / doc[3]
    assert stored.name == f"{sha}.pdf"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    pages = ws.db.execute(
        "SELECT page, text FROM document_pages WHERE document_id = ?", [doc[0]]
    ).fetchall()
    assert [p for p, _ in pages] == [1, 2] and "COMITÉ DE DÉMOLITION" in pages[0][1]
    search = ws.db.execute(
        "SELECT arm, kind, records_found, records_stored, status FROM searches"
    ).fetchone()
    assert search == ("other", "pdf", 1, 1, "complete")


def test_same_file_twice_adds_nothing(ws, tmp_path: Path):
    add_pdfs(ws, [FRENCH])
    copy = tmp_path / "renamed.pdf"
    shutil.copy(FRENCH, copy)
    again = add_pdfs(ws, [copy])
    assert again.added == [] and again.duplicates == [str(copy)]
    assert ws.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 1
    assert ws.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 1


def _truncated(tmp_path: Path) -> Path:
    bad = tmp_path / "truncated.pdf"
    data = SCOTUS.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    return bad


def _encrypted(tmp_path: Path) -> Path:
    import pymupdf

    enc = tmp_path / "locked.pdf"
    doc = pymupdf.open(str(FRENCH))
    doc.save(str(enc), encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    doc.close()
    return enc


@pytest.mark.parametrize("make, words", [(_truncated, "truncated"), (_encrypted, "encrypted")])
def test_bad_pdf_is_an_error_and_changes_nothing(ws, tmp_path: Path, make, words):
    add_pdfs(ws, [FRENCH])
    bad = make(tmp_path)
    before = _dump(ws)
    with pytest.raises(FormatError) as e:
        add_pdfs(ws, [bad])
    assert bad.name in str(e.value) and words in str(e.value)
    assert _dump(ws) == before
    assert sorted(p.name for p in ws.files_dir.iterdir()) == [
        hashlib.sha256(FRENCH.read_bytes()).hexdigest() + ".pdf"
    ]


def test_folder_with_bad_file_needs_skip_bad(ws, tmp_path: Path):
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(FRENCH, folder / FRENCH.name)
    shutil.copy(_truncated(tmp_path), folder / "truncated.pdf")
    before = _dump(ws)
    with pytest.raises(FormatError, match="truncated.pdf"):
        add_pdfs(ws, [folder])
    assert _dump(ws) == before
    result = add_pdfs(ws, [folder], skip_bad=True)
    assert len(result.added) == 1 and [Path(p).name for p, _ in result.failed] == ["truncated.pdf"]


def test_cli_add_pdf(db_path: str, tmp_path: Path):
    runner = CliRunner()
    r = runner.invoke(cli, ["add-pdf", str(FRENCH), str(SCOTUS), "--db", db_path])
    assert r.exit_code == 0, r.output
    assert "2 PDFs added" in r.output
    bad = runner.invoke(cli, ["add-pdf", str(_encrypted(tmp_path)), "--db", db_path])
    assert bad.exit_code != 0 and "locked.pdf" in bad.output
    again = runner.invoke(cli, ["add-pdf", str(FRENCH), "--db", db_path])
    assert again.exit_code == 0 and "0 PDFs added" in again.output


def test_federal_register_page_count():
    pdf = read_pdf(shared_path("pdfs", "tests", "pdfs", "federal-register-2020-17221.pdf"))
    assert len(pdf.pages) == 15
    assert pdf.year == 2020 and pdf.language == "en"
