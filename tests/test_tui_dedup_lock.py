"""The duplicate-pair view (``review screen --dedup``) survives a second process (issue 18 follow-up).

A REAL writer subprocess holds ``BEGIN IMMEDIATE`` past the busy timeout while the reviewer decides
pairs: the decisions are queued in order with the "waiting for the workspace" message (never an
error or a traceback), the view moves on to the next pair, and every decision lands once the lock
frees (the same base-app write path as the screening app, tests/test_tui_lock.py).
"""

from __future__ import annotations

import time

import pytest
from conftest import settled
from test_tui_lock import HOLD, hold_lock, until
from test_tui_views import active_works, candidates, load_pairs

from review.screen.tui.base import WAITING, LockStatus
from review.screen.tui.dedup_view import DedupApp

SIZE = (160, 50)


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch) -> None:
    monkeypatch.setenv("REVIEW_BUSY_TIMEOUT", "1")  # every connection gives up after 1 s


def errors(app) -> list[str]:
    return [str(n.message) for n in app._notifications if n.severity == "error"]


async def test_pair_decisions_wait_for_another_process_and_none_is_lost(ws, db_path):
    load_pairs(ws)
    app = DedupApp(db_path, actor="ann")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(app, pilot)  # the pending pairs are read in a worker
        first = app.current
        proc = hold_lock(ws.path, HOLD)
        try:
            started = time.monotonic()
            await pilot.press("n")  # distinct, while another process writes
            second = app.current
            assert second is not None and second["id"] != first["id"], "the view did not move on"
            await pilot.press("y")  # duplicate (merge), queued behind the first
            assert time.monotonic() - started < HOLD / 2, "the UI thread waited for the lock"
            assert proc.poll() is None, "the lock was released before the keys were handled"
            assert errors(app) == []
            assert app.waiting is not None and WAITING in app.waiting
            assert app.query_one(LockStatus).has_class("-waiting")
            assert app.writes_pending == [first["id"], second["id"]]
            assert app.current is None
            assert set(candidates(db_path).values()) == {"pending"}  # nothing written yet
        finally:
            assert proc.wait(timeout=30) == 0
        await until(pilot, lambda: not app.writes_pending)
        await pilot.pause(0.2)
        assert app.writes_pending == [] and app.waiting is None
        assert app.decided == 2 and errors(app) == []
        assert "No pairs waiting for review." in str(app.query_one("#pair-status").content)
        await settled(app, pilot)  # the re-read after the last decision agrees
        assert "No pairs waiting for review." in str(app.query_one("#pair-status").content)
    statuses = candidates(db_path)
    assert statuses[first["title_b"]] == "distinct"
    assert statuses[second["title_b"]] == "duplicate"
    assert active_works(db_path) == 3
    assert app.return_code in (None, 0)


async def test_quit_waits_for_queued_pair_decisions(ws, db_path):
    load_pairs(ws)
    app = DedupApp(db_path, actor="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert app.current is not None
        proc = hold_lock(ws.path, HOLD)
        await pilot.press("y")
        await pilot.press("q")  # not yet: a decision is queued
        await pilot.pause(0.2)
        assert app.is_running and len(app.writes_pending) == 1
        assert proc.wait(timeout=30) == 0
        await until(pilot, lambda: not app.is_running)
    assert sorted(candidates(db_path).values()) == ["duplicate", "pending"]
    assert active_works(db_path) == 3
