"""The coding app driven by Textual's Pilot: what a reviewer sees, keys in, log rows out."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from conftest import settled
from test_coding import OPTS, PAGES, build, work_of_page

from review.coding import store
from review.coding.scope import select
from review.coding.suggest import Suggestion, log_run
from review.coding.synthesis import write as write_synthesis
from review.coding.text import sentences
from review.screen.tui.coding import CodingApp, CodingForm, TextPane
from review.store import Workspace

SIZE = (160, 50)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    ws = build(tmp_path / "code.db")
    ids = select(ws, "all").work_ids
    page = work_of_page(ws, PAGES[0])
    real = next(s for s in sentences(ws, [page])[page] if s.where != "title")
    sugg = []
    for i, wid in enumerate(ids):
        yes = {OPTS[i % 5], "economic"} | ({"environmental"} if wid == page else set())
        for c in OPTS:
            ev = real.text if (wid == page and c == "environmental") else f"sentence {c} {wid}."
            sugg.append(Suggestion(wid, "challenges", c, 0.8 if c in yes else 0.1, c in yes,
                                   ev, real.place if wid == page else "abstract"))  # fmt: skip
    log_run(ws, sugg, "zero-shot", "challenges", select(ws, "all"), {"test": True})
    ws.close()
    return tmp_path / "code.db"


def form_text(app: CodingApp) -> str:
    return app.query_one(CodingForm).content.plain  # type: ignore[union-attr]


def body_text(app: CodingApp) -> str:
    return app.query_one("#text-body").content.plain  # type: ignore[union-attr]


async def test_suggestions_are_preticked_and_marked(db: Path) -> None:
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        first = app.work_id
        text = form_text(app)
        assert "Challenges reported (suggested: zero-shot, run 1)" in text
        assert "1 [x] sociopolitical  suggested 0.80" in text  # work 0: sociopolitical + economic
        assert "5 [x] economic  suggested 0.80" in text
        assert "2 [ ] technological  0.10" in text
        assert "work 1 of 40" in text
        # nothing is written until the reviewer acts
        assert store.history(app.ws, first) == []
        await pilot.press("2")  # tick technological: a draft row, committed at once
        ws = Workspace.open(db)  # another connection sees it: a kill -9 now loses nothing
        c = store.work_codes(ws, first, "ana")["challenges"]
        assert c.status == "draft" and c.value == ["sociopolitical", "technological", "economic"]
        ws.close()
        assert "2 [x] technological" in form_text(app) and "(draft)" in form_text(app)
        await pilot.press("u")  # undo
        await settled(app, pilot)
        # back to before the change: no code of ana's; the suggestion shows again, unsaved
        assert "challenges" not in store.work_codes(app.ws, first, "ana")
        assert "Challenges reported (suggested: zero-shot, run 1)" in form_text(app)
        assert "2 [ ] technological" in form_text(app)
        await pilot.press("enter")
        await settled(app, pilot)
        assert app.work_id != first
        got = store.work_codes(app.ws, first, "ana")
        assert got["challenges"].status == "confirmed"
        assert got["challenges"].value == ["sociopolitical", "economic"]
        assert "1 confirmed by ana" in form_text(app)


async def test_evidence_is_highlighted(db: Path) -> None:
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        page = work_of_page(app.ws, PAGES[0])
        app.pos = app.works.index(page)
        app.show_work()
        await settled(app, pilot)
        body = app.query_one("#text-body").content  # type: ignore[union-attr]
        assert "◀ environmental" in body.plain
        hit = [s for s in body.spans if "yellow" in str(s.style)]
        assert hit, "the evidence sentence is styled"
        assert "waste" in body.plain.lower()  # the page's full text is shown
        assert (
            app.query_one(TextPane)
            .query_one("#text-header")
            .content.plain.startswith(  # type: ignore[union-attr]
                "A day in a life of Waste Collectors"
            )
        )


async def test_text_field_and_history(db: Path) -> None:
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        wid = app.work_id
        await pilot.press("tab")  # city
        assert "▶ City or municipality studied" in form_text(app)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"Lusaka")
        await pilot.press("enter")
        await pilot.pause()
        assert store.work_codes(app.ws, wid, "ana")["city"].value == "Lusaka"
        await pilot.press("h")
        await settled(app, pilot)
        assert any("city draft: Lusaka" in n.message for n in app._notifications)


async def test_code_twenty_works_keyboard_only_and_synthesis_follows(
    db: Path, tmp_path: Path
) -> None:
    ws = Workspace.open(db)
    before = write_synthesis(ws, tmp_path / "before")
    ws.close()
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        for i in range(20):
            await pilot.press(str(i % 5 + 1))  # change one option of the suggestion
            await pilot.press("enter")
        await settled(app, pilot)
        assert "20 confirmed by ana" in form_text(app)
    ws = Workspace.open(db)
    conf = store.confirmed(ws, "challenges")
    assert len(conf) == 20
    after = write_synthesis(ws, tmp_path / "after")
    assert before.n_confirmed == 0 and after.n_confirmed == 20
    assert before.n_codes != after.n_codes
    assert "20 confirmed by a reviewer" in (tmp_path / "after" / "report.html").read_text("utf-8")
    ws.close()
    # what a reviewer sees from the commands: the 20 works in `review codes --status confirmed`
    # (the option pressed changed each suggestion) and in `review synthesis`'s summary line
    from click.testing import CliRunner

    from review.cli import cli

    out = tmp_path / "confirmed.csv"
    r = CliRunner().invoke(
        cli, ["codes", "--status", "confirmed", "--field", "challenges", "-o", str(out), "--db", str(db)]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {x["reviewer"] for x in rows} == {"ana"}  # works confirmed with no option have no row
    ids = select(Workspace.open(db), "all").work_ids
    for i, wid in enumerate(ids[:20]):
        suggested = {OPTS[i % 5], "economic"}
        pressed = OPTS[i % 5]  # key i % 5 + 1 toggled it off again
        want = suggested ^ {pressed}
        got = {x["value"] for x in rows if x["work_id"] == str(wid)}
        assert got == want, (wid, got, want)
    r = CliRunner().invoke(cli, ["synthesis", "-o", str(tmp_path / "cli"), "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert (
        f"({after.n_confirmed} confirmed by reviewers)" in r.output and "20 confirmed" in r.output
    )


TEXT_TABLES = re.compile(r"\b(FROM|JOIN)\s+(documents|document_pages)\b", re.I)


async def test_confirm_and_text_read_off_the_ui_thread(db: Path) -> None:
    """Enter finds the next unconfirmed work without one coding_log query per work it skips, and
    the text (sentences of every page of a document) is read by a worker: the UI thread's
    connection never reads documents or their pages."""
    ws = Workspace.open(db)
    ids = select(ws, "all").work_ids
    for wid in ids[1:15]:  # ana already confirmed works 2-15
        store.record(ws, wid, "challenges", "ana", ["economic"])
    page = work_of_page(ws, PAGES[0])
    ws.close()
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert app.work_id == ids[0]
        seen: list[str] = []
        app.ws.db.conn.set_trace_callback(seen.append)
        await pilot.press("enter")
        await settled(app, pilot)
        assert app.work_id == ids[15]  # the confirmed works were skipped, as before
        reads = [q for q in seen if q.lstrip().upper().startswith("SELECT") and "coding_log" in q]
        assert len(reads) <= 2, reads  # the shown work's codes, not one query per skipped work
        assert not [q for q in seen if TEXT_TABLES.search(q)], "text read on the UI thread"
        app.pos = app.works.index(page)
        app.show_work()
        await settled(app, pilot)
        assert not [q for q in seen if TEXT_TABLES.search(q)], "text read on the UI thread"
        assert "waste" in body_text(app).lower() and "◀ environmental" in body_text(app)
        app.ws.db.conn.set_trace_callback(None)


UI_READS = re.compile(r"\b(coding_log|coding_suggestions|coding_runs|title|documents?)\b", re.I)


async def test_codes_progress_and_history_are_read_off_the_ui_thread(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From start-up on, the UI thread's connection reads no codes, suggestions, titles or
    history: the start-up progress, each shown work's form and the h key's history come from
    workers (its own statements are the writes); the screen still shows them."""
    from review.screen.tui import base

    ws = Workspace.open(db)
    ids = select(ws, "all").work_ids
    store.record(ws, ids[0], "challenges", "ana", ["economic"])  # ana confirmed the first
    ws.close()
    seen: list[str] = []
    opened = base.open_workspace

    def traced(path: str | Path) -> Workspace:
        w = opened(path)
        w.db.conn.set_trace_callback(seen.append)
        return w

    monkeypatch.setattr(base, "open_workspace", traced)
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert app.work_id == ids[1] and "work 2 of 40 · 1 confirmed by ana" in form_text(app)
        assert "Challenges reported (suggested: zero-shot, run 1)" in form_text(app)
        await pilot.press("2", "enter")
        await settled(app, pilot)
        assert app.work_id == ids[2] and "2 confirmed by ana" in form_text(app)
        await pilot.press("left")
        await settled(app, pilot)
        assert "✓ confirmed" in form_text(app)
        await pilot.press("h")
        await settled(app, pilot)
        assert any("challenges confirmed" in n.message for n in app._notifications)
        app.ws.db.conn.set_trace_callback(None)
    reads = [q for q in seen if q.lstrip().upper().startswith("SELECT") and UI_READS.search(q)]
    assert reads == [], reads


async def test_keys_pressed_while_a_work_is_read_wait_and_run_in_order(db: Path) -> None:
    """A toggle and Enter pressed before the shown work's codes have arrived act on that work,
    in order, once they arrive (nothing is lost, nothing acts on the work shown before)."""
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        second = app.works[1]
        app.pos = 1
        app.show_work()  # its codes are being read ...
        app.action_tick(2)  # ... while the reviewer toggles technological
        app.action_confirm()  # and confirms
        assert app.reading and len(app.kept) == 2
        assert store.history(app.ws, second) == []  # nothing written to the work shown before
        await settled(app, pilot)
        rows = store.history(app.ws, second)
        # suggested: technological + economic; 2 toggled technological off, Enter confirmed
        assert [(r.field, r.status, r.value) for r in rows] == [
            ("challenges", "draft", ["economic"]),
            ("challenges", "confirmed", ["economic"]),
        ], rows
        assert app.work_id == app.works[2] and not app.kept


async def test_keys_typed_for_a_prompt_that_was_not_open_yet_are_dropped(db: Path) -> None:
    """e pressed while the codes are read opens its prompt once they arrive; the keys pressed
    after it were meant for that prompt, so they never act on the work (k would move back)."""
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("tab")  # city, a text field
        app.pos = 1
        app.show_work()
        app.action_edit()
        app.action_move(-1)  # "k", typed for the prompt
        assert len(app.kept) == 2
        await settled(app, pilot)
        assert app.pos == 1 and not app.kept and len(app.screen_stack) == 2
        await pilot.press("escape")


async def test_a_slow_text_never_replaces_the_next_works_text(db: Path) -> None:
    """The text worker of a work the reviewer has already left must not show its text."""
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        first = body_text(app)
        page = work_of_page(app.ws, PAGES[0])
        app.pos = app.works.index(page)
        app.show_work()  # its text is being read ...
        app.pos = 0
        app.show_work()  # ... and the reviewer moved on
        await settled(app, pilot)
        assert body_text(app) == first
        assert "◀ environmental" not in body_text(app)


async def test_conflicts_view_resolves_like_screening(db: Path) -> None:
    ws = Workspace.open(db)
    a, b = select(ws, "all").work_ids[:2]
    store.record(ws, a, "challenges", "ana", ["economic", "governance"])
    store.record(ws, a, "challenges", "ben", ["economic"])
    store.record(ws, b, "challenges", "ana", ["economic"])
    store.record(ws, b, "challenges", "ben", ["economic"])  # agreed: no conflict
    ws.close()
    app = CodingApp(db, reviewer="lead", conflicts=True)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert app.works == [a]
        text = form_text(app)
        assert "ana: governance, economic · ben: economic" in text
        assert "coders disagree" in text
        assert "5 [x] economic" in text and "3 [ ] governance" in text
        await pilot.press("3", "enter")  # the resolver keeps governance
        await settled(app, pilot)
    ws = Workspace.open(db)
    assert store.conflicts(ws, "challenges") == []
    c = store.confirmed(ws, "challenges")[(a, "challenges")]
    assert c.resolved and c.reviewers == ("lead",) and c.value == ["governance", "economic"]
    assert [r.origin for r in store.history(ws, a) if r.reviewer == "lead"][-1] == "resolution"
    ws.close()


def test_no_codebook_is_a_clear_error(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from conftest import PROTOCOLS

    from review.cli import cli

    db = tmp_path / "plain.db"
    CliRunner().invoke(
        cli, ["init", "--protocol", str(PROTOCOLS / "nelson-2002-estrogens.toml"), "--db", str(db)]
    )
    for args in (["code"], ["suggest"], ["synthesis", "-o", str(tmp_path / "s")]):
        r = CliRunner().invoke(cli, [*args, "--db", str(db)])
        assert r.exit_code == 1, (args, r.output)
        assert "codebook" in r.output, (args, r.output)


KILL_SCRIPT = """
import asyncio, sys
from review.screen.tui.coding import CodingApp

async def main():
    app = CodingApp(sys.argv[1], reviewer="ana", stage="all")
    async with app.run_test(size=(140, 40)) as pilot:
        n = 0
        while True:
            await pilot.press("2")  # a toggle: a draft row
            if n % 2:
                await pilot.press("enter")  # every other work confirmed
            n += 1
            while app.reading or app.kept:  # a key waits while a work's codes are read
                await pilot.pause(0.005)
            print("shown", n, app.work_id, flush=True)
            await pilot.pause(0.01)

asyncio.run(main())
"""


def test_sigkill_loses_no_code_shown(db: Path, tmp_path: Path) -> None:
    """Every change the app has acted on survives kill -9. A key kept while a work's codes are
    read (about a millisecond) has not acted yet: like a key still in the terminal's buffer, a
    kill then loses it, and the driver counts a key only once it has run."""
    from conftest import kill_after

    script = tmp_path / "drive.py"
    script.write_text(KILL_SCRIPT)
    reported = kill_after(script, db, "shown", 6, 90)
    assert reported >= 6
    ws = Workspace.open(db)
    rows = [r for r in store.history(ws) if r.reviewer == "ana"]
    toggles = [r for r in rows if r.status == "draft"]
    confirmed = {r.work_id for r in rows if r.status == "confirmed"}
    assert len(toggles) >= reported  # every toggle the app showed is in the log
    assert len(confirmed) >= reported // 2  # and every work it confirmed
    ws.close()


async def test_a_failed_read_does_not_leave_the_keys_waiting(db: Path, tmp_path: Path) -> None:
    """A worker that cannot open the workspace (moved away, locked) reports it, and the app stops
    waiting: the keys pressed afterwards act (they were kept forever before)."""
    app = CodingApp(db, reviewer="ana", stage="all")
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        first = app.work_id
        away = tmp_path / "away.db"
        db.rename(away)  # the app's own connection keeps working; a worker's open fails
        await pilot.press("right")
        await settled(app, pilot)
        assert app.reading is False
        assert any("no workspace here" in n.message for n in app._notifications)
        stuck = app.work_id
        await pilot.press("enter")  # nothing was read: nothing to confirm, no move
        await settled(app, pilot)
        assert app.work_id == stuck and stuck not in app.skip
        assert not any("confirmed" in n.message for n in app._notifications)
        away.rename(db)
        await pilot.press("left", "right")  # act at once: back, then forward again (re-read)
        await settled(app, pilot)
        assert app.kept == [] and app.work_id not in (None, first)
        assert "(draft)" not in form_text(app)
        await pilot.press("2")  # toggles technological (suggested here): a draft at once
        await settled(app, pilot)
        assert "Challenges reported (draft)" in form_text(app)
