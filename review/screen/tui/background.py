"""Background work of the screening app: progress, the stopping estimate, ranking, PDF attach.

Each worker runs in a thread with its own SQLite connection (``Workspace.open``) and posts its
result back to the app with ``call_from_thread``; the app's main connection is never shared.
Relevance ranking (seconds of CPU at 100k works) runs in a child process (``ranker.py``); the
thread only waits for it, so key handling never contends with it for the GIL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.timer import Timer

from ...errors import ReviewError
from ...store import Workspace
from .. import actions
from ..queue import ScreenQueue, progress, ranked_ids
from .ranker import RankProcess
from .widgets import ProgressPanel

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[None]
else:
    _Base = object


class BackgroundMixin(_Base):
    """Thread workers of ``ScreenApp`` (each opens its own connection)."""

    db_path: Path
    stage: str
    reviewer: str
    order: str
    seed: int
    queue: ScreenQueue
    current: int | None
    stop_delay: float
    _progress_busy: bool
    _progress_dirty: bool
    _stop_busy: bool
    _stop_dirty: bool
    _stop_timer: Timer | None
    ranker: RankProcess
    ranked: int
    _rank_busy: bool
    _rank_dirty: bool

    def show(self, work_id: int | None) -> None:  # provided by ScreenApp
        raise NotImplementedError

    def refresh_progress(self) -> None:
        """Counts after every action, one count at a time: requests made while one runs
        collapse into one more run, so fast keys never pile up threads beside the key path."""
        if self._progress_busy:
            self._progress_dirty = True
        else:
            self._progress_busy, self._progress_dirty = True, False
            self._count_progress()

    @work(thread=True, group="progress")
    def _count_progress(self) -> None:
        try:
            ws = Workspace.open(self.db_path)
            try:
                p = progress(ws, self.stage, self.reviewer)
            finally:
                ws.close()
        except Exception:
            self.call_from_thread(self._progress_failed)
            raise
        self.call_from_thread(self._set_progress, p)

    def _progress_failed(self) -> None:
        self._progress_busy = False

    def _set_progress(self, p: dict[str, Any]) -> None:
        self._progress_busy = False
        if self._progress_dirty:
            self.refresh_progress()
        self.query_one(ProgressPanel).show_counts(p)
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
            self.refresh_stopping()

    @work(thread=True, group="stopping")
    def refresh_stopping(self) -> None:
        stop: dict[str, Any] | None = None
        try:
            from ..stopping import stopping_status
        except ImportError:
            stopping_status = None  # type: ignore[assignment]
        if stopping_status is not None:
            ws = Workspace.open(self.db_path)
            try:
                stop = stopping_status(ws, self.stage, reviewer=self.reviewer)
            except ReviewError as e:
                stop = {"message": str(e)}
            finally:
                ws.close()
        self.call_from_thread(self._set_stopping, stop)

    def _set_stopping(self, stop: dict[str, Any] | None) -> None:
        self._stop_busy = False
        self.query_one(ProgressPanel).show_stopping(stop)
        if self._stop_dirty:
            self._stop_busy, self._stop_dirty = True, False
            self.refresh_stopping()

    def request_rank(self) -> None:
        """Re-rank in the background; requests made while one runs collapse into one more run."""
        if self._rank_busy:
            self._rank_dirty = True
        else:
            self._rank_busy, self._rank_dirty = True, False
            self.rerank()

    @work(thread=True, group="rank")
    def rerank(self) -> None:
        """Relevance order: the ranking child process (no GIL held here while it works)."""
        order: list[int] | None = None
        try:
            if self.order == "relevance":
                order = self.ranker.rank(
                    self.db_path, self.stage, self.reviewer, self.order, self.seed
                )
            else:  # random: a cheap shuffle, no model
                ws = Workspace.open(self.db_path)
                try:
                    order = ranked_ids(ws, self.stage, self.reviewer, self.order, self.seed)
                finally:
                    ws.close()
        except ReviewError as e:
            if not self.ranker.closed:
                self.call_from_thread(self.notify, f"ranking failed: {e}", severity="warning")
        if not self.ranker.closed:
            self.call_from_thread(self._ranked, order)

    def _ranked(self, order: list[int] | None) -> None:
        if order is not None:
            self.queue.replace_order(order)
            self.ranked += 1
        self._rank_busy = False
        if self._rank_dirty:
            self.request_rank()

    @work(thread=True, group="attach")
    def attach_in_worker(self, work_id: int, path: str) -> None:
        """Copy and read the PDF off the UI thread; waits (and says so) while another process
        holds the write lock."""
        from .base import WAITING, is_locked

        ws = Workspace.open(self.db_path)
        try:
            while True:
                try:
                    doc = actions.attach_pdf(ws, work_id, path, self.reviewer)
                    break
                except sqlite3.OperationalError as e:
                    if not is_locked(e):
                        raise
                    self.call_from_thread(self.notify, WAITING, severity="warning")
        except ReviewError as e:
            self.call_from_thread(self.notify, str(e), severity="error")
            return
        finally:
            ws.close()
        self.call_from_thread(self._attached, work_id, doc)

    def _attached(self, work_id: int, doc: int) -> None:
        self.notify(f"attached document #{doc} to work #{work_id}")
        if self.current == work_id:
            self.show(work_id)
