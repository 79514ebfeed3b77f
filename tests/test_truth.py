"""One source of truth (issue 12): every command counts decisions by the same rule.

Each test here is a regression test for one defect seen on the tool: written first, seen failing,
then fixed. Workspaces are real SQLite files; records go in through the real store API, merges
through dedup's ``merges`` module, decisions through ``screen.actions``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from review import prisma, protocol
from review.cli import cli
from review.dedup import merges
from review.errors import ProtocolError
from review.harvest.export import export_rows
from review.models import Record
from review.prisma import check
from review.screen import actions
from review.screen.queue import eligible_work_ids
from review.share.agreement import conflicts, visible_decisions
from review.status import summary
from review.store import init
from review.store.decisions import current_decisions, resolve_work, resolved_decisions
from review.store.records import add_records, finish_search, start_search

TA, FT = "title-abstract", "full-text"
PROTO = Path(__file__).parent / "data" / "screen" / "depression.toml"
GRAYLIT = Path(__file__).parent / "data" / "graylit"


def make_ws(tmp_path: Path, extra: str = ""):
    text = PROTO.read_text(encoding="utf-8")
    if extra:
        text = text.replace("[screening]\n", "[screening]\n" + extra + "\n")
    return init(tmp_path / "truth.db", protocol.loads(text))


def add(ws, n: int, source: str = "Db", arm: str = "databases") -> list[int]:
    sid = start_search(ws, source=source, arm=arm, kind="file")
    ids = add_records(
        ws, sid, [Record(title=f"{source} paper {i}", source_record_id=f"{i}") for i in range(n)]
    )
    finish_search(ws, sid, records_found=n, records_stored=len(ids))
    marks = ",".join("?" * len(ids))
    return [r[0] for r in ws.db.execute(f"SELECT work_id FROM records WHERE id IN ({marks})", ids)]


def merge(ws, survivor: int, absorbed: int) -> None:
    merges.merge_works(ws, survivor, [(absorbed, "test", None)], actor="test")


def agree(ws) -> None:
    """The PRISMA identities hold and status, PRISMA and export tell the same story."""
    flow = prisma.compute(ws)
    check.check(flow)
    s = summary(ws)
    ta = s["decisions"].get(TA, {"include": 0, "exclude": 0, "maybe": 0})
    v = flow.values
    assert ta["exclude"] == v["records_excluded"] + v["excluded_automatic"]
    assert ta["include"] + ta["maybe"] == v["dbr_sought_reports"]
    assert len(export_rows(ws, stage=TA, decision="exclude")) == ta["exclude"]


@pytest.fixture
def tws(tmp_path: Path):
    w = make_ws(tmp_path)
    yield w
    w.close()


# -- "two rules decide a work's final decision" ---------------------------------------------------


def test_status_prisma_and_export_agree_on_include_plus_maybe(tws):
    w = add(tws, 3)
    actions.decide(tws, w[0], TA, "ana", "include")
    actions.decide(tws, w[0], TA, "ben", "maybe")
    s = summary(tws)["decisions"][TA]
    flow = prisma.compute(tws)
    assert s["include"] == 1
    assert flow["dbr_sought_reports"] == 1 and flow["records_awaiting"] == 2
    assert [r["work_id"] for r in export_rows(tws, stage=TA, decision="include")] == [w[0]]
    agree(tws)


def test_status_and_prisma_agree_on_a_decision_made_on_an_absorbed_work(tws):
    w = add(tws, 3)
    actions.decide(tws, w[0], TA, "ana", "include")
    actions.decide(tws, w[1], TA, "ana", "exclude", "E1")
    merge(tws, w[2], w[1])  # the exclusion was made on w[1]; it now counts for w[2]
    s = summary(tws)["decisions"][TA]
    assert s == {"include": 1, "exclude": 1, "maybe": 0, "conflict": 0}
    assert prisma.compute(tws)["records_excluded"] == 1
    agree(tws)


def test_per_work_resolution_equals_the_whole_stage_rule(tws):
    w = add(tws, 6)
    actions.decide(tws, w[0], TA, "ana", "include")
    actions.decide(tws, w[0], TA, "ben", "exclude", "E1")  # conflict
    actions.decide(tws, w[1], TA, "ana", "maybe")
    actions.decide(tws, w[1], TA, "ben", "exclude", "E2")  # conflict too (maybe vs exclude)
    actions.decide(tws, w[2], TA, "ana", "include")
    actions.decide(tws, w[2], TA, "ben", "exclude", "E1")
    actions.decide(tws, w[2], TA, "lead", "exclude", "E2", origin="resolution")
    actions.decide(tws, w[3], TA, "ana", "maybe")
    actions.decide(tws, w[4], TA, "ana", "exclude", "E3")
    stage = resolved_decisions(tws, TA)
    for wid in w:
        one = resolve_work(tws, wid, TA)
        assert (one["decision"] if one else None) == (
            stage[wid]["decision"] if wid in stage else None
        ), wid
    assert {c["work_id"] for c in conflicts(tws, TA)} == {w[0], w[1]}
    assert stage[w[2]]["reason"] == "E2" and stage[w[3]]["decision"] == "maybe"
    agree(tws)


# -- "maybe puts the work in the full-text queue but is not counted as sought" --------------------


def test_maybe_is_sought_and_full_text_decision_keeps_the_identities(tws):
    w = add(tws, 2)
    actions.decide(tws, w[0], TA, "ana", "maybe")
    assert eligible_work_ids(tws, FT) == [w[0]]
    actions.decide(tws, w[0], FT, "ana", "include")
    flow = prisma.compute(tws)
    assert flow["dbr_sought_reports"] == 1 and flow["dbr_included"] == 1
    check.check(flow)


def test_protocol_maybe_undecided_does_not_advance(tmp_path):
    ws = make_ws(tmp_path, 'maybe = "undecided"')
    w = add(ws, 2)
    actions.decide(ws, w[0], TA, "ana", "maybe")
    actions.decide(ws, w[1], TA, "ana", "include")
    actions.decide(ws, w[1], TA, "ben", "maybe")  # a disagreement under this rule
    assert eligible_work_ids(ws, FT) == []
    flow = prisma.compute(ws)
    assert flow["dbr_sought_reports"] == 0 and flow["records_awaiting"] == 2
    assert [c["work_id"] for c in conflicts(ws, TA)] == [w[1]]
    check.check(flow)


def test_protocol_rejects_an_unknown_maybe_rule():
    text = PROTO.read_text(encoding="utf-8").replace("[screening]\n", '[screening]\nmaybe = "x"\n')
    with pytest.raises(ProtocolError, match="screening.maybe"):
        protocol.loads(text)


def test_full_text_decision_made_stale_by_a_later_title_abstract_exclusion(tws):
    """Ordinary screening (a second reviewer disagrees after full text started) keeps --check."""
    w = add(tws, 2)
    actions.decide(tws, w[0], TA, "ana", "include")
    actions.decide(tws, w[0], FT, "ana", "include")
    actions.decide(tws, w[0], TA, "ben", "exclude", "E1")  # now a conflict at title/abstract
    flow = prisma.compute(tws)
    check.check(flow)
    assert flow["dbr_included"] == 0 and flow["dbr_fulltext_not_sought"] == 1
    assert any("not counted" in n for n in check.pending(flow))
    # status and export do not count it either; history still shows it
    assert summary(tws)["decisions"][FT]["include"] == 0
    assert export_rows(tws, stage=FT, decision="include") == []
    assert any(e["stage"] == FT for e in actions.history(tws, w[0]))


def test_decide_at_full_text_before_screening_says_it_is_not_counted(tws):
    (w,) = add(tws, 1)
    run = CliRunner().invoke
    db = ["--reviewer", "ana", "--db", str(tws.path)]
    r = run(cli, ["decide", str(w), "--include", "--stage", FT, *db])
    assert r.exit_code == 0 and "not counted until it does" in r.output
    r = run(cli, ["decide", str(w), "--include", *db])
    r = run(cli, ["decide", str(w), "--include", "--stage", FT, *db])
    assert r.exit_code == 0 and "not counted" not in r.output


def test_not_retrieved_then_assessed_counts_once(tws):
    w = add(tws, 1)
    actions.decide(tws, w[0], TA, "ana", "include")
    actions.mark_not_retrieved(tws, w[0], "ana")
    actions.decide(tws, w[0], FT, "ana", "exclude", "E3")
    flow = prisma.compute(tws)
    check.check(flow)
    assert flow["dbr_assessed"] == 1 and flow["dbr_notretrieved_reports"] == 0


# -- "chains of merges lose decisions" -------------------------------------------------------------


def test_merge_chain_keeps_decisions_on_the_final_survivor(tws):
    a, b, c = add(tws, 3)
    actions.decide(tws, a, TA, "ana", "include")
    merge(tws, b, a)
    merge(tws, c, b)
    assert tws.db.execute("SELECT merged_into FROM works WHERE id = ?", [a]).fetchone()[0] == c
    assert resolved_decisions(tws, TA)[c]["decision"] == "include"
    assert [d["work_id"] for d in current_decisions(tws, stage=TA, work_id=c)] == [c]
    assert prisma.compute(tws)["dbr_sought_reports"] == 1
    agree(tws)


def test_split_after_a_chain_gives_decisions_back(tws):
    a, b, c = add(tws, 3)
    actions.decide(tws, a, TA, "ana", "include")
    merge(tws, b, a)
    merge(tws, c, b)
    merges.split_work(tws, c, actor="test")
    rows = dict(tws.db.execute("SELECT id, merged_into FROM works").fetchall())
    assert rows == {a: None, b: None, c: None}
    assert set(resolved_decisions(tws, TA)) == {a}
    agree(tws)


def test_undo_on_a_merged_group_restores_the_group_value(tws):
    a, b = add(tws, 2)
    actions.decide(tws, a, TA, "ana", "include")
    actions.decide(tws, b, TA, "ana", "exclude", "E1")
    merge(tws, b, a)
    assert resolve_work(tws, b, TA)["decision"] == "exclude"  # the latest of ana's votes
    actions.undo_last(tws, TA, "ana", work_id=b)
    assert resolve_work(tws, b, TA)["decision"] == "include"
    agree(tws)


# -- history and decide on absorbed works ---------------------------------------------------------


def test_history_shows_decisions_made_on_absorbed_works(tws):
    a, b = add(tws, 2)
    actions.decide(tws, a, TA, "ana", "include")
    merge(tws, b, a)
    events = actions.history(tws, b)
    assert [(e["kind"], e["work_id"], e["absorbed"]) for e in events] == [("decision", a, True)]
    r = CliRunner().invoke(cli, ["history", str(b), "--db", str(tws.path)])
    assert r.exit_code == 0 and f"(on work {a}, merged into {b})" in r.output


def test_decide_on_an_absorbed_work_says_so_and_records_on_the_survivor(tws):
    a, b = add(tws, 2)
    merge(tws, b, a)
    r = CliRunner().invoke(
        cli, ["decide", str(a), "--include", "--reviewer", "ana", "--db", str(tws.path)]
    )
    assert r.exit_code == 0, r.output
    assert f"work {a} was merged into work {b}" in r.output
    row = tws.db.execute("SELECT work_id FROM decisions").fetchone()
    assert row[0] == b


# -- searches -------------------------------------------------------------------------------------


def test_failed_searches_count_as_unfinished(tws):
    sid = start_search(tws, source="OpenAlex", arm="databases", kind="openalex")
    finish_search(tws, sid, records_found=None, records_stored=0, status="failed")
    assert summary(tws)["searches"]["unfinished"] == 1


def test_kind_given_to_add_web_is_counted_in_prisma_and_shown_in_searches(tws):
    page = next(p for p in sorted(GRAYLIT.glob("*.md")) if p.name != "README.md")
    r = CliRunner().invoke(
        cli,
        ["add-web", str(page), "--kind", "organisation", "--source", "UNDP", "--db", str(tws.path)],
    )
    assert r.exit_code == 0, r.output
    flow = prisma.compute(tws)
    assert flow["organisation_results"] == 1 and flow["website_results"] == 0
    check.check(flow)
    r = CliRunner().invoke(cli, ["searches", "--db", str(tws.path)])
    assert "organisation" in r.output
    r = CliRunner().invoke(cli, ["searches", "--json", "--db", str(tws.path)])
    assert '"source_kind": "organisation"' in r.output


# -- performance: the per-work path reads through indexes only ----------------------------------


def plans(ws, fn) -> list[str]:
    """Every EXPLAIN QUERY PLAN detail line of the statements ``fn`` runs."""
    stmts: list[str] = []
    ws.db.conn.set_trace_callback(stmts.append)
    try:
        fn()
    finally:
        ws.db.conn.set_trace_callback(None)
    out = []
    for s in stmts:
        if s.lstrip().upper().startswith(("SELECT", "WITH")):
            out += [r[3] for r in ws.db.conn.execute("EXPLAIN QUERY PLAN " + s)]
    return out


def test_visible_decisions_and_per_work_rule_use_indexes_only(tws):
    w = add(tws, 30)
    for i, wid in enumerate(w):
        actions.decide(
            tws, wid, TA, "ana", "include" if i % 2 else "exclude", None if i % 2 else "E1"
        )
    merge(tws, w[1], w[0])
    tws.db.conn.execute("ANALYZE")
    for fn in (
        lambda: visible_decisions(tws, w[1], TA, "ben"),
        lambda: current_decisions(tws, stage=TA, work_id=w[1]),
        lambda: resolve_work(tws, w[1], TA),
    ):
        lines = plans(tws, fn)
        assert lines, "no statements traced"
        # SCAN of a subquery's few rows is fine; SCAN of a table (or its alias) is not, except
        # the protocols table (a handful of rows, read once per protocol version)
        subqueries = {
            ln.split()[-1] for ln in lines if ln.startswith(("CO-ROUTINE", "MATERIALIZE"))
        }
        scans = [
            ln for ln in lines
            if ln.startswith("SCAN") and ln.split()[1] not in subqueries | {"protocols"}
        ]  # fmt: skip
        assert scans == [], lines
