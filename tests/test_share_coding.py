"""Bundles carry the coding: reviewers' codes (the append-only log, drafts, undos) and the suggestion
runs behind them, under issue 16's rules: rows belong to ``name@group`` (relayed rows skipped),
every field is checked as ``review code`` checks it against the RECEIVING protocol's codebook,
re-imports add nothing, a refused import leaves the workspace byte-identical."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_share import academic, group_ws, works
from test_share_trust import Rows, rebuild, refused, rows_edit

from review.cli import cli
from review.coding import store
from review.coding.scope import select
from review.coding.suggest import Suggestion, latest, log_run
from review.share.bundle import export_bundle, inspect_bundle
from review.share.merge import import_bundle

OPTS = ("sociopolitical", "technological", "governance", "environmental", "economic")
CODING_TABLES = ("coding_runs", "coding_suggestions", "coding_log")


def coding_dump(ws) -> list[list[tuple]]:
    return [list(ws.db.execute(f"SELECT * FROM {t} ORDER BY rowid")) for t in CODING_TABLES]


def local_work(ws, lusaka, lusaka_work: int) -> int:
    """The receiving workspace's work for one of lusaka's works (by a record's origin)."""
    rid = lusaka.db.execute(
        "SELECT id FROM records WHERE work_id = ? ORDER BY id LIMIT 1", [lusaka_work]
    ).fetchone()[0]
    return ws.db.execute(
        "SELECT work_id FROM records WHERE origin = ?", [f"lusaka/{rid}"]
    ).fetchone()[0]


@pytest.fixture
def coded(tmp_path: Path):
    """Lusaka (25 records) coded by ana and ben, with one suggestion run, an undone draft and a row
    it relays for harare; Maputo (22 records) whose own ana coded one work."""
    recs = academic()
    lusaka = group_ws(tmp_path / "lusaka.db", recs[:25], "Scopus")
    maputo = group_ws(tmp_path / "maputo.db", recs[15:], "Web of Science")
    with maputo.transaction():
        maputo.set_meta("group_name", "maputo")
    w = works(lusaka)
    sugg = [
        Suggestion(wid, "challenges", c, 0.8 if c in ("economic", OPTS[i % 5]) else 0.2,
                   c in ("economic", OPTS[i % 5]), f"evidence for {c} in work {wid}.", "abstract")
        for i, wid in enumerate(w)
        for c in OPTS
    ]  # fmt: skip
    run = log_run(lusaka, sugg, "zero-shot", "challenges", select(lusaka, "all"), {"test": 1})
    for wid in w[:5]:
        store.record(lusaka, wid, "challenges", "ana", ["economic", "governance"], run_id=run)
    store.record(lusaka, w[0], "city", "ana", "Lusaka")
    store.record(lusaka, w[0], "challenges", "ben", ["economic"])  # a conflict with ana
    store.record(lusaka, w[1], "challenges", "ben", ["governance", "economic"])  # agreed
    draft = store.record(lusaka, w[6], "challenges", "ana", ["technological"], "draft")
    store.undo(lusaka, draft)  # a retract row: "undo of #<draft>"
    store.record(lusaka, w[2], "challenges", "zed@harare", ["environmental"])  # relayed
    mw = works(maputo)[-1]
    store.record(maputo, mw, "challenges", "ana", ["sociopolitical"])
    good = tmp_path / "lusaka.reviewbundle"
    export_bundle(lusaka, good, group="lusaka", coding=True)
    return lusaka, maputo, good, tmp_path


def test_round_trip_carries_codes_and_runs_with_provenance(coded):
    lusaka, maputo, good, _ = coded
    mw = works(maputo)[-1]
    maputo_ana = store.work_codes(maputo, mw, "ana")
    s = import_bundle(maputo, good)
    assert s["coding_runs_added"] == 1 and s["suggestions_added"] == 125
    assert s["codes_added"] == 10  # 5 + city + 2 by ben + draft + its undo; zed@harare skipped
    assert s["relayed_skipped"] == 1
    rows = list(maputo.db.query("SELECT * FROM coding_log WHERE origin != 'cli' ORDER BY id"))
    assert {r["reviewer"] for r in rows} == {"ana@lusaka", "ben@lusaka"}
    assert {r["origin"] for r in rows} == {"bundle:lusaka"}  # never a resolution of ours
    # maputo's own reviewer is untouched
    assert store.work_codes(maputo, mw, "ana") == maputo_ana
    w = works(lusaka)
    w0, w1, w6 = (local_work(maputo, lusaka, x) for x in (w[0], w[1], w[6]))
    conf = store.confirmed(maputo, "challenges")
    assert conf[(w1, "challenges")].value == ["governance", "economic"]
    assert conf[(w1, "challenges")].reviewers == ("ana@lusaka", "ben@lusaka")
    assert [c["work_id"] for c in store.conflicts(maputo, "challenges")] == [w0]
    assert store.confirmed(maputo, "city")[(w0, "city")].value == "Lusaka"
    # the undo travelled and points at the local copy of the row it undid
    hist = store.history(maputo, w6)
    assert [r.status for r in hist] == ["draft", "retract"]
    note = maputo.db.execute("SELECT note FROM coding_log WHERE id = ?", [hist[1].id]).fetchone()
    assert note[0] == f"undo of #{hist[0].id}"
    assert store.work_codes(maputo, w6, "ana@lusaka") == {}
    # the run: provenance kept, its id mapped, the codes made under it point at the local copy
    run = dict(maputo.db.query("SELECT * FROM coding_runs").__next__())
    src = dict(lusaka.db.query("SELECT * FROM coding_runs").__next__())
    assert run["group_name"] == "lusaka" and run["origin"] == f"lusaka/run/{src['id']}"
    for k in ("method", "model", "threshold", "params", "versions", "created_at", "n_works"):
        assert run[k] == src[k], k
    used = {r[0] for r in maputo.db.execute("SELECT run_id FROM coding_log WHERE reviewer = 'ana@lusaka' AND field = 'challenges' AND status = 'confirmed'")}  # fmt: skip
    assert used == {run["id"]}
    # the partner's suggestions and evidence show for its works (no local run covers them)
    got = latest(maputo, [local_work(maputo, lusaka, w[3])], "challenges")
    rows3 = next(iter(got.values()))
    assert {r["run_id"] for r in rows3} == {run["id"]}
    assert {r["value"] for r in rows3 if r["suggested"]} == {"economic", OPTS[3]}


def test_codes_export_and_synthesis_see_imported_codes(coded, tmp_path: Path):
    lusaka, maputo, good, _ = coded
    import_bundle(maputo, good)
    out = tmp_path / "codes.csv"
    r = CliRunner().invoke(
        cli, ["codes", "--status", "confirmed", "-o", str(out), "--db", str(maputo.path)]
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    w1 = local_work(maputo, lusaka, works(lusaka)[1])
    mine = [x for x in rows if x["work_id"] == str(w1) and x["field"] == "challenges"]
    assert [x["value"] for x in mine] == ["governance", "economic"]
    assert {x["reviewer"] for x in mine} == {"ana@lusaka;ben@lusaka"}
    assert all(x["evidence"].startswith("abstract: evidence for") for x in mine)


def test_local_runs_are_never_hidden_by_imported_ones(coded):
    lusaka, maputo, good, _ = coded
    import_bundle(maputo, good)
    w3 = local_work(maputo, lusaka, works(lusaka)[3])
    mine = log_run(
        maputo,
        [Suggestion(w3, "challenges", c, 0.9, True, "ours.", "title") for c in OPTS],
        "zero-shot", "challenges", select(maputo, "all"), {"local": 1},
    )  # fmt: skip
    again = tmp_path_bundle = good.with_name("again.reviewbundle")
    export_bundle(lusaka, tmp_path_bundle, group="lusaka", coding=True)
    import_bundle(maputo, again)  # nothing new, but imported after the local run
    rows = latest(maputo, [w3], "challenges")[(w3, "challenges")]
    assert {r["run_id"] for r in rows} == {mine}


def test_reimport_adds_nothing(coded):
    lusaka, maputo, good, tmp = coded
    import_bundle(maputo, good)
    snap = coding_dump(maputo)
    assert import_bundle(maputo, good)["already_imported"] is True
    assert coding_dump(maputo) == snap
    fresh = tmp / "fresh.reviewbundle"  # a new file with the same content: known row by row
    export_bundle(lusaka, fresh, group="lusaka", coding=True)
    s = import_bundle(maputo, fresh)
    assert s["already_imported"] is False
    assert (s["codes_added"], s["coding_runs_added"], s["suggestions_added"]) == (0, 0, 0)
    assert coding_dump(maputo) == snap


def test_round_trip_back_skips_our_own_rows(coded):
    lusaka, maputo, good, tmp = coded
    import_bundle(maputo, good)
    back = tmp / "maputo.reviewbundle"
    export_bundle(maputo, back, group="maputo", coding=True)
    before = coding_dump(lusaka)
    s = import_bundle(lusaka, back)
    assert s["codes_added"] == 1  # maputo's ana; lusaka's own codes relayed back are skipped
    assert s["coding_runs_added"] == 0  # lusaka's run, relayed back, is lusaka's already
    added = coding_dump(lusaka)[2][len(before[2]) :]
    assert [(r[3], r[6]) for r in added] == [("ana@maputo", "bundle:maputo")]
    assert coding_dump(lusaka)[:2] == before[:2]


def _set(member: str, line: int, **fields) -> object:
    def fn(rows: Rows) -> None:
        rows[line - 1].update(fields)

    return rows_edit(member, fn)


@pytest.mark.parametrize(
    "member,line,fields,needles",
    [
        ("coding_log.jsonl", 1, {"field": "topics"}, ["coding_log.jsonl line 1", "'field'", "topics"]),
        ("coding_log.jsonl", 2, {"value": ["cultural"]}, ["coding_log.jsonl line 2", "'value'", "cultural"]),
        ("coding_log.jsonl", 1, {"status": "final"}, ["coding_log.jsonl line 1", "'status'"]),
        ("coding_log.jsonl", 1, {"value": {"economic": 1}}, ["coding_log.jsonl line 1", "'value'", "list of texts"]),
        ("coding_log.jsonl", 6, {"value": True}, ["coding_log.jsonl line 6", "'value'"]),
        ("coding_log.jsonl", 1, {"work_ref": 9999}, ["coding_log.jsonl line 1", "'work_ref'"]),
        ("coding_log.jsonl", 1, {"run_id": 77}, ["coding_log.jsonl line 1", "'run_id'", "77"]),
        ("coding_log.jsonl", 1, {"created_at": "yesterday"}, ["coding_log.jsonl line 1", "'created_at'"]),
        ("coding_runs.jsonl", 1, {"field": "topics"}, ["coding_runs.jsonl line 1", "'field'", "topics"]),
        ("coding_runs.jsonl", 1, {"method": "oracle"}, ["coding_runs.jsonl line 1", "'method'"]),
        ("coding_suggestions.jsonl", 3, {"value": "cultural"}, ["coding_suggestions.jsonl line 3", "'value'"]),
        ("coding_suggestions.jsonl", 3, {"score": 1.5}, ["coding_suggestions.jsonl line 3", "'score'"]),
        ("coding_suggestions.jsonl", 3, {"run_id": 5}, ["coding_suggestions.jsonl line 3", "'run_id'"]),
    ],
)  # fmt: skip
def test_bad_coding_field_is_refused_and_writes_nothing(coded, member, line, fields, needles):
    _, maputo, good, tmp = coded
    bad = rebuild(good, tmp / "bad.reviewbundle", _set(member, line, **fields))
    refused(maputo, bad, *needles)


def test_codebook_missing_in_the_receiving_protocol_is_refused(coded, tmp_path: Path):
    from conftest import PROTOCOLS

    from review import protocol
    from review.store import init

    _, _, good, _ = coded
    plain = init(tmp_path / "plain.db", protocol.load(PROTOCOLS / "nelson-2002-estrogens.toml"))
    msg = refused(plain, good, "coding_runs.jsonl line 1", "'field'", "challenges")
    assert "codebook" in msg or "coding field" in msg


def test_relayed_coding_rows_and_runs_are_skipped(coded):
    _, maputo, good, tmp = coded
    maputo_ana = store.history(maputo, reviewer="ana")

    def forge(rows: Rows) -> None:
        rows[0].update(reviewer="ana@maputo", value=["technological"])  # speaks for maputo
        rows[1].update(reviewer="ana")  # unqualified: lusaka's own ana

    def relay_run(rows: Rows) -> None:
        rows[0].update(group_name="harare")  # a run lusaka imported from harare

    def edit(members: dict[str, bytes]) -> None:
        rows_edit("coding_log.jsonl", forge)(members)
        rows_edit("coding_runs.jsonl", relay_run)(members)

    bad = rebuild(good, tmp / "relayed.reviewbundle", edit)
    s = import_bundle(maputo, bad)
    assert store.history(maputo, reviewer="ana") == maputo_ana
    assert s["coding_runs_added"] == 0 and s["suggestions_added"] == 0
    assert s["relayed_skipped"] == 3  # ana@maputo's row, zed@harare's row, harare's run
    assert maputo.db.execute("SELECT COUNT(*) FROM coding_runs").fetchone()[0] == 0
    who = {r[0] for r in maputo.db.execute("SELECT DISTINCT reviewer FROM coding_log WHERE origin LIKE 'bundle:%'")}  # fmt: skip
    assert who == {"ana@lusaka", "ben@lusaka"}
    # codes made under the relayed run keep no run id (lusaka cannot vouch for harare's run)
    assert {r[0] for r in maputo.db.execute("SELECT DISTINCT run_id FROM coding_log WHERE origin LIKE 'bundle:%'")} == {None}  # fmt: skip


def test_cli_export_coding_and_inspect(coded, tmp_path: Path):
    lusaka, maputo, _, _ = coded
    out = tmp_path / "cli.reviewbundle"
    r = CliRunner().invoke(
        cli, ["bundle", "export", "-o", str(out), "--group", "lusaka", "--coding", "--db", str(lusaka.path)]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "11 codes, 1 suggestion run" in r.output
    info = inspect_bundle(out, maputo)
    assert info["codes"] == 11 and info["coding_runs"] == 1
    assert info["check"] == "every row is valid for this workspace"
    r = CliRunner().invoke(cli, ["bundle", "inspect", str(out), "--db", str(maputo.path)])
    assert r.exit_code == 0 and "11 coding log rows, 1 suggestion run" in r.output, r.output
    r = CliRunner().invoke(cli, ["bundle", "import", str(out), "--db", str(maputo.path)])
    assert r.exit_code == 0, r.output
    assert "10 codes, 1 suggestion run (125 suggestions)" in r.output
    # without --coding nothing of the coding travels (the flag is opt-in, like --decisions)
    plain = tmp_path / "plain.reviewbundle"
    m = export_bundle(lusaka, plain, group="lusaka")
    assert not any(n.startswith("coding_") for n in m["members"])
    assert json.loads(json.dumps(m["counts"]))["codes"] == 0


def test_a_groups_resolution_settles_its_own_coders_only(coded):
    """Lusaka resolved ana's and ben's disagreement: in Maputo that settles the work as long as only
    lusaka's coders confirmed it; it never overrules a Maputo reviewer (then it is a conflict)."""
    lusaka, maputo, _, tmp = coded
    w0 = works(lusaka)[0]
    store.resolve(lusaka, w0, "challenges", ["economic", "governance"], "lead")
    out = tmp / "resolved.reviewbundle"
    export_bundle(lusaka, out, group="lusaka", coding=True)
    import_bundle(maputo, out)
    here = local_work(maputo, lusaka, w0)
    rows = list(maputo.db.execute("SELECT origin FROM coding_log WHERE reviewer = 'lead@lusaka'"))
    assert rows == [("bundle:lusaka:resolution",)]  # lusaka's resolution, never ours
    c = store.confirmed(maputo, "challenges")[(here, "challenges")]
    assert c.resolved and c.value == ["governance", "economic"] and c.reviewers == ("lead@lusaka",)
    assert store.conflicts(maputo, "challenges") == []
    from review.coding.agreement import agreement

    pairs = agreement(maputo, "challenges")["pairs"]
    assert all("lead@lusaka" not in p["reviewers"] for p in pairs)  # a resolver is not a coder
    # a Maputo reviewer who confirms otherwise is not overruled by lusaka's resolution
    store.record(maputo, here, "challenges", "ana", ["technological"])
    assert (here, "challenges") not in store.confirmed(maputo, "challenges")
    assert [c["work_id"] for c in store.conflicts(maputo, "challenges")] == [here]


def test_future_code_dates_are_clamped(coded):
    """A code dated 2099 cannot outrank what the group's reviewers did before the import."""
    _, maputo, good, tmp = coded
    bad = rebuild(good, tmp / "future.reviewbundle", _set("coding_log.jsonl", 1, created_at="2099-01-01T00:00:00+00:00"))  # fmt: skip
    s = import_bundle(maputo, bad)
    assert s["dates_clamped"] == 1
    latest_date = maputo.db.execute("SELECT MAX(created_at) FROM coding_log").fetchone()[0]
    assert latest_date < "2099"
