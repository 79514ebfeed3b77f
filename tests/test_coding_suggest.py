"""`review suggest` with the packaged MiniLM on three real UNDP pages (slow: loads the model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS, PROTOCOLS
from test_coding import PAGES, work_of_page

from review import protocol
from review.cli import cli
from review.coding import store
from review.coding import suggest as suggest_mod
from review.coding.text import sentences
from review.harvest.web import add_web
from review.store import Workspace, init

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("suggest") / "s.db"
    ws = init(path, protocol.load(PROTOCOLS / "sadc-smart-cities.toml"))
    add_web(ws, [CORPUS / "gray" / "undp" / p for p in PAGES], source="UNDP Accelerator Labs")
    ws.close()
    return path


def test_zero_shot_run_with_evidence_and_stated_threshold(db: Path) -> None:
    r = CliRunner().invoke(cli, ["suggest", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "method zero-shot" in r.output
    assert "yes when score >= 0.50" in r.output and "similarity >= 0.36" in r.output
    ws = Workspace.open(db)
    run = ws.db.execute("SELECT * FROM coding_runs").fetchall()
    assert len(run) == 1
    row = dict(
        zip(
            [d[0] for d in ws.db.execute("SELECT * FROM coding_runs").description],
            run[0],
            strict=True,
        )
    )
    assert row["method"] == "zero-shot" and row["model"] == "all-MiniLM-L6-v2"
    assert "sentence-transformers" in json.loads(row["versions"])
    assert json.loads(row["params"])["similarity_threshold"] == 0.36
    waste = work_of_page(ws, PAGES[0])
    rows = suggest_mod.latest(ws, [waste])
    ch = rows[(waste, "challenges")]
    assert len(ch) == 5 and all(0.0 <= x["score"] <= 1.0 for x in ch)
    top = max(ch, key=lambda x: x["score"])
    assert top["value"] == "environmental" and top["suggested"]
    texts = {s.text for s in sentences(ws, [waste])[waste]}
    quote = top["evidence"].split(": ", 1)[1]
    assert quote in texts  # the evidence is a sentence of the work (full text included)
    assert [x["value"] for x in rows[(waste, "study_countries")]] == ["ZM"]
    assert rows[(waste, "city")][0]["value"] in ("Lusaka", "Ndola")
    ws.close()


def test_a_field_threshold_in_the_protocol_moves_every_yes(tmp_path: Path) -> None:
    """Another codebook needs another bar: ``threshold`` on the field replaces 0.36, is stated in
    the output and logged with the run; at 0.9 no sentence reaches it, so nothing is suggested."""
    text = (PROTOCOLS / "sadc-smart-cities.toml").read_text(encoding="utf-8")
    head = 'name = "challenges"\nlabel = "Challenges reported"\nkind = "multi"\n'
    assert head in text
    toml = tmp_path / "p.toml"
    toml.write_text(text.replace(head, head + "threshold = 0.9\n"), encoding="utf-8")
    path = tmp_path / "t.db"
    ws = init(path, protocol.load(toml))
    add_web(ws, [CORPUS / "gray" / "undp" / PAGES[0]], source="UNDP Accelerator Labs")
    ws.close()
    r = CliRunner().invoke(cli, ["suggest", "--db", str(path), "--field", "challenges"])
    assert r.exit_code == 0, r.output
    assert "challenges: similarity >= 0.90" in r.output
    assert "0.36" not in r.output  # the default bar is not stated when no field uses it
    ws = Workspace.open(path)
    wid = work_of_page(ws, PAGES[0])
    ch = suggest_mod.latest(ws, [wid])[(wid, "challenges")]
    assert len(ch) == 5 and not any(x["suggested"] for x in ch)
    assert max(x["score"] for x in ch) < 0.5
    params = json.loads(ws.db.execute("SELECT params FROM coding_runs").fetchone()[0])
    assert params["similarity_thresholds"] == {"challenges": 0.9}
    ws.close()


def test_few_shot_once_codes_are_confirmed_and_runs_are_kept(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace.open(db)
    ids = [work_of_page(ws, p) for p in PAGES]
    for wid, codes in zip(
        ids, (["environmental", "economic"], ["technological"], ["governance"]), strict=True
    ):
        store.record(ws, wid, "challenges", "ana", codes)
    before = ws.db.execute("SELECT COUNT(*) FROM coding_suggestions").fetchone()[0]
    monkeypatch.setattr(suggest_mod, "MIN_EACH", 1)  # three works: one yes and one no suffice here
    res = suggest_mod.suggest(ws, "challenges")
    assert res.method == "few-shot"
    assert res.few_shot["challenges.environmental"] == 3
    assert ws.db.execute("SELECT COUNT(*) FROM coding_runs").fetchone()[0] == 2
    after = ws.db.execute("SELECT COUNT(*) FROM coding_suggestions").fetchone()[0]
    assert after == before + 15  # the first run's rows are all still there
    ws.close()
