"""Background work of the screening app: ranking and PDF attach (progress and the stopping
estimate are the progress panel's own workers, ``progress.py``).

Each worker runs in a thread with its own SQLite connection (``Workspace.open``) and posts its
result back to the app with ``call_from_thread``; the app's main connection is never shared.
Relevance ranking (seconds of CPU at 100k works) runs in a child process (``ranker.py``); the
thread only waits for it, so key handling never contends with it for the GIL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from ...errors import ReviewError
from ...store import Workspace
from .. import actions
from ..queue import ScreenQueue, ranked_ids
from .ranker import RankProcess

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
    ranker: RankProcess
    ranked: int
    _rank_busy: bool
    _rank_dirty: bool

    def show(self, work_id: int | None) -> None:  # provided by ScreenApp
        raise NotImplementedError

    def request_rank(self) -> None:
        """Re-rank in the background; requests made while one runs collapse into one more run.
        None in the random-sample phase: the urn's stored order is served, not a ranking."""
        if self.queue.phase_id is not None:
            return
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
