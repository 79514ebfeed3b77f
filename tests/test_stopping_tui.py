"""The screening app runs the published stopping rule: it announces the switch to random order,
serves the urn in its stored order and its progress panel says which rule, which phase and how
far from stopping (headless, App.run_test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_screen import build_workspace

from review.screen import sampling
from review.screen.tui.app import ScreenApp
from review.screen.tui.progress import ProgressPanel
from review.store import Workspace
from review.store.decisions import record_decision

SIZE = (150, 50)
STAGE = "title-abstract"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """90 works; 'ana' screened 2 relevant then 50 irrelevant: the trigger (50 in a row) is met."""
    ws = build_workspace(tmp_path / "s.db", repeat=3)
    for w in range(1, 53):
        d = "include" if w <= 2 else "exclude"
        record_decision(
            ws, work_id=w, stage=STAGE, reviewer="ana", decision=d,
            reason="E1" if d == "exclude" else None,
        )  # fmt: skip
    ws.close()
    return tmp_path / "s.db"


def _notes(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


async def _until(pilot, cond, timeout=20.0):
    waited = 0.0
    while not cond():
        await pilot.pause(0.05)
        waited += 0.05
        assert waited < timeout, "timed out"


async def test_app_announces_random_sampling_and_serves_the_urn(db):
    app = ScreenApp(db, reviewer="ana", order="oldest")
    app.stop_delay = 0.05
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        panel = app.query_one(ProgressPanel)
        await _until(pilot, lambda: app.queue.phase_id is not None)
        with Workspace.open(db) as ws:
            phase = sampling.current_phase(ws, STAGE, "ana")
            assert phase is not None and phase.id == app.queue.phase_id
            urn = sampling.urn_order(ws, phase.id)
        assert phase.urn == 38 and phase.r_al == 2 and sorted(urn) == list(range(53, 91))
        assert "random order" in _notes(app), _notes(app)
        assert app.current == urn[0]  # the switch shows the urn's first record at once
        await _until(pilot, lambda: "random sample" in panel.text)
        assert "Callaghan & Müller-Hansen 2020 as published" in panel.text
        assert "random sample: 0 drawn" in panel.text, panel.text
        # three decisions: the sample grows in the stored order, the panel says how far
        for key in ("i", "m"):
            await pilot.press(key)
        await pilot.press("e", "1")
        await _until(pilot, lambda: "3 drawn" in panel.text)
        assert "2 relevant" in panel.text and "more irrelevant draws would stop" in panel.text
        assert app.current == urn[3]
        assert "random-sample phase" in panel.text


async def test_ranked_phase_says_how_far_from_random_sampling(tmp_path):
    ws = build_workspace(tmp_path / "r.db", repeat=3)
    for w in range(1, 13):
        d = "include" if w <= 2 else "exclude"
        record_decision(
            ws, work_id=w, stage=STAGE, reviewer="ana", decision=d,
            reason="E1" if d == "exclude" else None,
        )  # fmt: skip
    ws.close()
    app = ScreenApp(tmp_path / "r.db", reviewer="ana", order="oldest")
    app.stop_delay = 0.05
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        panel = app.query_one(ProgressPanel)
        await _until(pilot, lambda: "irrelevant in a row" in panel.text)
        assert "ranked phase: 10 of 50 irrelevant in a row before random sampling starts" in (
            panel.text
        ), panel.text
        assert app.queue.phase_id is None and app.current == 13


async def test_sample_flag_starts_the_phase_at_once(tmp_path):
    """`review screen --sample` (ScreenApp(sample=True)): the reviewer starts the random sample
    before the trigger; the app serves the urn from the first record."""
    ws = build_workspace(tmp_path / "x.db")
    record_decision(ws, work_id=1, stage=STAGE, reviewer="ana", decision="include")
    ws.close()
    app = ScreenApp(tmp_path / "x.db", reviewer="ana", order="oldest", sample=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _until(pilot, lambda: app.current is not None)
        with Workspace.open(tmp_path / "x.db") as ws:
            phase = sampling.current_phase(ws, STAGE, "ana")
            assert phase is not None and phase.trigger.startswith("explicit")
            assert app.current == sampling.urn_order(ws, phase.id)[0] and phase.urn == 29


async def test_ranking_stops_when_the_sample_starts_mid_session(db):
    """A relevance-ordered session starts in the ranked phase with its ranking child process;
    once the estimate starts the random sample the child is closed (no ranking can replace the
    urn's order) and asking for a ranking starts no worker."""
    app = ScreenApp(db, reviewer="ana", order="relevance")
    app.stop_delay = 0.05
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        proc = app.ranker._proc
        assert proc is not None and proc.poll() is None  # spawned for the ranked phase
        await _until(pilot, lambda: app.queue.phase_id is not None)
        assert app.ranker.closed
        await _until(pilot, lambda: proc.poll() is not None, timeout=5)
        with Workspace.open(db) as ws:
            urn = sampling.urn_order(ws, app.queue.phase_id)
        assert app.current == urn[0]
        busy = [w for w in app.workers if w.group == "rank" and not w.is_finished]
        app._rank_dirty = False  # nothing owed: a request now would start or owe a ranking
        state = (app._rank_busy, app._rank_dirty)
        app.request_rank()
        assert (app._rank_busy, app._rank_dirty) == state
        assert [w for w in app.workers if w.group == "rank" and not w.is_finished] == busy
        assert app.queue.order[app.queue.pos :][: len(urn)] == urn
