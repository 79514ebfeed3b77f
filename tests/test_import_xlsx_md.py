"""Excel workbooks and plain reference lists: CoLRev's loader samples xlsx_data.xlsx and md_data.md."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DATA
from openpyxl import Workbook

from review.errors import FormatError
from review.harvest.files import import_files, parse_file
from review.harvest.files.reflist import looks_like, parse_line, split_authors
from review.store.records import searches

COLREV = DATA / "formats" / "colrev"
XLSX = COLREV / "xlsx_data.xlsx"
MD = COLREV / "md_data.md"


def test_colrev_xlsx_sample():
    parsed = parse_file(XLSX)
    assert parsed.format == "xlsx" and parsed.encoding == "xlsx"
    assert len(parsed.records) == 3
    r0, r1, r2 = parsed.records
    assert r0.title == "Paper title"
    assert r0.authors == ("Smith A", "Walter B")
    assert r0.year == 2021
    assert r0.source_record_id == "Id_0001"
    assert r0.issue == "12"  # an integer cell, not '12.0'
    assert [r.record_type for r in parsed.records] == ["article", "inproceedings", "techreport"]
    assert r0.venue == "MISQ" and r0.raw_format == "xlsx"
    assert r0.raw["Citation"].startswith("Nature. 2021 Dec 21")
    assert r1.venue is None and r2.venue is None


def test_xlsx_vendor_header_dates_and_blank_rows(tmp_path: Path):
    import datetime as dt

    wb = Workbook()
    sh = wb.active
    sh.append([])  # a blank first row: the header is the first non-empty row
    sh.append(["Authors", "Title", "Year", "Source title", "DOI", "Link", "EID", "Date"])
    sh.append(
        [
            "Dube T.; Moyo S.",
            "Water in Zimbabwe",
            2020.0,
            "J Water",
            "10.1016/ABC",
            "http://x",
            "e1",
        ]
        + [dt.datetime(2020, 5, 1)]
    )
    sh.append([None] * 8)
    sh.append(["Ncube P.", "Solar in Botswana", 2019, "Energy", None, None, "e2", None])
    p = tmp_path / "scopus.xlsx"
    wb.save(p)
    parsed = parse_file(p)
    assert parsed.format == "scopus-csv" and parsed.source == "Scopus"
    a, b = parsed.records
    assert a.authors == ("Dube T.", "Moyo S.") and a.year == 2020 and a.doi == "10.1016/abc"
    assert a.source_record_id == "e1" and a.raw["Date"] == "2020-05-01"
    assert b.title == "Solar in Botswana" and b.year == 2019


def test_xlsx_errors_name_the_file(tmp_path: Path):
    wb = Workbook()
    wb.active.append(["Name", "Colour"])
    wb.active.append(["a", "b"])
    no_title = tmp_path / "no_title.xlsx"
    wb.save(no_title)
    with pytest.raises(FormatError) as e:
        parse_file(no_title)
    assert "no_title.xlsx" in str(e.value) and "no title column" in str(e.value)
    assert "row 1" in str(e.value)
    corrupt = tmp_path / "corrupt.xlsx"
    corrupt.write_bytes(XLSX.read_bytes()[:400])
    with pytest.raises(FormatError) as e:
        parse_file(corrupt)
    assert "corrupt.xlsx" in str(e.value)


def test_xlsx_import_logs_search(ws):
    report = import_files(ws, [XLSX])
    (f,) = report.imported
    assert f.format == "xlsx" and f.records_found == 3
    (row,) = searches(ws)
    assert row["api_version"].startswith("openpyxl") and row["file_name"] == "xlsx_data.xlsx"


def test_colrev_md_reference_list():
    parsed = parse_file(MD)
    assert parsed.format == "reflist"
    recs = parsed.records
    assert len(recs) == 6
    adams = recs[0]
    assert adams.authors == ("Adams CE", "Polzmacher S", "Wolff A")
    assert adams.year == 2013
    assert adams.title == "Systematic reviews: work that needs to be done and not to be done"
    assert (adams.venue, adams.volume, adams.issue, adams.pages) == (
        "Journal of Evidence-Based Medicine",
        "6",
        "4",
        "232-235",
    )
    assert recs[3].authors == ("Al-Zubidy A", "Carver JC", "Hale DP")  # 'et al.' dropped
    assert recs[3].issue is None and recs[3].volume == "91"
    assert recs[4].record_type == "inproceedings"
    assert recs[4].venue == (
        "Proceedings of the biennial conference on innovative data systems research"
    )
    assert recs[5].title.startswith("Big data, big insights? Advancing service")
    assert recs[5].venue == "Journal of Service Research"
    assert recs[0].raw["line"] == 1 and recs[5].raw["text"].startswith("Antons D")


def test_apa_bullets_doi_and_headings(tmp_path: Path):
    p = tmp_path / "refs.txt"
    p.write_text(
        "# References\n\n"
        "- Smith, J. A., & Lee, K. (2020). Mobile money in Malawi. Journal of Development, "
        "12(3), 45-67. https://doi.org/10.1234/JD.2020.5\n"
        "2. Banda, C. (2018a). Rural clinics. Health Policy, 4, 1-9.\n",
        encoding="utf-8",
    )
    a, b = parse_file(p).records
    assert a.authors == ("Smith, J. A.", "Lee, K.")
    assert a.doi == "10.1234/jd.2020.5" and a.title == "Mobile money in Malawi"
    assert (a.venue, a.volume, a.issue, a.pages) == ("Journal of Development", "12", "3", "45-67")
    assert b.authors == ("Banda, C.",) and b.year == 2018 and b.venue == "Health Policy"


def test_reference_list_detection_is_conservative(tmp_path: Path):
    page = "# UNDP Malawi\n\nHome | About | News\n\nIn 2020 the programme reached 40,000 people.\n"
    assert not looks_like(page)
    p = tmp_path / "page.md"
    p.write_text(page, encoding="utf-8")
    with pytest.raises(FormatError, match="unrecognised format"):
        parse_file(p)
    # the same reference list under another extension is not guessed at
    other = tmp_path / "md_data.dat"
    shutil.copy(MD, other)
    with pytest.raises(FormatError):
        parse_file(other)
    assert parse_line("Just a sentence without a year.") is None
    assert split_authors("Alvesson M and Sandberg J") == ("Alvesson M", "Sandberg J")


def test_unreadable_reference_line_is_reported_not_dropped(tmp_path: Path):
    lines = MD.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "Some report published in 2019 by the ministry")
    p = tmp_path / "refs.md"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(FormatError) as e:
        parse_file(p)
    assert "refs.md" in str(e.value) and "line 3" in str(e.value)


def test_md_import_into_workspace(ws):
    report = import_files(ws, [MD], arm="other")
    assert report.records_stored == 6
    row = ws.db.execute(
        "SELECT title, year, raw_format FROM records WHERE title LIKE 'Generating%'"
    ).fetchone()
    assert tuple(row) == ("Generating research questions through problematization", 2011, "reflist")
