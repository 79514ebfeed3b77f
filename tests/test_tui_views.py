"""The TUI's extra views driven by Pilot: conflicts (dual screening), countries, duplicate pairs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import settled
from test_screen import PROTOCOL, build_workspace
from test_tui_sql import Recorder

from review.cli import cli
from review.dedup import engine
from review.models import Record
from review.screen.tui.app import ScreenApp
from review.screen.tui.conflicts import BLIND_NOTE, ConflictApp, DecisionsPanel
from review.screen.tui.countries import parse_changes
from review.screen.tui.dedup_view import DedupApp, PairSide
from review.screen.tui.palette import ScreenCommands
from review.screen.tui.widgets import RecordView
from review.share.agreement import conflicts
from review.store import Workspace
from review.store.decisions import record_decision
from review.store.records import add_records, start_search

SIZE = (160, 50)
TA = "title-abstract"


def header(app) -> str:
    return app.query_one(RecordView).header_text.plain


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def ui_thread_calls(rec, module: str, function: str) -> list[str]:
    """Statements the UI thread's connection ran from ``module.function``."""
    pattern = re.compile(rf"\b{re.escape(module)}:\d+ {function}\b")
    return [t.sql for t in rec.statements if pattern.search(t.where)]


# -- conflicts ------------------------------------------------------------------------------------


@pytest.fixture
def conflict_db(tmp_path: Path) -> Path:
    """Blind protocol; ann and bob disagree on works 2 and 4, agree on 5."""
    proto = tmp_path / "blind.toml"
    proto.write_text(PROTOCOL.read_text().replace("[screening]\n", "[screening]\nblind = true\n"))
    db = tmp_path / "c.db"
    ws = build_workspace(db, proto=proto)
    for wid, reviewer, decision, reason, note in [
        (2, "ann", "include", None, "rat forced swim test"),
        (2, "bob", "exclude", "E2", "humans only?"),
        (4, "ann", "exclude", "E1", None),
        (4, "bob", "maybe", None, None),
        (5, "ann", "include", None, None),
        (5, "bob", "include", None, None),
    ]:
        record_decision(
            ws, work_id=wid, stage=TA, reviewer=reviewer, decision=decision, reason=reason,
            note=note,
        )  # fmt: skip
    assert [c["work_id"] for c in conflicts(ws, TA)] == [2, 4]
    ws.close()
    return db


def resolutions(db: Path) -> list[tuple]:
    with Workspace.open(db) as ws:
        return ws.db.execute(
            "SELECT work_id, reviewer, decision, reason, note FROM decisions"
            " WHERE origin = 'resolution' ORDER BY id"
        ).fetchall()


async def test_conflict_view_shows_decisions_and_resolves(conflict_db):
    app = ConflictApp(conflict_db, resolver="carol")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert app.current["work_id"] == 2
        assert "conflict 1 of 2" in header(app) and "resolving as carol" in header(app)
        panel = app.query_one(DecisionsPanel)
        # blind = true does not hide decisions from the resolver
        assert panel.plain == "ann: include — rat forced swim test\nbob: exclude E2 — humans only?"
        svg = app.export_screenshot()
        for shown in ("ann", "bob", "forced", "Human", "Blind"):
            assert shown in svg
        # keywords are highlighted as in the screening app
        view = app.query_one(RecordView)
        styles = {s.style for s in view.body_text.spans}
        assert view.get_component_rich_style("record--include") in styles

        await pilot.press("e", "2")  # exclude with reason 2 = E2
        assert resolutions(conflict_db) == [(2, "carol", "exclude", "E2", None)]
        assert app.current["work_id"] == 4 and "conflict 1 of 1" in header(app)
        assert app.query_one(DecisionsPanel).plain == "ann: exclude E1\nbob: maybe"

        await pilot.press("n", *"needs full text", "enter")
        assert "note: needs full text" in header(app)
        await pilot.press("m")
        assert resolutions(conflict_db)[-1] == (4, "carol", "maybe", None, "needs full text")
        assert header(app).startswith("No conflicts")
        assert app.query_one(DecisionsPanel).plain == ""
        await pilot.press("i")  # nothing left: no row written
    assert len(resolutions(conflict_db)) == 2
    with Workspace.open(conflict_db) as ws:
        assert conflicts(ws, TA) == []


async def test_conflict_view_skip_and_cancel(conflict_db):
    app = ConflictApp(conflict_db, resolver="carol")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(app, pilot)
        await pilot.press("right")
        assert app.current["work_id"] == 4
        await pilot.press("e", "escape")  # cancelled: nothing recorded
        await pilot.press("i")
        assert resolutions(conflict_db) == [(4, "carol", "include", None, None)]
        assert app.current["work_id"] == 2  # the one skipped is still open
        await pilot.press("question_mark")
        await pilot.pause()
        assert BLIND_NOTE in messages(app)
    app2 = ConflictApp(conflict_db, resolver="dan")  # a restart shows what is still open
    async with app2.run_test(size=SIZE) as pilot:
        await settled(app2, pilot)
        assert [c["work_id"] for c in app2.items] == [2]


async def test_conflict_view_uses_protocol_keys(tmp_path):
    proto = tmp_path / "keys.toml"
    proto.write_text(PROTOCOL.read_text() + '\n[keys]\ninclude = "y"\n')
    db = tmp_path / "k.db"
    ws = build_workspace(db, proto=proto)
    for reviewer, decision, reason in (("ann", "include", None), ("bob", "exclude", "E1")):
        record_decision(
            ws, work_id=7, stage=TA, reviewer=reviewer, decision=decision, reason=reason
        )
    ws.close()
    app = ConflictApp(db, resolver="carol")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("i")
        assert resolutions(db) == []
        await pilot.press("y")
        assert resolutions(db) == [(7, "carol", "include", None, None)]


async def test_conflict_view_empty_workspace(tmp_path):
    db = tmp_path / "e.db"
    build_workspace(db).close()
    app = ConflictApp(db, resolver="carol")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert header(app) == "No conflicts"
        await pilot.press("i", "m")
    assert resolutions(db) == []


async def test_conflict_view_reads_the_conflicts_in_a_worker(conflict_db):
    """The open conflicts (a whole-stage query) are read off the UI thread, at start too: the
    app's own connection never runs ``agreement.conflicts``; the screen shows the worker's read."""
    app = ConflictApp(conflict_db, resolver="carol")
    rec = Recorder()
    app.ws.db.conn.set_trace_callback(rec)  # the UI thread's connection, from before mounting
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert app.current["work_id"] == 2 and "conflict 1 of 2" in header(app)
        assert app.query_one(DecisionsPanel).plain.startswith("ann: include")
        with Workspace.open(conflict_db) as other:  # another resolver settles work 4
            record_decision(
                other, work_id=4, stage=TA, reviewer="dan", decision="include",
                origin="resolution",
            )  # fmt: skip
        await pilot.press("i")  # work 2; the re-read finds work 4 closed as well
        await settled(app, pilot)
        assert app.items == [] and header(app).startswith("No conflicts")
        assert app.resolved == 1
    assert rec.statements, "the trace saw nothing"
    assert ui_thread_calls(rec, "agreement.py", "conflicts") == []


# -- countries ------------------------------------------------------------------------------------


def test_parse_changes():
    assert parse_changes("+ZA, -mw , Mozambique,,") == [
        ("add", "ZA"),
        ("remove", "mw"),
        ("add", "Mozambique"),
    ]
    assert parse_changes("  ") == [] and parse_changes("+") == []


def country_rows(db: Path) -> list[tuple]:
    with Workspace.open(db) as ws:
        return ws.db.execute(
            "SELECT work_id, country, kind, origin, action, reviewer FROM work_countries"
            " WHERE origin = 'reviewer' ORDER BY id"
        ).fetchall()


async def test_countries_shown_and_fixed(tmp_path):
    from review.themes import regions

    db = tmp_path / "k.db"
    ws = build_workspace(db)
    sid = start_search(ws, source="OpenAlex", arm="databases", kind="openalex")
    (rid,) = add_records(
        ws,
        sid,
        [Record(title="Smart grids in Malawi", year=2020, affiliation_countries=("GB", "MW"))],
    )
    wid = ws.db.execute("SELECT work_id FROM records WHERE id = ?", [rid]).fetchone()[0]
    regions.detect(ws, [1, wid])
    ws.close()
    app = ScreenApp(db, reviewer="ann", order="oldest")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.current == 1
        assert "study countries: - · affiliation countries: -" in header(app)
        await pilot.press("c", *"+ZA, Mozambique", "enter")
        assert country_rows(db) == [
            (1, "ZA", "study", "reviewer", "add", "ann"),
            (1, "MZ", "study", "reviewer", "add", "ann"),
        ]
        assert "study countries: MZ, ZA" in header(app)
        await pilot.press("c", *"-za", "enter")
        assert "study countries: MZ ·" in header(app)
        assert country_rows(db)[-1] == (1, "ZA", "study", "reviewer", "remove", "ann")
        await pilot.press("c", *"Atlantis", "enter")  # unknown: a notification, app keeps going
        await pilot.pause()
        assert any("unknown country 'Atlantis'" in m for m in messages(app))
        assert len(country_rows(db)) == 3
        app.show(wid)
        assert "study countries: MW · affiliation countries: GB, MW" in header(app)
        app.show(1)
        await pilot.press("i")  # still screening
        assert app.current == 2
        provider = ScreenCommands(app.screen)
        titles = [str(h.display) for h in [h async for h in provider.discover()]]
        assert "Fix countries" in titles


# -- duplicate pairs ------------------------------------------------------------------------------


def load_pairs(ws) -> None:
    """Two draft/final pairs of gray-literature reports: uncertain, queued, not merged."""
    sid = start_search(ws, source="ministry sites", arm="other", kind="web")
    add_records(
        ws,
        sid,
        [
            Record(
                title="National Smart City Strategy for Zambia: consultation draft",
                authors=("Ministry of Local Government and Rural Development",),
                year=2021,
                abstract="Draft strategy for consultation with municipalities.",
                source_record_id="z1",
            ),
            Record(
                title="National Smart City Strategy for Zambia",
                authors=("Ministry of Local Government and Rural Development",),
                year=2022,
                abstract="The final national strategy adopted by cabinet.",
                source_record_id="z2",
            ),
            Record(
                title="Digital Transformation Roadmap for Malawi: consultation draft",
                authors=("Ministry of Information and Digitalization",),
                year=2019,
                source_record_id="m1",
            ),
            Record(
                title="Digital Transformation Roadmap for Malawi",
                authors=("Ministry of Information and Digitalization",),
                year=2020,
                source_record_id="m2",
            ),
        ],
    )
    res = engine.run(ws)
    assert res["works_absorbed"] == 0 and res["candidates_pending"] == 2


def candidates(db: Path) -> dict[str, str]:
    with Workspace.open(db) as ws:
        return dict(
            ws.db.execute(
                "SELECT r.title, c.status FROM dedup_candidates c JOIN records r ON r.id = c.record_b"
            ).fetchall()
        )


def active_works(db: Path) -> int:
    with Workspace.open(db) as ws:
        return ws.db.execute("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0]


async def test_dedup_view_side_by_side_and_decisions(ws, db_path):
    load_pairs(ws)
    app = DedupApp(db_path, actor="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        first = app.current
        a = app.query_one("#side-a", PairSide).plain
        b = app.query_one("#side-b", PairSide).plain
        assert first["title_a"] in a and first["title_b"] in b
        for text in (a, b):
            assert "Ministry of" in text and "source  ministry sites" in text and "doi" in text
        assert "consultation" in a + b  # abstract start of the draft (or its title)
        await pilot.press("s")  # skip: stays pending, not shown again this session
        second = app.current
        assert second["id"] != first["id"]
        await pilot.press("n")  # distinct
        assert app.current is None
        assert "1 skipped, still pending" in str(app.query_one("#pair-status").content)
        await settled(app, pilot)  # the worker's re-read says the same
        assert app.current is None
        assert "1 skipped, still pending" in str(app.query_one("#pair-status").content)
    assert candidates(db_path)[second["title_b"]] == "distinct" and active_works(db_path) == 4
    app2 = DedupApp(db_path, actor="ann")  # the skipped pair is back next time
    async with app2.run_test(size=SIZE) as pilot:
        await settled(app2, pilot)
        assert app2.current["id"] == first["id"]
        await pilot.press("y")  # duplicate: merged
        assert app2.current is None
        assert "No pairs waiting for review." in str(app2.query_one("#pair-status").content)
        await settled(app2, pilot)
        assert "No pairs waiting for review." in str(app2.query_one("#pair-status").content)
    statuses = candidates(db_path)
    assert statuses[first["title_b"]] == "duplicate"
    assert statuses[second["title_b"]] == "distinct"
    assert active_works(db_path) == 3
    with Workspace.open(db_path) as w:
        assert w.db.execute("SELECT rule, actor FROM merges").fetchall() == [("review", "ann")]
        assert engine.run(w)["candidates_pending"] == 0  # a distinct pair is not proposed again


async def test_dedup_view_skip_all_leaves_pending(ws, db_path):
    load_pairs(ws)
    app = DedupApp(db_path, actor="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("s", "s")
        assert app.current is None
        assert "2 skipped, still pending" in str(app.query_one("#pair-status").content)
        await pilot.press("y")  # nothing to decide
    assert set(candidates(db_path).values()) == {"pending"} and active_works(db_path) == 4


def status(app) -> str:
    return str(app.query_one("#pair-status").content)


async def test_dedup_view_reads_the_pending_pairs_in_a_worker(ws, db_path):
    """The pending list is read off the UI thread, at start and after each y/n: the app's own
    connection never runs ``queue.pending``. The next pair shows at once (the decision's effect
    applied to the list), and the worker's re-read brings what another process decided."""
    from review.dedup import queue

    load_pairs(ws)
    app = DedupApp(db_path, actor="ann")
    rec = Recorder()
    app.ws.db.conn.set_trace_callback(rec)  # the UI thread's connection, from before mounting
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        first = app.current
        assert first is not None and "2 to review · 0 decided" in status(app)
        second = app._todo()[1]
        with Workspace.open(db_path) as other:  # another reviewer settles the second pair
            queue.decide(other, second["id"], False, actor="bob")
        await pilot.press("n")
        await settled(app, pilot)  # the re-read brings bob's decision
        assert app.current is None and "No pairs waiting for review." in status(app)
        assert app.query_one("#side-a", PairSide).plain == ""
    assert rec.statements, "the trace saw nothing"
    assert ui_thread_calls(rec, "queue.py", "pending") == []
    assert candidates(db_path) == {first["title_b"]: "distinct", second["title_b"]: "distinct"}


async def test_dedup_view_reads_a_works_abstract_in_a_worker(ws, db_path):
    """A record with no abstract shows its work's abstract (side_text's fallback), read by a
    worker: the UI thread's connection never runs ``get_work``."""
    load_pairs(ws)
    ws.db.execute(
        "UPDATE works SET abstract = 'Roadmap abstract kept on the work.' WHERE id IN"
        " (SELECT work_id FROM records WHERE source_record_id IN ('m1', 'm2'))"
    )
    ws.db.conn.commit()
    app = DedupApp(db_path, actor="ann")
    rec = Recorder()
    app.ws.db.conn.set_trace_callback(rec)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        if "Malawi" not in app.current["title_a"]:
            await pilot.press("s")
        await settled(app, pilot)
        for side in ("#side-a", "#side-b"):
            text = app.query_one(side, PairSide).plain
            assert "Malawi" in text and "Roadmap abstract kept on the work." in text, text
        await pilot.press("n")  # the decision is written on the UI thread's connection
        await settled(app, pilot)
    assert rec.statements, "the trace saw nothing"
    assert ui_thread_calls(rec, "actions.py", "get_work") == []


async def test_an_abstract_read_from_before_a_merge_is_not_cached(ws, db_path):
    """A read of a work's abstract that left before a merge and lands after it (the merge cleared
    the cache: the surviving work may have another abstract now) is dropped, not cached."""
    load_pairs(ws)
    app = DedupApp(db_path, actor="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        pair = app.current
        wid = pair["work_a"]
        app.abstracts.pop(wid, None)
        held: list = []
        real = app.run_db
        app.run_db = lambda fn, done=None, **kw: held.append(done)  # the read is in flight
        app._abstract(wid)
        app.run_db = real
        app._decided({"candidate": pair["id"], "work_id": wid})  # a merge into wid lands first
        held[0]((wid, "stale: read before the merge"))  # then the old read
        await settled(app, pilot)
        assert app.abstracts.get(wid) != "stale: read before the merge"


async def test_dedup_view_applies_a_merge_to_its_list_before_the_re_read(ws, db_path):
    """What the view shows between a decision and the worker's re-read: the decided pair leaves,
    a pair whose records are now in one work leaves, a pair of the absorbed work names the
    surviving work (as ``queue.pending`` then says)."""
    load_pairs(ws)
    app = DedupApp(db_path, actor="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        first, second = app._todo()
        a, b = first["work_a"], first["work_b"]
        app.pairs += [
            {**second, "id": 998, "work_a": b, "work_b": a},  # the merged works again
            {**second, "id": 999, "work_a": 77, "work_b": b},  # the absorbed work and another
        ]
        app._settle(first["id"], a)  # b merged into a
        assert [(p["id"], p["work_a"], p["work_b"]) for p in app.pairs] == [
            (second["id"], second["work_a"], second["work_b"]),
            (999, 77, a),
        ]
        app._settle(second["id"], None)  # distinct: only the pair leaves
        assert [p["id"] for p in app.pairs] == [999]


def test_screen_flags_are_exclusive(db_path):
    res = CliRunner().invoke(cli, ["screen", "--conflicts", "--dedup", "--db", db_path])
    assert res.exit_code != 0 and "at most one" in res.output
