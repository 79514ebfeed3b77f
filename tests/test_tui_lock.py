"""A second process never breaks the screening app (issue 12.5).

Two REAL processes: a writer subprocess holds ``BEGIN IMMEDIATE`` on the workspace for longer
than the busy timeout while the Pilot-driven app records decisions. Nothing is lost, no
traceback, and the reviewer sees "waiting for the workspace (another review command is
writing)". A dedup run by another connection meanwhile: absorbed works are skipped (decisions
on them land on the survivor), re-activated works come back.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import settled
from test_screen import build_workspace

from review.screen.tui.app import ScreenApp
from review.screen.tui.base import WAITING, LockStatus
from review.screen.tui.widgets import RecordView
from review.store import Workspace
from review.store.decisions import current_decisions

SIZE = (150, 50)
TA = "title-abstract"
HOLD = 6.0  # seconds the other process holds the write lock (> the busy timeout below)

HOLDER = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO meta (key, value) VALUES ('lock-test', 'held')")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("COMMIT")
    print("released", flush=True)
    """
)


@pytest.fixture
def db(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("REVIEW_BUSY_TIMEOUT", "1")  # every connection gives up after 1 s
    build_workspace(tmp_path / "tui.db").close()
    return tmp_path / "tui.db"


async def until(pilot, done: Callable[[], bool], seconds: float = 30) -> None:
    """Pause until ``done()`` (the queued writes saved, the app ended), ``seconds`` at most."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        await pilot.pause(0.1)


def hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def mine(db: Path) -> dict[int, tuple[str, str | None]]:
    with Workspace.open(db) as ws:
        return {
            d["work_id"]: (d["decision"], d["reason"])
            for d in current_decisions(ws, stage=TA, reviewer="ann")
        }


async def first_record(app, pilot) -> None:
    while app.current is None or not app.query_one(RecordView).header_text.plain:
        await pilot.pause(0.01)


async def test_decisions_wait_for_another_process_and_none_is_lost(db):
    app = ScreenApp(db, reviewer="ann", order="oldest")
    async with app.run_test(size=SIZE) as pilot:
        await first_record(app, pilot)
        await pilot.press("i")  # saved at once: nobody else writes yet
        proc = hold_lock(db, HOLD)
        try:
            await pilot.press("i")
            await pilot.press("e", "2")
            await pilot.press("m")
            await pilot.press("i")
            # the keys were taken while the lock was held and the app moved on, saying why
            # nothing is saved yet
            assert proc.poll() is None, "the lock was released before the keys were handled"
            assert app.current == 6
            assert app.waiting is not None and WAITING in app.waiting
            status = app.query_one(LockStatus)
            assert status.has_class("-waiting") and WAITING in str(status.content)
            assert app.writes_pending == [2, 3, 4, 5]
            assert mine(db) == {1: ("include", None)}
        finally:
            assert proc.wait(timeout=30) == 0
        await until(pilot, lambda: not app.writes_pending)
        await pilot.pause(0.2)
        assert app.writes_pending == []
        assert app.waiting is None and not app.query_one(LockStatus).has_class("-waiting")
        await pilot.press("i")  # back to normal: saved at once
    assert mine(db) == {
        1: ("include", None),
        2: ("include", None),
        3: ("exclude", "E2"),
        4: ("maybe", None),
        5: ("include", None),
        6: ("include", None),
    }
    assert app.return_code in (None, 0)  # no traceback ended the app


async def test_quit_waits_for_queued_decisions(db):
    app = ScreenApp(db, reviewer="ann", order="oldest")
    async with app.run_test(size=SIZE) as pilot:
        await first_record(app, pilot)
        proc = hold_lock(db, HOLD)
        await pilot.press("i")
        await pilot.press("m")
        await pilot.press("q")  # not yet: two decisions are queued
        await pilot.pause(0.2)
        assert app.is_running and app.writes_pending == [1, 2]
        assert proc.wait(timeout=30) == 0
        await until(pilot, lambda: not app.is_running)
    assert mine(db) == {1: ("include", None), 2: ("maybe", None)}


async def test_works_merged_or_split_by_another_process(db):
    from review.dedup.merges import merge_works, split_work

    app = ScreenApp(db, reviewer="ann", order="oldest")
    async with app.run_test(size=SIZE) as pilot:
        await first_record(app, pilot)
        assert app.current == 1
        with Workspace.open(db) as other:  # `review dedup` in another terminal
            merge_works(other, 3, [(2, "test", 1.0), (1, "test", 1.0)], actor="dedup")
        await pilot.press("i")  # work 1 was absorbed while on screen: recorded on survivor 3
        assert app.current == 4  # 2 was merged away, 3 is decided (via 1)
        assert mine(db) == {3: ("include", None)}
        with Workspace.open(db) as other:  # the merge is undone: 1 and 2 are works again
            split_work(other, 3, actor="dedup")
        await pilot.press("m")  # on 4; then the re-activated, undecided works 1 and 2 come first
        assert app.current == 1  # (the decision pressed on 1 was recorded on 3)
        await pilot.press("e", "1")
        assert app.current == 2
        await pilot.press("i")
        assert app.current == 5
    got = mine(db)
    assert got == {
        1: ("exclude", "E1"),
        2: ("include", None),
        3: ("include", None),
        4: ("maybe", None),
    }


async def test_conflict_resolutions_wait_for_another_process(db):
    from review.screen.tui.conflicts import ConflictApp
    from review.store.decisions import record_decision

    with Workspace.open(db) as ws:
        for w in (2, 4):
            record_decision(ws, work_id=w, stage=TA, reviewer="ann", decision="include")
            record_decision(
                ws, work_id=w, stage=TA, reviewer="bob", decision="exclude", reason="E1"
            )
    app = ConflictApp(db, resolver="carol")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)  # the open conflicts are read in a worker
        assert app.current["work_id"] == 2
        proc = hold_lock(db, HOLD)
        try:
            await pilot.press("i")
            assert app.current["work_id"] == 4  # moved on while the write waits
            await pilot.press("e", "1")
            assert proc.poll() is None, "the lock was released before the keys were handled"
            assert app.waiting is not None and WAITING in app.waiting
            assert app.writes_pending == [2, 4] and app.current is None
        finally:
            assert proc.wait(timeout=30) == 0
        await until(pilot, lambda: not app.writes_pending)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert app.waiting is None and app.resolved == 2 and app.items == []
    with Workspace.open(db) as ws:
        rows = ws.db.execute(
            "SELECT work_id, decision, reason FROM decisions WHERE origin = 'resolution'"
            " ORDER BY work_id"
        ).fetchall()
    assert rows == [(2, "include", None), (4, "exclude", "E1")]
