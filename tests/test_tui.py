"""The screening app driven by Textual's Pilot: keys in, workspace rows and rendered text out."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest
from test_screen import PROTOCOL, build_workspace, make_pdf

from review.errors import ScreenError
from review.screen import actions
from review.screen.queue import current_decision
from review.screen.tui.app import ScreenApp
from review.screen.tui.palette import ScreenCommands
from review.screen.tui.widgets import CriteriaPanel, ProgressPanel, RecordView
from review.store.decisions import current_decisions

SIZE = (150, 50)
TA = "title-abstract"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    build_workspace(tmp_path / "tui.db").close()
    return tmp_path / "tui.db"


def app_for(db: Path, **kw) -> ScreenApp:
    return ScreenApp(db, reviewer=kw.pop("reviewer", "ann"), order=kw.pop("order", "oldest"), **kw)


async def settle(app, pilot) -> None:
    """Wait for progress, then for the (debounced) stopping estimate."""
    await app.workers.wait_for_complete()
    await pilot.pause(app.stop_delay + 0.1)
    await app.workers.wait_for_complete()
    await pilot.pause()


def decisions(app) -> dict[int, tuple[str, str | None]]:
    return {
        d["work_id"]: (d["decision"], d["reason"])
        for d in current_decisions(app.ws, stage=TA, reviewer="ann")
    }


async def test_keys_record_decisions_notes_tags_and_progress(db):
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        assert app.current == 1
        await pilot.press("i")
        await pilot.press("e", "2")
        await pilot.press("m")
        await pilot.press("e", "escape")  # cancelled exclusion: nothing recorded
        await pilot.press("n", *"looks relevant", "enter")
        await pilot.press("t", *"sepsis", "enter")
        assert decisions(app) == {1: ("include", None), 2: ("exclude", "E2"), 3: ("maybe", None)}
        assert app.current == 4
        w = actions.get_work(app.ws, 4)
        assert [n["text"] for n in w["notes"]] == ["looks relevant"] and w["tags"] == ["sepsis"]
        assert "tags: sepsis" in app.query_one(RecordView).header_text.plain
        assert "notes (1): looks relevant" in app.query_one(RecordView).header_text.plain
        await settle(app, pilot)
        text = app.query_one(ProgressPanel).text
        assert "screened 3 / remaining 27" in text
        assert "include 1 · maybe 1 · exclude 1 (E2 1)" in text
        assert "recall" in text  # the stopping estimate is shown
        stop = app.query_one(ProgressPanel).stopping
        assert stop is not None and "Assumes" in text  # which rule and what it assumes


async def test_highlights_and_criteria_are_rendered(db):
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.query_one(RecordView)
        app.show(
            next(w for w in range(1, 31) if "depression" in actions.get_work(app.ws, w)["abstract"])
        )
        body = view.body_text
        plain = body.plain.lower()
        inc = view.get_component_rich_style("record--include")
        exc = view.get_component_rich_style("record--exclude")
        assert inc != exc
        words = {plain[s.start : s.end]: s.style for s in body.spans}
        assert "depression" in plain and words.get("depression") == inc
        # find a record with an exclude keyword and check its colour
        hit = next(
            w for w in range(1, 31) if "patients" in (actions.get_work(app.ws, w)["abstract"] or "")
        )
        app.show(hit)
        body = view.body_text
        spans = {body.plain[s.start : s.end].lower(): s.style for s in body.spans}
        assert spans["patients"] == exc
        criteria = app.query_one(CriteriaPanel).content.plain
        assert "Human participants only" in criteria and "2 E2" in criteria
        svg = app.export_screenshot()
        assert "Primary&#160;study&#160;using&#160;an&#160;animal" in svg or "Primary study" in svg


async def test_undo_browse_and_resume(db):
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i", "i", "m")
        await pilot.press("u")  # work 3 comes back
        assert app.current == 3 and 3 not in decisions(app)
        await pilot.press("left")
        assert (app.current, app.cursor) == (2, 1)
        await pilot.press("k")
        assert app.current == 1
        await pilot.press("e", "1")  # change a past decision; moves on
        assert decisions(app)[1] == ("exclude", "E1") and app.current == 2
        await pilot.press("right")
        assert app.current == 3 and app.cursor is None  # back at the frontier: the undone work
        await pilot.press("i")
        assert app.current == 4
    app2 = app_for(db)  # restart resumes at the next unscreened record
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app2.current == 4
        await pilot.press("left")
        assert app2.current == 3
        assert "[revisiting] your decision: include" in app2.query_one(RecordView).header_text.plain


async def test_search_opens_a_hit(db):
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"sepsis", "enter")
        await pilot.pause()
        await pilot.press("enter")
        assert app.jumped and app.current is not None
        assert (
            "sepsis"
            in (actions.get_work(app.ws, app.current)["title"] or "").lower()
            + (actions.get_work(app.ws, app.current)["abstract"] or "").lower()
        )
        wid = app.current
        await pilot.press("m")
        assert decisions(app)[wid] == ("maybe", None)


async def test_keys_rebind_from_protocol_and_palette_lists_actions(tmp_path):
    proto = tmp_path / "p.toml"
    proto.write_text(PROTOCOL.read_text() + '\n[keys]\ninclude = "y"\n')
    db = tmp_path / "k.db"
    build_workspace(db, proto=proto).close()
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        assert decisions(app) == {}
        await pilot.press("y")
        assert decisions(app) == {1: ("include", None)}
        provider = ScreenCommands(app.screen)
        titles = [str(h.display) for h in [h async for h in provider.discover()]]
        assert "Include" in titles and "Undo last decision" in titles
        assert "Attach PDF" not in titles  # full-text only
        await pilot.press("ctrl+p")
        await pilot.press(*"maybe")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert decisions(app)[2] == ("maybe", None)


def test_unknown_key_action_is_a_protocol_error(tmp_path):
    proto = tmp_path / "p.toml"
    proto.write_text(PROTOCOL.read_text() + '\n[keys]\ninclde = "y"\n')
    db = tmp_path / "k.db"
    build_workspace(db, proto=proto).close()
    with pytest.raises(ScreenError, match="unknown actions inclde"):
        app_for(db)


async def test_full_text_stage_pages_and_not_retrieved(db, tmp_path):
    app0 = app_for(db)
    async with app0.run_test(size=SIZE) as pilot:
        await pilot.press("i", "e", "1", "i", "m")  # works 1, 3 include; 4 maybe
    pdf = make_pdf(tmp_path / "ft.pdf", ["Methods: depression in rats", "Results"])
    app = app_for(db, stage="full-text")
    actions.attach_pdf(app.ws, 1, pdf, "ann")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current == 1
        body = app.query_one(RecordView).body_text.plain
        assert "── page 1 ──" in body and "── page 2 ──" in body and "depression in rats" in body
        await pilot.press("i")
        assert app.current == 3
        await pilot.press("r")  # not retrieved: leaves the queue
        assert actions.retrieval_status(app.ws, 3) == "not-retrieved"
        assert app.current == 4
        await pilot.press("e", "3")
        assert current_decision(app.ws, 4, "full-text", "ann")["reason"] == "E3"
        await settle(app, pilot)
        assert "not retrieved 1" in app.query_one(ProgressPanel).text


async def test_blind_hides_other_reviewers(tmp_path):
    for blind in (False, True):
        proto = tmp_path / f"b{blind}.toml"
        text = PROTOCOL.read_text().replace(
            "[screening]\n", f"[screening]\nblind = {'true' if blind else 'false'}\n"
        )
        proto.write_text(text)
        db = tmp_path / f"b{blind}.db"
        ws = build_workspace(db, proto=proto)
        actions.decide(ws, 1, TA, "bob", "exclude", "E3")
        ws.close()
        app = app_for(db)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            header = app.query_one(RecordView).header_text.plain
            assert ("bob: exclude E3" in header) is (not blind)


KILL_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from review.screen.tui.app import ScreenApp

    async def main():
        app = ScreenApp(sys.argv[1], reviewer="ann", order="oldest")
        async with app.run_test(size=(120, 40)) as pilot:
            n = 0
            while True:
                await pilot.press("i" if n % 3 else "e", *([] if n % 3 else ["2"]))
                n += 1
                print("decided", n, flush=True)
                await pilot.pause(0.01)

    asyncio.run(main())
    """
)


def test_sigkill_loses_no_decision_shown_as_made(db, tmp_path):
    from conftest import kill_after

    script = tmp_path / "drive.py"
    script.write_text(KILL_SCRIPT)
    reported = kill_after(script, db, "decided", 8, 60)
    assert reported >= 8
    from review.store import Workspace

    with Workspace.open(db) as ws:
        cur = current_decisions(ws, stage=TA, reviewer="ann")
        assert len(cur) >= reported
        assert [d["work_id"] for d in cur][:reported] == list(range(1, reported + 1))
        assert cur[0]["decision"] == "exclude" and cur[0]["reason"] == "E2"
    app_resumes_at = ScreenApp(db, reviewer="ann", order="oldest")
    assert app_resumes_at.queue.next_work(app_resumes_at.ws) == len(cur) + 1
    app_resumes_at.ws.close()


async def test_relevance_ranking_runs_in_a_child_process(db):
    """Relevance order: the model is refit in a separate process; its order reaches the queue."""
    from review.screen.priority import rank_unscreened
    from review.screen.tui.app import RERANK_EVERY

    app = app_for(db, order="relevance")
    async with app.run_test(size=SIZE) as pilot:
        for i in range(RERANK_EVERY):
            if i % 3 == 0:
                app._decide("exclude", "E1")
            else:
                await pilot.press("i")
        deadline = time.monotonic() + 90  # the child imports sklearn: seconds on a busy machine
        while (app.ranked < 2 or app._rank_busy) and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert app.ranked >= 2, "no ranking came back from the child process"
        child = app.ranker.pid
        assert child is not None and child != os.getpid()
        expected = rank_unscreened(app.ws, TA, reviewer="ann", order="relevance", seed=0)
        assert app.queue.order == expected
        assert decisions(app).keys().isdisjoint(expected)
        shown = app.current  # the record on screen stays; the next one follows the ranking
        await pilot.press("i")
        assert app.current == [w for w in expected if w != shown][0]
        proc = app.ranker._proc
    assert proc is not None and proc.poll() is not None  # ended with the app
