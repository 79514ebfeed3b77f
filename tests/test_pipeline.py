"""The whole pipeline through the CLI on shipped data (no ../shared needed): protocol → import →
gray literature → dedup → screening decisions at both stages → PRISMA check and CSV → export →
a bundle for another group. Numbers are checked against each other, not hard-coded guesses."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner
from conftest import CORPUS, DATA, PROTOCOLS

from review.cli import cli


def run(*args: str) -> str:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


def test_pipeline_end_to_end(tmp_path):
    db = str(tmp_path / "review.db")
    run("init", "--protocol", str(PROTOCOLS / "sadc-smart-cities.toml"), "--db", db)
    run("import", str(CORPUS / "academic.jsonl"), "--source", "Academic records (demo)", "--db", db)
    run("add-web", str(DATA / "graylit"), "--source", "UNDP Accelerator Labs", "--db", db)
    run(
        "add-pdf",
        str(DATA / "pdfs" / "2023-06-20-PV.pdf"),
        "--source",
        "Municipal and government reports",
        "--db",
        db,
    )
    searches = json.loads(run("searches", "--json", "--db", db))
    assert [s["kind"] for s in searches] == ["file", "web", "pdf"]
    assert all(s["status"] == "complete" for s in searches)
    run("dedup", "--db", db)
    status = json.loads(run("status", "--json", "--db", db))
    n_records = status["records"]
    assert n_records == 37 + 6 + 1
    assert status["sources"]["Academic records (demo)"] == 37
    assert status["prisma"]["duplicates"] == n_records - status["works"]

    works = list(csv.DictReader(io.StringIO(run("export", "--format", "csv", "--db", db))))
    assert len(works) == status["works"]
    ids = [int(w["work_id"]) for w in works]
    # title/abstract: include the first 6, exclude the rest with reasons
    for i, wid in enumerate(ids):
        if i < 6:
            run("decide", str(wid), "--include", "--reviewer", "ana", "--db", db)
        else:
            run(
                "decide",
                str(wid),
                "--exclude",
                "E1" if i % 2 else "E2",
                "--reviewer",
                "ana",
                "--db",
                db,
            )
    # full text: 2 included, 2 excluded, 2 left pending
    run("decide", str(ids[0]), "--include", "--stage", "full-text", "--reviewer", "ana", "--db", db)
    run("decide", str(ids[1]), "--include", "--stage", "full-text", "--reviewer", "ana", "--db", db)
    run(
        "decide",
        str(ids[2]),
        "--exclude",
        "E2",
        "--stage",
        "full-text",
        "--reviewer",
        "ana",
        "--db",
        db,
    )
    run(
        "decide",
        str(ids[3]),
        "--exclude",
        "E3",
        "--stage",
        "full-text",
        "--reviewer",
        "ana",
        "--db",
        db,
    )
    status = json.loads(run("status", "--json", "--db", db))
    ta = status["decisions"]["title-abstract"]
    assert ta == {"include": 6, "exclude": len(ids) - 6, "maybe": 0, "conflict": 0}
    assert status["decisions"]["full-text"] == {
        "include": 2,
        "exclude": 2,
        "maybe": 0,
        "conflict": 0,
    }
    stop = status["stopping"]["title-abstract"]
    assert stop["n_screened"] == len(ids) and stop["n_remaining"] == 0
    assert isinstance(stop["should_stop"], bool)
    assert status["stopping"]["full-text"]["n_remaining"] == 2

    check = CliRunner().invoke(cli, ["prisma", "--check", "--db", db])
    assert check.exit_code == 0, check.output
    out = tmp_path / "prisma.csv"
    run("prisma", "-o", str(out), "--db", db)
    rows = {r["data"]: r["n"] for r in csv.DictReader(out.open(encoding="utf-8"))}
    identified = (
        int(rows["database_results"])
        + int(rows["website_results"] or 0)
        + int(rows["organisation_results"] or 0)
    )
    assert identified == n_records
    svg = tmp_path / "prisma.svg"
    run("prisma", "-o", str(svg), "--db", db)
    assert "PRISMA" in svg.read_text() or "Identification" in svg.read_text()

    included = run(
        "export", "--stage", "full-text", "--decision", "include", "--format", "ris", "--db", db
    )
    assert included.count("ER  -") == 2
    hist = run("history", str(ids[0]), "--db", db)
    assert "include" in hist

    bundle = tmp_path / "g.reviewbundle"
    run("bundle", "export", "-o", str(bundle), "--group", "lusaka", "--decisions", "--db", db)
    other = str(tmp_path / "other.db")
    run("init", "--protocol", str(PROTOCOLS / "sadc-smart-cities.toml"), "--db", other)
    summary = json.loads(run("bundle", "import", str(bundle), "--json", "--db", other))
    assert summary["records_added"] == n_records
    other_status = json.loads(run("status", "--json", "--db", other))
    assert other_status["decisions"]["full-text"] == {
        "include": 2,
        "exclude": 2,
        "maybe": 0,
        "conflict": 0,
    }
    assert other_status["works"] == status["works"]
