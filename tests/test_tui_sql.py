"""The screening app's per-key path reads only the work in hand through indexes (issue 18).

No timing here: every SQL statement the app runs on its own connection while a reviewer presses
keys is recorded (``sqlite3`` trace callback), explained (``EXPLAIN QUERY PLAN``) and checked:
no full scan of a table that grows with the review (works, decisions, records, ...), and no more
than ``BUDGET`` statements per key. A failure names the statement and the Python caller, so the
next refactor cannot bring a 100 ms scan back unnoticed (at 100k works one scan of ``works`` or
``decisions`` costs more than the whole 50 ms budget of a key).
"""

from __future__ import annotations

import re
import sqlite3
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import settled
from test_screen import build_workspace

from review.screen.tui.app import ScreenApp
from review.screen.tui.widgets import RecordView

SIZE = (150, 50)
# tables whose size grows with the review; small fixed tables (meta, protocols) may be scanned
BIG = (
    "works", "decisions", "records", "notes", "tags", "retrieval", "work_countries",
    "documents", "document_pages", "merges", "searches", "embeddings", "dedup_candidates",
    "sample_order", "sample_phases",
)  # fmt: skip
BUDGET = 30  # statements per key on the UI thread's connection (measured: see test output)
SKIP = re.compile(r"^\s*(PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@dataclass
class Traced:
    sql: str
    where: str  # review/... callers, innermost first


@dataclass
class Recorder:
    """Records every statement run on one connection with the review code that ran it."""

    statements: list[Traced] = field(default_factory=list)

    def __call__(self, sql: str) -> None:
        frames = [
            f"{Path(f.filename).name}:{f.lineno} {f.name}"
            for f in reversed(traceback.extract_stack()[:-1])
            if "/review/" in f.filename and "/tests/" not in f.filename
        ]
        self.statements.append(Traced(sql, " <- ".join(frames[:4])))


def scans(conn: sqlite3.Connection, sql: str) -> list[str]:
    """The plan lines of ``sql`` that scan a big table in full (``SCAN works`` ...)."""
    if SKIP.match(sql):
        return []
    plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    bad = []
    for line in plan:
        m = re.match(r"SCAN (\w+)", line)
        if m and m.group(1) in BIG:
            bad.append(line)
    return bad


def offenders(conn: sqlite3.Connection, traced: list[Traced]) -> list[str]:
    out = []
    for t in traced:
        bad = scans(conn, t.sql)
        if bad:
            one_line = " ".join(t.sql.split())
            out.append(f"{'; '.join(bad)} in `{one_line[:160]}` from {t.where}")
    return sorted(set(out))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    ws = build_workspace(tmp_path / "tui.db")
    # a merged pair, so the per-work decision look-up follows merged_into as it does in real use
    ws.db.execute("UPDATE works SET active = 0, merged_into = 30 WHERE id = 29")
    ws.db.conn.commit()
    ws.close()
    return tmp_path / "tui.db"


def test_a_scanning_query_is_caught(db):
    """The checker can fail: a deliberate full scan and a correlated scan are reported."""
    conn = sqlite3.connect(db)
    rec = Recorder()
    conn.set_trace_callback(rec)
    conn.execute("SELECT COUNT(*) FROM decisions WHERE note LIKE '%x%'").fetchall()
    conn.execute("SELECT id FROM works WHERE title LIKE 'x%'").fetchall()
    conn.execute("SELECT * FROM works WHERE id = 3").fetchall()  # indexed: fine
    conn.set_trace_callback(None)
    found = offenders(conn, rec.statements)
    assert len(found) == 2, found
    assert any("SCAN decisions" in f for f in found) and any("SCAN works" in f for f in found)
    assert all("test_tui_sql.py" not in f.split(" from ")[-1] for f in found)


async def _drive(app: ScreenApp, pilot, keys: list[tuple[str, ...]]) -> list[list[Traced]]:
    per_key: list[list[Traced]] = []
    for k in keys:
        rec = Recorder()
        app.ws.db.conn.set_trace_callback(rec)
        await pilot.press(*k)
        app.ws.db.conn.set_trace_callback(None)
        per_key.append(rec.statements)
    return per_key


async def test_guard_names_the_offender_when_an_index_goes_missing(db):
    """Without works_merged_into, the per-work decision look-up scans works: caught, and the
    message names the Python caller (the one decision rule's per-work path)."""
    conn = sqlite3.connect(db)
    conn.execute("DROP INDEX works_merged_into")
    conn.commit()
    app = ScreenApp(db, reviewer="ann", order="oldest")
    async with app.run_test(size=SIZE) as pilot:
        while app.current is None:
            await pilot.pause(0.01)
        per_key = await _drive(app, pilot, [("i",), ("m",)])
    bad = offenders(conn, [t for key in per_key for t in key])
    assert bad and any("SCAN works" in b and "decisions.py" in b for b in bad), bad


KEYS = [
    ("i",), ("e", "1"), ("m",), ("i",), ("left",), ("right",), ("u",), ("i",), ("i",),
    ("n", *"looks relevant", "enter"), ("t", *"sepsis", "enter"), ("c", *"+ZA", "enter"), ("i",),
]  # fmt: skip


@pytest.mark.parametrize("order", ["oldest", "relevance"])
async def test_per_key_path_reads_only_the_work_in_hand(db, order):
    app = ScreenApp(db, reviewer="ann", order=order)
    async with app.run_test(size=SIZE) as pilot:
        while app.current is None or not app.query_one(RecordView).header_text.plain:
            await pilot.pause(0.01)
        # a second reviewer's decisions exist, so blind / visible decisions have rows to read
        from review.screen import actions

        for w in range(1, 31):
            if w != 29:
                actions.decide(app.ws, w, "title-abstract", "bob", "include")
        per_key = await _drive(app, pilot, KEYS)
        assert app.writes_done >= 6
    conn = sqlite3.connect(db)
    all_traced = [t for key in per_key for t in key]
    assert all_traced, "the trace saw no statement: the test would prove nothing"
    counts = [len([t for t in key if not SKIP.match(t.sql)]) for key in per_key]
    print(f"statements per key ({order}): {counts}")
    bad = offenders(conn, all_traced)
    assert not bad, "full table scans on the per-key path:\n  " + "\n  ".join(bad)
    assert max(counts) <= BUDGET, f"statements per key {counts} exceed the budget {BUDGET}"


def _dual_decisions(db: Path) -> None:
    from review.screen import actions
    from review.store import Workspace

    with Workspace.open(db) as ws:
        for w in range(1, 13):
            actions.decide(ws, w, "title-abstract", "ann", "include")
            if w % 2:
                actions.decide(ws, w, "title-abstract", "bob", "exclude", "E1")
            else:
                actions.decide(ws, w, "title-abstract", "bob", "include")


def _check(db: Path, per_key: list[list[Traced]], label: str) -> None:
    conn = sqlite3.connect(db)
    counts = [len([t for t in key if not SKIP.match(t.sql)]) for key in per_key]
    print(f"statements per key ({label}): {counts}")
    bad = offenders(conn, [t for key in per_key for t in key])
    assert not bad, "full table scans on the per-key path:\n  " + "\n  ".join(bad)
    assert max(counts) <= BUDGET, f"statements per key {counts} exceed the budget {BUDGET}"


async def test_full_text_stage_per_key_path(db):
    """The full-text stage reads the work's document through indexes too (documents_work and
    documents_record, one UNION of indexed look-ups; it once scanned documents)."""
    _dual_decisions(db)
    app = ScreenApp(db, stage="full-text", reviewer="ann", order="oldest")
    async with app.run_test(size=SIZE) as pilot:
        while app.current is None:
            await pilot.pause(0.01)
        per_key = await _drive(app, pilot, [("i",), ("e", "1"), ("r",), ("m",)])
        assert app.writes_done >= 4
    _check(db, per_key, "full text")


async def test_conflict_view_per_key_path(db):
    """The whole-stage conflict list is read in a worker (at start too), not per key."""
    from review.screen.tui.conflicts import ConflictApp

    _dual_decisions(db)
    app = ConflictApp(db, resolver="carol")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert app.current is not None
        per_key = await _drive(app, pilot, [("i",), ("e", "1"), ("right",), ("m",)])
        await app.workers.wait_for_complete()
        assert app.resolved == 3
    _check(db, per_key, "conflicts")


def test_full_text_document_look_up_keeps_its_meaning(db):
    """The indexed UNION finds what the OR did: a document harvested with a record that a merge
    moved to another work, and the latest of the work's documents when there are several."""
    from review.harvest.documents import insert_document
    from review.screen import actions
    from review.store import Workspace

    with Workspace.open(db) as ws:
        rec = ws.db.execute("SELECT id FROM records WHERE work_id = 5").fetchone()[0]
        with ws.transaction():
            harvested = insert_document(
                ws, record_id=rec, kind="txt", path=None, original_name="page.txt",
                sha256="a" * 64, text="harvested", pages=["harvested page"],
            )  # fmt: skip
            ws.db.execute("UPDATE records SET work_id = 6 WHERE id = ?", [rec])  # a merge moved it
        pages = actions.full_text_pages(ws, 6)
        assert [(p["document_id"], p["text"]) for p in pages] == [(harvested, "harvested page")]
        with ws.transaction():  # a later document filed under the work alone (no record)
            ws.db.execute(
                "INSERT INTO documents (work_id, kind, original_name, text, created_at)"
                " VALUES (6, 'txt', 'later.txt', 'later text', 'now')"
            )
        assert [p["text"] for p in actions.full_text_pages(ws, 6)] == ["later text"]
        assert actions.full_text_pages(ws, 7) == []
        # the statement full_text_pages runs, not a copy of it
        explained = ws.db.execute("EXPLAIN QUERY PLAN " + actions.LATEST_DOCUMENT_SQL, [6, 6])
        plan = " ".join(r[3] for r in explained)
        assert "SCAN documents" not in plan, plan


async def test_random_sample_phase_per_key_path(db):
    """In the stopping rule's random-sample phase the queue walks the urn's stored order: the
    per-key path still reads only the work in hand through indexes (no scan of sample_order,
    works or decisions), and the records shown are the urn's, in its order."""
    from review.screen import sampling
    from review.store import Workspace

    with Workspace.open(db) as ws:
        phase = sampling.start_phase(ws, "title-abstract", "ann", seed=4, trigger="explicit")
        urn = sampling.urn_order(ws, phase.id)
    app = ScreenApp(db, reviewer="ann", order="relevance")
    async with app.run_test(size=SIZE) as pilot:
        while app.current is None or not app.query_one(RecordView).header_text.plain:
            await pilot.pause(0.01)
        assert app.queue.phase_id == phase.id and app.current == urn[0]
        shown = [app.current]
        per_key = []
        for k in [("i",), ("e", "1"), ("m",), ("u",), ("i",), ("i",)]:
            per_key += await _drive(app, pilot, [k])
            shown.append(app.current)
        assert app.writes_done >= 5
    assert shown == [urn[0], urn[1], urn[2], urn[3], urn[2], urn[3], urn[4]], (shown, urn[:5])
    _check(db, per_key, "random sample")
