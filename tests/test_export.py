"""`review export`: CSV columns, stage/decision filters, countries, RIS/BibTeX round trips."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS, DATA

from review.cli import cli
from review.harvest.export import CSV_COLUMNS, export
from review.harvest.files import import_files, read_file
from review.store import init
from review.store.decisions import record_decision
from review.store.workspace import now

FORMATS = DATA / "formats"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_columns_and_source_ids(ws):
    import_files(ws, [CORPUS / "academic.jsonl"], source="Demo")
    import_files(ws, [FORMATS / "colrev" / "pubmed_csv.csv"])
    text, n = export(ws, "csv")
    rows = _rows(text)
    assert n == len(rows) == 38
    assert list(rows[0])[:10] == list(CSV_COLUMNS[:10])
    first = rows[0]
    assert first["title"] == "A Digital Transformation Framework for Smart Municipalities"
    assert first["authors"].startswith("Anthea Van Der Hoogen; Ifeoluwapo Fashoro")
    assert (first["year"], first["doi"], first["source"]) == ("2024", "10.3390/su16031320", "Demo")
    pubmed = rows[-1]
    assert (pubmed["source"], pubmed["source_record_id"]) == ("PubMed", "11223344")


def test_merged_work_joins_sources_and_countries(ws):
    import_files(ws, [FORMATS / "colrev" / "pubmed_csv.csv"])
    import_files(ws, [FORMATS / "colrev" / "csv_data.csv"], source="Other")
    # a dedup merge: move the second source's records onto work 1 and retire their works
    ws.db.execute("UPDATE works SET active = 0 WHERE id > 1")
    ws.db.execute("UPDATE records SET work_id = 1, affiliation_countries = '[\"ZA\"]' WHERE id = 2")
    ws.db["work_countries"].insert_all(
        [
            {
                "work_id": 1,
                "country": "NA",
                "kind": "study",
                "origin": "gazetteer",
                "action": "add",
                "created_at": now(),
            },
            {
                "work_id": 1,
                "country": "BW",
                "kind": "study",
                "origin": "gazetteer",
                "action": "add",
                "created_at": now(),
            },
            {
                "work_id": 1,
                "country": "BW",
                "kind": "study",
                "origin": "reviewer",
                "action": "remove",
                "created_at": now(),
            },
        ]
    )
    ws.db.conn.commit()
    (row,) = _rows(export(ws, "csv")[0])
    # one "; " separator everywhere; sources and ids aligned, one entry per record
    assert row["source"] == "PubMed; Other"
    assert row["source_record_id"] == "11223344; test"
    assert row["countries"] == "ZA; NA"


def test_stage_and_decision_filters(ws):
    import_files(ws, [CORPUS / "academic.jsonl"], source="Demo")
    record_decision(ws, work_id=1, stage="title-abstract", reviewer="a", decision="include")
    record_decision(
        ws, work_id=2, stage="title-abstract", reviewer="a", decision="exclude", reason="E1"
    )
    record_decision(ws, work_id=3, stage="title-abstract", reviewer="a", decision="maybe")
    inc = _rows(export(ws, "csv", stage="title-abstract", decision="include")[0])
    assert [r["work_id"] for r in inc] == ["1"] and inc[0]["decision"] == "include"
    assert [r["work_id"] for r in _rows(export(ws, "csv", decision="exclude")[0])] == ["2"]
    assert len(_rows(export(ws, "csv", stage="title-abstract")[0])) == 3
    assert len(_rows(export(ws, "csv")[0])) == 37


@pytest.mark.parametrize("fmt", ["ris", "bib"])
def test_round_trip_through_our_importer(ws, tmp_path: Path, fmt: str):
    import_files(ws, [CORPUS / "academic.jsonl"], source="Demo")
    import_files(ws, [FORMATS / "bibtexparser" / "gbk_test.bib"])
    out = tmp_path / f"works.{fmt}"
    _, n = export(ws, fmt, output=out)
    assert n == 38
    back = read_file(out)
    original = read_file(CORPUS / "academic.jsonl")
    assert len(back) == 38
    for a, b in zip(original, back, strict=False):
        assert (b.title, b.year, b.doi, b.authors) == (a.title, a.year, a.doi, a.authors)
        assert b.abstract == a.abstract
    assert back[-1].authors == ("凯撒",) and back[-1].venue == "测试期刊"
    # and into a fresh workspace
    ws2 = init(tmp_path / "again.db")
    try:
        report = import_files(ws2, [out])
        assert report.records_stored == 38
    finally:
        ws2.close()


def test_cli_export(db_path: str, tmp_path: Path):
    runner = CliRunner()
    r = runner.invoke(cli, ["import", str(FORMATS / "litstudy" / "ieee.csv"), "--db", db_path])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["export", "--db", db_path])
    assert r.exit_code == 0
    rows = _rows(r.output)
    assert len(rows) == 10 and rows[0]["source"] == "IEEE Xplore"
    out = tmp_path / "x" / "out.ris"
    r = runner.invoke(cli, ["export", "--format", "ris", "-o", str(out), "--db", db_path])
    assert r.exit_code == 0 and len(read_file(out)) == 10
    r = runner.invoke(cli, ["export", "--format", "bib", "--decision", "include", "--db", db_path])
    assert r.exit_code == 0 and r.output == ""
    assert json.loads(json.dumps(rows[0]))["doi"] == "10.1109/mcse.2013.95"
