"""Importing into a workspace: encodings, malformed files, --skip-bad, one transaction per file."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS, DATA

from review.cli import cli
from review.errors import FormatError
from review.harvest.files import import_files, parse_file, read_file
from review.store.records import searches

FORMATS = DATA / "formats"
RIS = FORMATS / "rispy" / "example_full.ris"
BIB = FORMATS / "colrev" / "scopus_bib.bib"


def dump(db: str | Path) -> list[str]:
    conn = sqlite3.connect(str(db))
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


# encodings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
def test_encodings_of_a_real_bibtex_file(tmp_path: Path, encoding: str):
    text = (FORMATS / "bibtexparser" / "bibtex.bib").read_text(encoding="utf-8")
    p = tmp_path / f"bibtex-{encoding}.bib"
    p.write_bytes(text.encode(encoding))
    (rec,) = read_file(p)
    assert rec.authors == ("Jean César",)


def test_cp1252_ris_with_accents(tmp_path: Path):
    text = (
        RIS.read_text(encoding="utf-8")
        .replace("Marx, Karl", "Müller, Zoë")
        .replace("Title of reference", "Café société: naïve résumé")
    )
    p = tmp_path / "win.ris"
    p.write_bytes(text.encode("cp1252"))
    pf = parse_file(p)
    assert pf.encoding == "cp1252"
    assert pf.records[0].title == "Café société: naïve résumé"
    assert pf.records[0].authors[0] == "Müller, Zoë"


def test_gbk_and_utf16_csv(tmp_path: Path):
    text = "ID,Title,Authors,Year\n1,智慧城市治理研究,张伟; 李娜,2021\n2,城市数字化转型与可持续发展,王芳,2022\n"
    for enc in ("gbk", "utf-16"):
        p = tmp_path / f"cn-{enc}.csv"
        p.write_bytes(text.encode(enc))
        recs = read_file(p)
        assert [r.title for r in recs] == ["智慧城市治理研究", "城市数字化转型与可持续发展"]
        assert recs[0].authors == ("张伟", "李娜") and recs[0].source_record_id == "1"


# malformed files ---------------------------------------------------------------------------
def test_truncated_ris_names_file_and_record(tmp_path: Path):
    text = RIS.read_text(encoding="utf-8")
    p = tmp_path / "cut.ris"
    p.write_text(text[: int(len(text) * 0.8)], encoding="utf-8")
    with pytest.raises(FormatError) as e:
        read_file(p)
    msg = str(e.value)
    assert "cut.ris" in msg and "record 2" in msg and "truncated" in msg and "line" in msg


def test_broken_bibtex_names_line(tmp_path: Path):
    text = BIB.read_text(encoding="utf-8")
    # drop the closing brace of the third entry
    starts = [i for i in range(len(text)) if text.startswith("\n@", i)]
    third_end = text.rindex("}", 0, starts[3])
    p = tmp_path / "broken.bib"
    p.write_text(text[:third_end] + text[third_end + 1 :], encoding="utf-8")
    line = text.count("\n", 0, starts[2] + 1) + 1
    with pytest.raises(FormatError) as e:
        read_file(p)
    assert "broken.bib" in str(e.value) and f"line {line}" in str(e.value)
    q = tmp_path / "truncated.bib"
    q.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(FormatError, match="not closed"):
        read_file(q)


def test_csv_without_title_and_bad_json(tmp_path: Path):
    p = tmp_path / "nope.csv"
    p.write_text("id,name,colour\n1,a,red\n", encoding="utf-8")
    with pytest.raises(FormatError, match="no title column") as e:
        read_file(p)
    assert "nope.csv:line 1" in str(e.value)
    j = tmp_path / "other.json"
    j.write_text(json.dumps({"meta": {}, "results": [{"foo": 1}]}), encoding="utf-8")
    with pytest.raises(FormatError, match="not an OpenAlex work"):
        read_file(j)
    k = tmp_path / "things.json"
    k.write_text(json.dumps([{"name": None, "value": 3}]), encoding="utf-8")
    with pytest.raises(FormatError, match="record 1"):
        read_file(k)
    lines = (CORPUS / "academic.jsonl").read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4][:40]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(FormatError, match="line 5"):
        read_file(bad)


# workspace ----------------------------------------------------------------------------------
def test_import_logs_one_search_per_file(ws):
    report = import_files(ws, [RIS, FORMATS / "colrev" / "eric_nbib.nbib"], arm="other")
    # example_full.ris holds the same record (ID 12345) twice: both are identified records
    # (issue 14.4: stored and counted, then dedup removes one as a duplicate)
    assert [f.records_stored for f in report.imported] == [2, 1]
    assert "12345 (2 copies)" in (report.imported[0].note or "")
    rows = searches(ws)
    assert [
        (s["kind"], s["file_name"], s["records_found"], s["records_stored"], s["status"])
        for s in rows
    ] == [
        ("file", "example_full.ris", 2, 2, "complete"),
        ("file", "eric_nbib.nbib", 1, 1, "complete"),
    ]
    assert rows[1]["source"] == "ERIC" and rows[0]["arm"] == "other"
    assert rows[0]["api_version"].startswith("rispy")
    raw = ws.db.execute("SELECT raw, raw_format FROM records WHERE source = 'ERIC'").fetchone()
    assert json.loads(raw[0])["OID"] == ["EJ1131633"] and raw[1] == "medline"
    # re-importing the same file stores nothing new but logs the search
    again = import_files(ws, [FORMATS / "colrev" / "eric_nbib.nbib"])
    assert again.imported[0].records_found == 1 and again.imported[0].records_stored == 0


def test_failed_import_leaves_db_byte_identical(ws, tmp_path: Path):
    import_files(ws, [RIS])
    before = dump(ws.path)
    text = BIB.read_text(encoding="utf-8")
    bad = tmp_path / "bad.bib"
    bad.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(FormatError):
        import_files(ws, [BIB, bad])
    assert dump(ws.path) == before


def test_store_failure_rolls_back_search_row(ws, tmp_path: Path):
    from review.harvest.files.importer import store_parsed

    pf = parse_file(RIS)
    pf.records.append("not a record")  # type: ignore[arg-type]
    before = dump(ws.path)
    with pytest.raises(AttributeError):
        store_parsed(ws, pf, source=None, arm="databases")
    assert dump(ws.path) == before


def test_folder_import_and_skip_bad(ws, tmp_path: Path):
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(RIS, folder / "a.ris")
    shutil.copy(FORMATS / "litstudy" / "ieee.csv", folder / "b.csv")
    (folder / "c.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    before = dump(ws.path)
    with pytest.raises(FormatError, match="1 of 3 files") as e:
        import_files(ws, [folder])
    assert "c.csv" in str(e.value)
    assert dump(ws.path) == before
    report = import_files(ws, [folder], skip_bad=True)
    assert [Path(f.path).name for f in report.imported] == ["a.ris", "b.csv"]
    assert [Path(p).name for p, _ in report.bad] == ["c.csv"]
    assert report.records_stored == 12  # a.ris lists ID 12345 twice: both stored (issue 14.4)
    assert {s["source"] for s in searches(ws)} == {"a.ris", "IEEE Xplore"}


# CLI ----------------------------------------------------------------------------------------
def test_cli_import_demo_corpus(db_path: str):
    r = CliRunner().invoke(
        cli,
        [
            "import",
            str(CORPUS / "academic.jsonl"),
            "--source",
            "Academic records (demo)",
            "--arm",
            "databases",
            "--db",
            db_path,
        ],
    )
    assert r.exit_code == 0, r.output
    assert "37 records found, 37 stored" in r.output
    conn = sqlite3.connect(db_path)
    row = conn.execute(
        "SELECT title, authors, year, doi, venue, url, record_type FROM records WHERE source = ?"
        " ORDER BY id LIMIT 1",
        ["Academic records (demo)"],
    ).fetchone()
    conn.close()
    assert row[0] == "A Digital Transformation Framework for Smart Municipalities"
    assert json.loads(row[1])[0] == "Anthea Van Der Hoogen"
    assert row[2:] == (
        2024,
        "10.3390/su16031320",
        "Sustainability 16(3):1320 (MDPI)",
        "https://www.mdpi.com/2071-1050/16/3/1320",
        "journal-article",
    )


def test_cli_bad_file_exits_nonzero(db_path: str, tmp_path: Path):
    p = tmp_path / "cut.ris"
    p.write_text(RIS.read_text(encoding="utf-8")[:300], encoding="utf-8")
    before = dump(db_path)
    r = CliRunner().invoke(cli, ["import", str(p), "--db", db_path])
    assert r.exit_code != 0
    assert "cut.ris" in r.output and "truncated" in r.output
    assert dump(db_path) == before


def test_cli_skip_bad_and_format(db_path: str, tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FORMATS / "colrev" / "eric_nbib.nbib", folder / "eric.txt")
    (folder / "junk.json").write_text('{"hello": "world"}', encoding="utf-8")
    r = CliRunner().invoke(cli, ["import", str(folder), "--db", db_path])
    assert r.exit_code != 0
    r = CliRunner().invoke(cli, ["import", str(folder), "--skip-bad", "--db", db_path])
    assert r.exit_code == 0, r.output
    assert "skipped bad file" in r.output and "junk.json" in r.output
    r = CliRunner().invoke(
        cli,
        [
            "import",
            str(folder / "eric.txt"),
            "--format",
            "medline",
            "--source",
            "X",
            "--db",
            db_path,
        ],
    )
    assert r.exit_code == 0 and "1 stored" in r.output
