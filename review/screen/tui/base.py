"""The base of every review app (screening, conflicts, duplicates, coding): layout, keys, help,
errors, database workers and writes that survive a second process.

How to subclass (``review/screen/tui/app.py`` is the full example)::

    class CodingApp(ReviewApp):
        TITLE = "review code"
        HELP = "One paragraph the help panel shows above the keys."
        BINDINGS = [Binding("enter", "confirm", "Confirm", id="confirm")]  # + BASE_BINDINGS

        def __init__(self, db_path: str | Path, reviewer: str | None = None) -> None:
            super().__init__(db_path)  # opens self.ws (UI-thread reads) and self.proto
            self.reviewer = reviewer or default_reviewer()

        def compose_main(self) -> ComposeResult:  # between the Header and the Footer
            with Horizontal(id="main"):
                yield RecordView(id="record")

        def on_mount(self) -> None:
            self.show_next()

        def action_confirm(self) -> None:
            wid = self.current
            self.write(lambda ws: save_codes(ws, wid, ...), done=self.saved, what="codes")

The rules the base enforces or offers:

- **Reads on the UI thread** use ``self.ws`` and must be per-work indexed look-ups (a test traces
  every SQL statement of the screening app's per-key path and fails on a table scan).
- **Slow reads** (counts, models, lists of thousands of rows): ``self.run_db(fn, done)`` runs
  ``fn(ws)`` in a thread worker with its own connection and calls ``done(result)`` on the UI thread.
- **Writes** go through ``self.write(fn, done=..., what=...)``: tried at once with a short busy
  timeout (a normal write takes ~1 ms). When another process holds the workspace's write lock
  (``review import``, ``review dedup``...), the write is queued -- in order, and every later write
  queues behind it -- a writer thread retries it, and the app shows "waiting for the workspace
  (another review command is writing)". No key press is lost; ``q`` waits for the queue.
  ``self.writes_pending`` tells a view which works have unsaved changes.
- **Errors**: a ``ReviewError`` raised by an action, a worker or a write is shown as a
  notification (``self.report``), never a traceback; the app keeps running.
- **Keys**: ``BINDINGS`` of a subclass are merged with ``BASE_BINDINGS`` (help ``?``, quit ``q``,
  scrolling); every binding has an ``id`` so ``[keys]`` tables can rebind it (``use_keys``).
  ``?`` toggles the key help with ``HELP`` above it. ``scroll_target()`` names what the arrow
  keys scroll.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Footer, Header, HelpPanel, Static

from ...errors import ReviewError
from ...protocol import Protocol
from ...store import Workspace

WAITING = "waiting for the workspace (another review command is writing)"
TRY_MS = 50  # busy timeout of a write tried on the UI thread
RETRY_MS = 500  # busy timeout of one retry in the writer thread (then the message is refreshed)

BASE_BINDINGS: list[BindingType] = [
    Binding("question_mark", "help", "Help", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
    Binding("down", "scroll(1)", "Scroll down", show=False, id="scroll_down"),
    Binding("up", "scroll(-1)", "Scroll up", show=False, id="scroll_up"),
    Binding("pagedown,space", "scroll(20)", "Page down", show=False, id="page_down"),
    Binding("pageup", "scroll(-20)", "Page up", show=False, id="page_up"),
]


def is_locked(e: BaseException) -> bool:
    """True for SQLite's "database is locked" / "busy" (another connection holds the write lock)."""
    msg = str(e).lower()  # review.store's WorkspaceBusy is also an OperationalError
    return isinstance(e, sqlite3.OperationalError) and ("locked" in msg or "busy" in msg)


def open_workspace(path: str | Path) -> Workspace:
    """``Workspace.open`` whose ``protocol()`` parses the stored TOML once per protocol version
    (one indexed read per call after that): the library asks for it on every decision (stage
    checks), and parsing it was a quarter of a key's time at 100k works."""
    ws = Workspace.open(path)
    parse = ws.protocol
    cache: dict[str, Any] = {}

    def protocol() -> Protocol | None:
        row = ws.db.execute("SELECT MAX(id) FROM protocols").fetchone()
        if cache.get("version", -1) != row[0]:
            cache["version"], cache["protocol"] = row[0], parse()
        return cache["protocol"]  # type: ignore[no-any-return]

    ws.protocol = protocol  # type: ignore[method-assign]
    return ws


def busy_ms_of(ws: Workspace) -> int:
    """The connection's own busy timeout (read once per workspace; restored after a try)."""
    ms = getattr(ws, "_tui_busy_ms", None)
    if ms is None:
        ms = int(ws.db.conn.execute("PRAGMA busy_timeout").fetchone()[0])
        ws._tui_busy_ms = ms  # type: ignore[attr-defined]
    return int(ms)


@dataclass
class WriteJob:
    fn: Callable[[Workspace], Any]
    done: Callable[[Any], None] | None
    what: str
    key: Any = None  # e.g. the work id the write is about (see writes_pending)


class LockStatus(Static):
    """One line above the footer, shown only while writes wait for another process."""

    DEFAULT_CSS = """
    LockStatus { height: auto; padding: 0 1; background: $warning 30%; display: none; }
    LockStatus.-waiting { display: block; }
    """

    def set_waiting(self, text: str | None) -> None:
        self.set_class(text is not None, "-waiting")
        self.update(text or "")


class ReviewApp(App[None]):
    """Shared shell of the review apps; see the module docstring for how to subclass."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses live anywhere
    BINDINGS: ClassVar[list[BindingType]] = BASE_BINDINGS
    HELP: ClassVar[str] = ""
    db_path: Path
    ws: Workspace  # the UI thread's connection: per-work indexed reads only
    proto: Protocol | None

    def __init__(self, db_path: str | Path | None = None) -> None:
        """Opens ``self.ws`` (the UI thread's connection) and ``self.proto`` when given a path
        (an app that opens its own workspace calls ``super().__init__()`` and sets both)."""
        super().__init__()
        if db_path is not None:
            self.db_path = Path(db_path)
            self.ws = open_workspace(self.db_path)
            self.proto = self.ws.protocol()
        self._queue: deque[WriteJob] = deque()
        self._qlock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._quitting = False
        self.waiting: str | None = None  # the lock-wait message while shown
        self.writes_done = 0

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_main()
        yield LockStatus(id="lock-status")
        yield Footer()

    def compose_main(self) -> Iterable[Widget]:
        """The app's own widgets (between the header and the footer)."""
        return ()

    def on_unmount(self) -> None:
        self.ws.close()

    # -- keys and help ------------------------------------------------------------------------------
    def use_keys(self, keys: dict[str, str]) -> None:
        """Apply a ``[keys]`` table (binding id -> keys), keeping only ids this app has."""
        ids = {b.id for b in self._bindings_of_class() if b.id}
        mine = {k: v for k, v in keys.items() if k in ids}
        if mine:
            self.set_keymap(mine)

    @classmethod
    def _bindings_of_class(cls) -> list[Binding]:
        out: list[Binding] = []
        for klass in reversed(cls.__mro__):
            if klass.__module__.startswith("textual"):  # Textual's own (ctrl+q, ctrl+c, ...)
                continue
            for b in klass.__dict__.get("BINDINGS", []):
                if isinstance(b, Binding):
                    out.append(b)
        return out

    def action_help(self) -> None:
        panels = self.screen.query(HelpPanel)
        if panels:
            panels.remove()
        else:
            self.action_show_help_panel()
            if self.HELP:
                self.notify(self.HELP, timeout=6)

    def scroll_target(self) -> Widget | None:
        """What the arrow / page keys scroll (None: nothing)."""
        return None

    def action_scroll(self, lines: int) -> None:
        target = self.scroll_target()
        if target is not None:
            target.scroll_relative(y=lines, animate=False)

    # -- errors ----------------------------------------------------------------------------------
    def report(self, e: BaseException) -> None:
        """Show an error the reviewer can act on (a ReviewError names the file/work/place)."""
        self.notify(str(e), severity="error", timeout=8)

    async def _dispatch_action(self, namespace: DOMNode, action_name: str, params: Any) -> bool:
        # a ReviewError raised by a key's action is a message for the reviewer: the app goes on
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except ReviewError as e:
            self.report(e)
            return True

    def _handle_exception(self, error: Exception) -> None:
        # a ReviewError ending a worker is a message for the reviewer, not a crash
        inner = getattr(error, "error", error)  # textual's WorkerFailed wraps the worker's error
        if isinstance(inner, ReviewError):
            self.report(inner)
            return
        super()._handle_exception(error)

    # -- reads off the UI thread -------------------------------------------------------------------
    @work(thread=True)
    def run_db(
        self,
        fn: Callable[[Workspace], Any],
        done: Callable[[Any], None] | None = None,
        errors_to_done: bool = False,
    ) -> None:
        """``fn(ws)`` in a thread with its own connection; ``done(result)`` on the UI thread.
        A ReviewError (opening the workspace or in ``fn``) is reported; with ``errors_to_done``
        it is also handed to ``done`` as the result, for callers that wait on the read."""
        result: Any
        try:
            ws = Workspace.open(self.db_path)
            try:
                result = fn(ws)
            finally:
                ws.close()
        except ReviewError as e:
            self.call_from_thread(self.report, e)
            if not (errors_to_done and done is not None):
                return
            result = e
        if done is not None:
            self.call_from_thread(done, result)

    # -- writes ----------------------------------------------------------------------------------
    @property
    def writes_pending(self) -> list[Any]:
        """The ``key`` of every queued (not yet committed) write, oldest first."""
        with self._qlock:
            return [j.key for j in self._queue]

    def write(
        self,
        fn: Callable[[Workspace], Any],
        done: Callable[[Any], None] | None = None,
        what: str = "change",
        key: Any = None,
    ) -> str:
        """Run the write ``fn(ws)``: "saved" (committed now), "queued" (another process holds the
        lock; it is retried in order) or "failed" (a ReviewError, shown; nothing written).

        ``done(result)`` runs on the UI thread after the commit (now, or later for a queued write).
        """
        job = WriteJob(fn, done, what, key)
        with self._qlock:
            if self._queue:  # keep the order: behind the writes already waiting
                self._queue.append(job)
                return "queued"
        try:
            result = self._attempt(self.ws, job, TRY_MS)
        except Exception as e:
            if is_locked(e):  # WorkspaceBusy or a bare "database is locked"
                with self._qlock:
                    self._queue.append(job)
                    self._start_writer()
                self._set_waiting(0.0)
                return "queued"
            if isinstance(e, ReviewError):
                self.report(e)
                return "failed"
            raise
        self.writes_done += 1
        if done is not None:
            done(result)
        return "saved"

    @staticmethod
    def _attempt(ws: Workspace, job: WriteJob, busy_ms: int) -> Any:
        conn = ws.db.conn
        before = busy_ms_of(ws)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        try:
            return job.fn(ws)
        finally:
            if conn.in_transaction:  # a write that failed half-way leaves nothing behind
                conn.rollback()
            conn.execute(f"PRAGMA busy_timeout = {int(before)}")

    def _start_writer(self) -> None:
        """(holding _qlock) one writer thread drains the queue in order."""
        if self._writer is None:
            self._writer = threading.Thread(target=self._drain, name="review-writer", daemon=True)
            self._writer.start()

    def _drain(self) -> None:
        ws: Workspace | None = None
        start = time.monotonic()
        try:
            while True:
                with self._qlock:
                    if not self._queue:
                        self._writer = None
                        break
                    job = self._queue[0]
                try:
                    if ws is None:  # opening may itself wait for the lock (a schema upgrade)
                        ws = open_workspace(self.db_path)
                    result = self._attempt(ws, job, RETRY_MS)
                except Exception as e:
                    if is_locked(e):
                        self._to_ui(self._set_waiting, time.monotonic() - start)
                        time.sleep(0.1)  # some lock errors return at once: never spin
                        continue
                    self._to_ui(self.report, e)  # shown, never a traceback; the queue goes on
                else:
                    self._to_ui(self._committed, job, result)
                # popped only after its callback ran: a key pressed meanwhile queues behind it
                with self._qlock:
                    self._queue.popleft()
        finally:
            if ws is not None:
                ws.close()
        self._to_ui(self._queue_empty)

    def _to_ui(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            self.call_from_thread(fn, *args)
        except RuntimeError:  # the app has already stopped: nothing left to show
            pass

    def _committed(self, job: WriteJob, result: Any) -> None:
        self.writes_done += 1
        if job.done is not None:
            job.done(result)

    def _set_waiting(self, seconds: float) -> None:
        n = len(self.writes_pending)
        text = f"{WAITING} · {n} change{'s' if n != 1 else ''} queued"
        if seconds >= 1:
            text += f" · {seconds:.0f} s"
        if self.waiting is None:
            self.notify(WAITING, severity="warning")
        self.waiting = text
        for status in self.query(LockStatus):
            status.set_waiting(text)

    def _queue_empty(self) -> None:
        if self.waiting is not None:
            self.notify("workspace free again: every queued change is saved")
        self.waiting = None
        for status in self.query(LockStatus):
            status.set_waiting(None)
        if self._quitting:
            self.exit()

    async def action_quit(self) -> None:
        """Quit, after the queued writes are saved (they are retried until the lock frees)."""
        if self.writes_pending:
            self._quitting = True
            self.notify("saving queued changes before quitting…", severity="warning")
            return
        self.exit()
