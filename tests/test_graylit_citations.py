"""add-web / add-pdf ``--kind citations``: reports found by citation searching (snowballing) are
PRISMA's "Citation searching (n = )" box, not websites or organisations."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import DATA, PROTOCOLS

from review import prisma, protocol
from review.cli import cli
from review.store import init

PAGES = sorted(p for p in (DATA / "graylit").glob("*.md") if p.name != "README.md")
PDF = DATA / "pdfs" / "2023-06-20-PV.pdf"


def run(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_kind_citations_is_counted_in_the_citations_box(ws):
    db = str(ws.path)
    run(
        "add-web",
        *map(str, PAGES[:2]),
        "--source",
        "Snowballing",
        "--kind",
        "citations",
        "--db",
        db,
    )
    run("add-pdf", str(PDF), "--source", "Backward citations", "--kind", "citations", "--db", db)
    run("add-web", str(PAGES[2]), "--db", db)  # no kind: a website, as before
    v = prisma.compute(ws).values
    assert (v["citations_results"], v["website_results"], v["organisation_results"]) == (3, 1, 0)
    listed = {
        s["source"]: s["source_kind"] for s in json.loads(run("searches", "--json", "--db", db))
    }
    assert listed["Snowballing"] == listed["Backward citations"] == "citations"
    text = run("searches", "--db", db)
    assert "web/citations" in text and "pdf/citations" in text


def test_a_protocol_citations_source_is_counted_there_without_kind(tmp_path):
    toml = (PROTOCOLS / "sadc-smart-cities.toml").read_text() + (
        '\n[[sources]]\nname = "Reference lists"\nkind = "citations"\narm = "other"\n'
    )
    path = tmp_path / "p.toml"
    path.write_text(toml)
    ws = init(tmp_path / "r.db", protocol.load(path))
    try:
        run("add-web", str(PAGES[0]), "--source", "Reference lists", "--db", str(ws.path))
        v = prisma.compute(ws).values
        assert (v["citations_results"], v["website_results"]) == (1, 0)
    finally:
        ws.close()


def test_an_unknown_kind_is_refused(ws):
    res = CliRunner().invoke(
        cli, ["add-web", str(PAGES[0]), "--kind", "snowball", "--db", str(ws.path)]
    )
    assert res.exit_code != 0 and "citations" in res.output
    assert ws.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0
