"""Exports a reviewer can take to another tool: provenance per record, aligned lists after merges,
vendor types and identifiers kept, spreadsheet formulas made inert."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner
from conftest import DATA

from review.cli import cli
from review.harvest.export import export
from review.harvest.files import import_files, read_file

VENDORS = DATA / "formats" / "vendors"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _merge(ws, survivor: int, absorbed: list[int]) -> None:
    """A dedup merge as the store records it: records move, absorbed works retire."""
    for w in absorbed:
        ws.db.execute("UPDATE records SET work_id = ? WHERE work_id = ?", [survivor, w])
        ws.db.execute("UPDATE works SET active = 0, merged_into = ? WHERE id = ?", [survivor, w])
    ws.db.conn.commit()


def _three_sources(ws, tmp_path: Path) -> None:
    """The same study from Scopus (EID), WoS (UT) and a CSV without an id."""
    import_files(ws, [VENDORS / "scopus.ris"])
    import_files(ws, [VENDORS / "wos_early_access.txt"])
    p = tmp_path / "hand.csv"
    p.write_text("title,year\nFORC signatures of dipolar coupled nanowire hysterons,2020\n")
    import_files(ws, [p], source="Hand search")
    _merge(ws, 1, [2, 4])


def test_merged_work_lists_every_record_once_in_the_same_order(ws, tmp_path: Path):
    _three_sources(ws, tmp_path)
    row = next(r for r in _rows(export(ws, "csv")[0]) if r["work_id"] == "1")
    sources = row["source"].split("; ")
    ids = row["source_record_id"].split("; ")
    assert sources == ["Scopus", "Web of Science", "Hand search"]
    assert ids == ["2-s2.0-85091557653", "WOS:000671234500001", ""]  # aligned, one per record
    assert row["database"].split("; ") == ["Scopus", "Web of Science", ""]


def test_records_export_has_one_provenance_row_per_record(ws, tmp_path: Path):
    _three_sources(ws, tmp_path)
    text, n = export(ws, "csv", records=True)
    rows = _rows(text)
    assert n == len(rows) == 4
    assert [(r["source"], r["source_record_id"], r["database"], r["work_id"]) for r in rows] == [
        ("Scopus", "2-s2.0-85091557653", "Scopus", "1"),
        ("Web of Science", "WOS:000671234500001", "Web of Science", "1"),
        ("Web of Science", "WOS:000500000000002", "Web of Science", "3"),
        ("Hand search", "", "", "1"),
    ]
    assert rows[0]["file_name"] == "scopus.ris"


def test_cli_export_records(db_path: str, tmp_path: Path):
    runner = CliRunner()
    r = runner.invoke(cli, ["import", str(VENDORS / "ovid_multi.ris"), "--db", db_path])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["export", "--records", "--db", db_path])
    assert r.exit_code == 0, r.output
    rows = _rows(r.output)
    assert [x["database"] for x in rows] == ["MEDLINE", "Embase", "CENTRAL", "PsycINFO"]
    r = runner.invoke(cli, ["export", "--records", "--format", "ris", "--db", db_path])
    assert r.exit_code != 0 and "--records" in r.output


def test_ris_and_bib_keep_vendor_type_and_identifiers(ws, tmp_path: Path):
    import_files(ws, [VENDORS / "wos_early_access.txt"])
    ris, _ = export(ws, "ris")
    first = ris.split("ER  - ")[0]
    assert "TY  - JOUR" in first and "M3  - Article; Early Access" in first
    assert "AN  - WOS:000671234500001" in first and "ID  - " not in first
    assert "SN  - 1475-2875" in first
    bib, _ = export(ws, "bib")
    assert bib.startswith("@article{work1,")
    assert "source_record_id = {WOS:000671234500001}" in bib
    assert "record_type = {Article; Early Access}" in bib


def test_proceedings_paper_is_a_conference_paper(ws, tmp_path: Path):
    p = tmp_path / "wos.txt"
    p.write_text(
        "FN Clarivate Analytics Web of Science\nVR 1.0\nPT C\nAU Phiri, K\n"
        "TI Smart grids in Lusaka\nSO 2021 IEEE PES ASIA-PACIFIC CONFERENCE\n"
        "DT Proceedings Paper\nPY 2021\nBP 10\nEP 15\nUT WOS:000700000000009\nER\n\nEF\n",
        encoding="utf-8",
    )
    import_files(ws, [p])
    assert "TY  - CONF" in export(ws, "ris")[0]
    assert export(ws, "bib")[0].startswith("@inproceedings{")


def test_csv_neutralises_formula_cells_unless_raw(ws, tmp_path: Path):
    p = tmp_path / "evil.csv"
    p.write_text(
        'title,authors,year\n"=HYPERLINK(""http://x"",""click"")","@SUM(A1)",2020\n'
        '"+cmd|calc",-Smith,2021\n',
        encoding="utf-8",
    )
    import_files(ws, [p])
    rows = _rows(export(ws, "csv")[0])
    assert rows[0]["title"] == '\'=HYPERLINK("http://x","click")'
    assert rows[0]["authors"] == "'@SUM(A1)"
    assert rows[1]["title"] == "'+cmd|calc" and rows[1]["authors"] == "'-Smith"
    raw = _rows(export(ws, "csv", raw=True)[0])
    assert raw[0]["title"].startswith("=HYPERLINK")
    # and our own importer reads the neutralised cells back as they were
    out = tmp_path / "out.csv"
    export(ws, "csv", output=out)
    assert [r.title for r in read_file(out)] == ['=HYPERLINK("http://x","click")', "+cmd|calc"]


def test_cli_raw_flag(db_path: str, tmp_path: Path):
    p = tmp_path / "evil.csv"
    p.write_text('title,year\n"=1+1",2020\n', encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(p), "--db", db_path]).exit_code == 0
    assert "'=1+1" in runner.invoke(cli, ["export", "--db", db_path]).output
    r = runner.invoke(cli, ["export", "--raw", "--db", db_path])
    assert r.exit_code == 0 and "'=1+1" not in r.output and "=1+1" in r.output
