"""The shared base app (review/screen/tui/base.py): every view is built on it, errors are shown
(never a traceback), writes report their state, bindings carry ids and descriptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_screen import build_workspace
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from review.errors import ScreenError
from review.screen.tui.app import ScreenApp
from review.screen.tui.base import BASE_BINDINGS, ReviewApp
from review.screen.tui.conflicts import ConflictApp
from review.screen.tui.dedup_view import DedupApp
from review.store import Workspace

SIZE = (120, 40)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    build_workspace(tmp_path / "b.db").close()
    return tmp_path / "b.db"


class Tiny(ReviewApp):
    """A minimal subclass, as the base's docstring describes."""

    TITLE = "tiny"
    HELP = "tiny help"
    BINDINGS = [Binding("b", "boom", "Boom", id="boom")]

    def compose_main(self) -> ComposeResult:
        yield Static("hello", id="body")

    def action_boom(self) -> None:
        raise ScreenError("no work with id 999", where="work 999")

    def read_in_worker(self) -> None:
        def fail(ws: Workspace) -> None:
            raise ScreenError("a worker failed", where="work 7")

        self.run_db(fail)


def messages(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


@pytest.mark.parametrize("cls", [ScreenApp, ConflictApp, DedupApp])
def test_every_view_is_a_review_app_with_described_bindings(cls):
    assert issubclass(cls, ReviewApp)
    bindings = cls._bindings_of_class()
    assert {b.id for b in bindings} >= {b.id for b in BASE_BINDINGS}
    for b in bindings:
        assert b.id and b.description, f"{cls.__name__}: binding {b.key!r} lacks id/description"


async def test_review_errors_are_shown_not_raised(db):
    app = Tiny(db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("b")
        app.read_in_worker()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "work 999: no work with id 999" in messages(app)
        assert "a worker failed" in messages(app)
        assert app.is_running
        await pilot.press("question_mark")
        await pilot.pause()
        assert "tiny help" in messages(app)
    assert app.return_code in (None, 0)


async def test_write_states(db):
    app = Tiny(db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        got: list[int] = []

        def add_note(ws: Workspace) -> int:
            from review.screen import actions

            return actions.add_note(ws, 1, "fine", "ann")

        def bad(ws: Workspace) -> None:
            from review.screen import actions

            actions.decide(ws, 1, "title-abstract", "ann", "exclude", "NOPE")

        assert app.write(add_note, done=got.append) == "saved" and len(got) == 1
        assert app.write(bad) == "failed"
        await pilot.pause()
        assert "unknown exclusion reason" in messages(app)
        assert app.writes_pending == [] and app.writes_done == 1
    with Workspace.open(db) as ws:
        assert ws.db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 0
        assert ws.db.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 1
