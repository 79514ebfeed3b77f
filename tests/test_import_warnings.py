"""Warnings, never silence: mixed encodings and ragged CSV rows are reported with their place."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from review.cli import cli
from review.harvest.files import import_files, parse_file


def _mixed(tmp_path: Path) -> Path:
    """A RIS file whose first record is UTF-8 and whose second was appended in cp1252."""
    utf8 = "TY  - JOUR\nTI  - Évaluation des villes intelligentes à Maputo\nER  - \n\n"
    cp = "TY  - JOUR\nTI  - Política urbana em Luanda\nER  - \n"
    p = tmp_path / "mixed.ris"
    p.write_bytes(utf8.encode("utf-8") + cp.encode("cp1252"))
    return p


def test_mixed_encoding_is_decoded_line_by_line_and_reported(tmp_path: Path):
    parsed = parse_file(_mixed(tmp_path))
    titles = [r.title for r in parsed.records]
    assert titles == [
        "Évaluation des villes intelligentes à Maputo",
        "Política urbana em Luanda",
    ]
    assert any("mixed encodings" in w and "line 6" in w for w in parsed.warnings), parsed.warnings


def test_ragged_csv_rows_are_reported(tmp_path: Path):
    p = tmp_path / "ragged.csv"
    p.write_text(
        "title,year,doi\n"
        "Smart Lusaka,2020,10.1/a\n"
        "Smart Maputo,2021\n"
        "Smart Windhoek,2022,10.1/c,extra\n",
        encoding="utf-8",
    )
    parsed = parse_file(p)
    assert len(parsed.records) == 3
    assert any("row 3" in w and "2 fields" in w for w in parsed.warnings), parsed.warnings
    assert any("row 4" in w and "4 fields" in w for w in parsed.warnings), parsed.warnings


def test_import_reports_warnings_on_the_cli(db_path: str, tmp_path: Path):
    r = CliRunner().invoke(cli, ["import", str(_mixed(tmp_path)), "--db", db_path])
    assert r.exit_code == 0, r.output
    assert "warning" in r.output and "mixed encodings" in r.output


def test_clean_file_has_no_warnings(ws, tmp_path: Path):
    p = tmp_path / "ok.csv"
    p.write_text("title,year\nSmart Lusaka,2020\n", encoding="utf-8")
    report = import_files(ws, [p])
    assert report.imported[0].warnings == []


def test_scopus_rows_with_unnamed_funding_text_are_realigned():
    """Real Scopus CSV (litstudy): some rows carry a 'Funding Text 2' value the header lacks;
    zipping them with the header shifted ISSN into ISBN, the language into 'PubMed ID' and the
    EID into 'Source'."""
    from conftest import shared_path

    parsed = parse_file(shared_path("formats", "litstudy", "tests", "resources", "scopus.csv"))
    by_id = {r.source_record_id: r for r in parsed.records}
    rec = by_id["2-s2.0-85123480963"]
    assert (rec.issn, rec.language, rec.record_type) == ("20452322", "English", "Article")
    assert rec.pmid is None or rec.pmid.isdigit()
    assert all(
        r.source_record_id and r.source_record_id.startswith("2-s2.0-") for r in parsed.records
    )
    assert any("Funding Text" in w and "realigned" in w for w in parsed.warnings)
