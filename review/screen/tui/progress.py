"""The progress panel: screened / remaining, decisions per outcome and reason, the stopping
estimate -- a widget that owns its state and its database work.

``refresh()`` asks for new counts (after every decision); the counts run in a thread worker with
their own connection, one at a time (requests made meanwhile collapse into one more run), so fast
keys never pile threads up beside the key path. The stopping estimate (it refits a model) waits
for a pause in the reviewer's keys (``stop_delay`` seconds) and also runs one at a time. Each
result redraws the panel and posts ``ProgressPanel.Updated`` for whoever wants to react.

The estimate also runs the stopping rule's trigger (``stopping_status(start=True)``): when the
stage enters the random-sample phase the panel reads the urn's stored order in the worker and
posts ``ProgressPanel.SampleStarted`` once, so the app can switch its queue and say so.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import ProgressBar, Static

from ...errors import ReviewError
from ...store import Workspace
from ..queue import progress


class ProgressPanel(Vertical):
    """``ProgressPanel(db_path, stage, reviewer, stop_delay=1.0)``; ``refresh()`` after changes."""

    class Updated(Message):
        """New counts or a new stopping estimate are on screen."""

        def __init__(self, counts: dict[str, Any] | None, stopping: dict[str, Any] | None):
            super().__init__()
            self.counts, self.stopping = counts, stopping

    class SampleStarted(Message):
        """The stage is in the random-sample phase: ``urn`` is its stored random order."""

        def __init__(self, phase_id: int, urn: list[int], stopping: dict[str, Any]):
            super().__init__()
            self.phase_id, self.urn, self.stopping = phase_id, urn, stopping

    def __init__(
        self,
        db_path: str | Path | None = None,
        stage: str = "",
        reviewer: str = "",
        stop_delay: float = 1.0,
        seed: int = 0,
        sample_phase: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.db_path = Path(db_path) if db_path is not None else None
        self.stage, self.reviewer, self.stop_delay = stage, reviewer, stop_delay
        self.seed = seed  # the urn's shuffle seed if this panel's estimate starts the phase
        self.sample_phase = sample_phase  # the phase the app already serves (None: ranked)
        self.counts: dict[str, Any] | None = None
        self.stopping: dict[str, Any] | None = None
        self._busy = self._dirty = False
        self._stop_busy = self._stop_dirty = False
        self._stop_timer: Timer | None = None
        self._ws: Workspace | None = None  # the counting worker's connection (one count at a time)

    def on_unmount(self) -> None:
        if self._ws is not None and not self._busy:
            self._ws.close()

    def compose(self) -> ComposeResult:
        yield ProgressBar(id="progress-bar", show_eta=False)
        yield Static("computing progress…", id="progress-text")

    # -- requests -------------------------------------------------------------------------------
    def refresh_counts(self) -> None:
        """New counts soon (off the UI thread); then, after a pause, a new stopping estimate."""
        if self.db_path is None:
            return
        if self._busy:
            self._dirty = True
        else:
            self._busy, self._dirty = True, False
            self._count()

    @work(thread=True, group="progress")
    def _count(self) -> None:
        assert self.db_path is not None
        p: dict[str, Any] | None = None
        try:
            if self._ws is None:  # kept open: opening costs more Python (GIL) than counting
                self._ws = Workspace.open(self.db_path)
            p = progress(self._ws, self.stage, self.reviewer)
        except sqlite3.ProgrammingError:  # closed under us: the app is shutting down
            return
        finally:
            self._post(self._counted, p)

    def _counted(self, p: dict[str, Any] | None) -> None:
        self._busy = False
        if self._dirty:
            self.refresh_counts()
        if p is None:
            return
        self.show_counts(p)
        # the estimate is slow (it refits a model): wait for a pause in the reviewer's keys
        if self._stop_timer is not None:
            self._stop_timer.stop()
        self._stop_timer = self.set_timer(self.stop_delay, self._start_stopping)

    def _start_stopping(self) -> None:
        self._stop_timer = None
        if self._stop_busy:
            self._stop_dirty = True
        else:
            self._stop_busy, self._stop_dirty = True, False
            self._estimate()

    @work(thread=True, group="stopping")
    def _estimate(self) -> None:
        assert self.db_path is not None
        stop: dict[str, Any] | None = None
        urn: list[int] | None = None
        try:
            from ..sampling import urn_order
            from ..stopping import stopping_status
        except ImportError:  # pragma: no cover - an optional dependency missing
            stopping_status = None  # type: ignore[assignment]
        try:
            if stopping_status is not None:
                ws = Workspace.open(self.db_path)
                try:
                    stop = stopping_status(
                        ws, self.stage, reviewer=self.reviewer, start=True, seed=self.seed
                    )
                    pid = stop.get("sample_phase_id")
                    if pid is not None and pid != self.sample_phase:
                        urn = urn_order(ws, pid)  # one range read of sample_order's key
                except ReviewError as e:
                    stop = {"message": str(e)}
                finally:
                    ws.close()
        finally:
            if urn is not None and stop is not None:
                self._post(self._sampling, (stop, urn))
            self._post(self._estimated, stop)

    def _sampling(self, value: tuple[dict[str, Any], list[int]]) -> None:
        stop, urn = value
        self.sample_phase = stop["sample_phase_id"]
        self.post_message(self.SampleStarted(stop["sample_phase_id"], urn, stop))

    def _post(self, fn: Any, value: Any) -> None:
        """Hand a worker's result to the UI thread (nothing to do once the app has stopped)."""
        try:
            self.app.call_from_thread(fn, value)
        except Exception:  # RuntimeError / NoActiveAppError at shutdown
            pass

    def _estimated(self, stop: dict[str, Any] | None) -> None:
        self._stop_busy = False
        self.show_stopping(stop)
        if self._stop_dirty:
            self._stop_busy, self._stop_dirty = True, False
            self._estimate()

    # -- drawing --------------------------------------------------------------------------------
    def show_counts(self, p: dict[str, Any]) -> None:
        self.counts = p
        self._draw()

    def show_stopping(self, stop: dict[str, Any] | None) -> None:
        self.stopping = stop
        if self.counts is not None:
            self._draw()

    def set_progress(self, p: dict[str, Any], stop: dict[str, Any] | None) -> None:
        self.counts, self.stopping = p, stop
        self._draw()

    def _draw(self) -> None:
        p, stop = self.counts, self.stopping
        if p is None:
            return
        bar = self.query_one(ProgressBar)
        total = p["screened"] + p["remaining"]
        bar.update(total=max(total, 1), progress=p["screened"])
        reasons = " ".join(f"{k} {v}" for k, v in p["excluded_by_reason"].items())
        t = Text()
        t.append(f"{p['stage']} · screened {p['screened']} / remaining {p['remaining']}")
        if p.get("not_retrieved"):
            t.append(f" · not retrieved {p['not_retrieved']}")
        t.append(f"\ninclude {p['include']} · maybe {p['maybe']} · exclude {p['exclude']}")
        if reasons:
            t.append(f" ({reasons})")
        if stop:
            est = stop.get("est_relevant_remaining")
            rec = stop.get("estimated_recall")
            phase = {"ranked": " · ranked phase", "sample": " · RANDOM SAMPLE phase"}.get(
                stop.get("phase") or "", ""
            )
            t.append(
                f"\nest. relevant unseen {'-' if est is None else round(est, 1)}"
                f" · recall {'-' if rec is None else f'{rec:.2f}'}"
                f" · stop? {'yes' if stop.get('should_stop') else 'no'}{phase}"
            )
            if stop.get("message"):
                t.append(f"\n{stop['message']}", style="italic")
            if "assumes" in stop:  # which rule, what it assumes, how many in a row would stop
                from ..stopping import describe

                t.append(f"\n{describe(stop)}", style="dim")
        self.query_one("#progress-text", Static).update(t)
        self.post_message(self.Updated(self.counts, self.stopping))

    @property
    def text(self) -> str:
        content = self.query_one("#progress-text", Static).content
        return content.plain if isinstance(content, Text) else str(content)
