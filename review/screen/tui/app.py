"""The screening app: one record at a time, keyboard first, every action committed at once.

The app is a shell over ``review.screen.queue`` and ``review.screen.actions`` built on the shared
base app (``base.py``: layout, keys, help, errors, writes that wait for another process). Per key
it reads only the work in hand through indexes (``tests/test_tui_sql.py`` traces every statement
and fails on a table scan): the decision is committed (or queued while another process writes),
the next record is picked from the in-memory order and rendered. Ranking, progress and the
stopping estimate run in thread workers, each with its own SQLite connection; relevance ranking
runs in a child process (``ranker.py``) so it never holds this process's GIL.

Stopping (Callaghan & Müller-Hansen as published, ``sampling.py``): when the progress panel's
estimate finds the trigger reached, the stage enters the random-sample phase; the app then serves
the urn in its stored random order (rankings no longer replace it), says so in a notification and
the sub-title, and the panel says how far the sample is from stopping. ``sample=True`` (`review
screen --sample`) starts the phase at once.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget

from ...share.agreement import visible_decisions
from .. import actions
from ..queue import ScreenQueue, check_stage, current_decision, previous_stage, screened_history
from .background import BackgroundMixin
from .base import ReviewApp
from .countries import CountriesMixin
from .keys import ACTIONS, SCREEN_BINDINGS, keymap
from .live import MergeWatch, absorbed_into, decide_on_survivor
from .palette import ScreenCommands
from .ranker import RankProcess
from .widgets import (
    CriteriaPanel,
    ProgressPanel,
    PromptScreen,
    RecordView,
    SearchResults,
    ask_reason,
)

RERANK_EVERY = 10  # decisions between background re-rankings (relevance order)
STOP_DELAY = 1.0  # seconds without a keypress before the stopping estimate is refreshed


class ScreenApp(CountriesMixin, BackgroundMixin, ReviewApp):
    """``ScreenApp(db_path, stage, reviewer, order)``; keys rebindable via the protocol's [keys]."""

    TITLE = "review screen"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS = SCREEN_BINDINGS
    ACTIONS = ACTIONS

    def __init__(
        self,
        db_path: str | Path,
        stage: str | None = None,
        reviewer: str | None = None,
        order: str = "relevance",
        seed: int = 0,
        sample: bool = False,
    ) -> None:
        from ...store import default_reviewer

        super().__init__(db_path)
        stages = self.proto.stages if self.proto else ("title-abstract", "full-text")
        self.stage = check_stage(self.ws, stage or stages[0])
        self.reviewer = reviewer or default_reviewer()
        self.order, self.seed = order, seed
        self.full_text = previous_stage(self.ws, self.stage) is not None
        # the sample phase's urn if there is one (``sample``: start it now), else the oldest
        # first until the first ranking arrives; the trigger is the progress panel's to check
        self.queue = ScreenQueue.build(
            self.ws, self.stage, self.reviewer, "oldest", seed, sample_now=sample
        )
        phase = self.queue.phase_id
        self.done: list[int] = screened_history(self.ws, self.stage, self.reviewer)
        self.pending: list[int] = []  # undone works, shown before the queue
        self.cursor: int | None = None  # index in self.done while browsing back
        self.jumped = False  # showing a search hit
        self.current: int | None = None
        self.since_rank = 0
        # spawned before the app runs; none needed while the urn's random order is served
        self.ranker = RankProcess(start=order == "relevance" and phase is None)
        self.ranked = 0  # rankings applied (tests and the benchmark wait on it)
        self._rank_busy = self._rank_dirty = False
        self.stop_delay = STOP_DELAY
        self.merges = MergeWatch.start(self.ws)
        self.sub_title = f"{self.stage} · {self.reviewer}"
        if phase is not None:
            self.sub_title += " · random sample"
        # defaults < the protocol's [keys] < the user's $REVIEW_CONFIG / ~/.config/review/config.toml
        keys = keymap(
            self.proto.keys if self.proto else {}, self.proto.path if self.proto else None
        )
        if keys:
            self.set_keymap(keys)

    # -- layout ---------------------------------------------------------------------------------
    def compose_main(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield RecordView(id="record")
                yield ProgressPanel(
                    self.db_path, self.stage, self.reviewer, self.stop_delay, self.seed,
                    self.queue.phase_id, id="progress",
                )  # fmt: skip
            yield CriteriaPanel(id="criteria")

    def scroll_target(self) -> Widget | None:
        return self.query_one(RecordView)

    def refresh_progress(self) -> None:
        """Counts, then (after a pause) the stopping estimate: the panel's own workers."""
        self.query_one(ProgressPanel).refresh_counts()

    def on_mount(self) -> None:
        self.query_one(CriteriaPanel).set_protocol(self.proto)
        self.show_frontier()
        # what exists now (imports, widgets, the id lists) lives as long as the app: keep it out
        # of the collector's full passes, measured at 60-75 ms each at 100k works
        gc.freeze()
        self.refresh_progress()
        if self.order != "oldest":
            self.request_rank()

    def on_progress_panel_sample_started(self, msg: ProgressPanel.SampleStarted) -> None:
        """The stopping rule's trigger was reached: serve the urn in its random order, and say so."""
        if self.queue.phase_id == msg.phase_id:
            return
        self.queue.enter_sample(msg.phase_id, msg.urn)
        self.ranker.close()  # no ranking replaces the urn's order: end the child now
        self.sub_title = f"{self.stage} · {self.reviewer} · random sample"
        st = msg.stopping
        self.notify(
            f"Random sampling starts: {st.get('trigger')} irrelevant in a row reached. Records now"
            f" come in random order ({st.get('urn')} left in the urn); the stopping rule tests"
            " recall on this random sample only, so screen them in the order shown.",
            title="Stopping rule: random sample",
            severity="warning",
            timeout=20,
        )
        if self.cursor is None and not self.jumped and not self.pending:
            self.show_frontier()

    def on_unmount(self) -> None:
        self.ranker.close()
        super().on_unmount()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("attach", "not_retrieved"):
            return self.full_text
        return True

    # -- showing records ------------------------------------------------------------------------
    def show_frontier(self) -> None:
        """The next unscreened work: undone ones first, then the ranked queue.

        Works with a queued (not yet committed) decision are skipped; so are works another
        process merged away meanwhile, and works a split re-activated come back first."""
        self.cursor, self.jumped = None, False
        self._follow_merges()
        unsaved = set(self.writes_pending)
        while self.pending:
            wid = self.pending[-1]
            if (
                wid not in unsaved
                and absorbed_into(self.ws, wid) is None
                and current_decision(self.ws, wid, self.stage, self.reviewer) is None
            ):
                self.show(wid)
                return
            self.pending.pop()
        nxt = self.queue.next_work(self.ws, exclude=unsaved)
        while nxt is not None and (into := absorbed_into(self.ws, nxt)) is not None:
            self.queue.skip.add(nxt)
            self.notify(f"work #{nxt} was merged into #{into} by another review command; skipped")
            nxt = self.queue.next_work(self.ws, exclude=unsaved)
        self.show(nxt)

    def _follow_merges(self) -> None:
        merged, back = self.merges.changes(self.ws)
        if not back or self.full_text:  # later stages: the next ranking brings them back
            return
        fresh = [w for w in back if current_decision(self.ws, w, self.stage, self.reviewer) is None]
        self.queue.put_first(fresh)
        if fresh:
            self.notify(f"{len(fresh)} work(s) re-activated by an undone merge: shown next")

    def show(self, work_id: int | None) -> None:
        self.current = work_id
        view = self.query_one(RecordView)
        if work_id is None:
            view.show(None, self.proto)
            return
        work_row = actions.get_work(self.ws, work_id)
        pages = actions.full_text_pages(self.ws, work_id) if self.full_text else None
        status = self._status(work_id)
        view.show(work_row, self.proto, status=status, pages=pages, full_text=self.full_text)

    def _status(self, work_id: int) -> str:
        # one per-work read: every current decision the reviewer may see (blind = true hides
        # others' until this reviewer has decided too), the reviewer's own among them
        visible = visible_decisions(self.ws, work_id, self.stage, self.reviewer)
        mine = next((d for d in visible if d["reviewer"] == self.reviewer), None)
        where = (
            "search hit" if self.jumped else ("revisiting" if self.cursor is not None else "new")
        )
        saving = " (saving…)" if work_id in self.writes_pending else ""
        parts = [f"[{where}] your decision: " + (self._fmt(mine) if mine else "none") + saving]
        others = [
            f"{d['reviewer']}: {self._fmt(d)}" for d in visible if d["reviewer"] != self.reviewer
        ]
        if others:
            parts.append("others: " + "; ".join(others))
        return " · ".join(parts) + "\n" + self.countries_line(work_id)

    @staticmethod
    def _fmt(d: dict[str, Any]) -> str:
        return d["decision"] + (f" {d['reason']}" if d.get("reason") else "")

    # -- actions --------------------------------------------------------------------------------
    def _decide(self, decision: str, reason: str | None = None) -> None:
        """Commit (or queue, while another process writes) and show the next record at once."""
        wid = self.current
        if wid is None:
            self.notify("nothing to decide here", severity="warning")
            return
        stage, reviewer = self.stage, self.reviewer
        state = self.write(
            lambda ws: decide_on_survivor(ws, wid, stage, reviewer, decision, reason),
            done=self._saved,
            what=f"{decision} on work #{wid}",
            key=wid,
        )
        if state == "failed":
            return
        if wid in self.done and self.cursor is not None:
            self.cursor += 1  # revisiting: keep its place, move on
        else:
            if wid in self.done:
                self.done.remove(wid)
            self.done.append(wid)
        if self.cursor is not None and self.cursor < len(self.done):
            self.show(self.done[self.cursor])
        else:
            self.show_frontier()

    def _saved(self, res: dict[str, Any]) -> None:
        """After the commit: progress and ranking catch up in workers, off the key path."""
        if res["decided_on"] != res["work_id"]:
            self.notify(
                f"work #{res['work_id']} was merged into #{res['decided_on']} by another review"
                f" command: your decision is recorded on #{res['decided_on']}"
            )
        self.since_rank += 1
        self.refresh_progress()
        if self.order != "oldest" and self.since_rank >= RERANK_EVERY:
            self.since_rank = 0
            self.request_rank()

    def action_include(self) -> None:
        self._decide("include")

    def action_maybe(self) -> None:
        self._decide("maybe")

    def action_exclude(self) -> None:
        if self.current is None:
            return
        ask_reason(self, self.proto, lambda code: self._decide("exclude", code))

    def action_undo(self) -> None:
        stage, reviewer = self.stage, self.reviewer
        self.write(
            lambda ws: actions.undo_last(ws, stage, reviewer, origin="tui"),
            done=self._undone,
            what="undo",
        )

    def _undone(self, res: dict[str, Any] | None) -> None:
        if res is None:
            self.notify("nothing to undo")
            return
        wid = res["work_id"]
        self.refresh_progress()
        if current_decision(self.ws, wid, self.stage, self.reviewer) is None:
            if wid in self.done:
                self.done.remove(wid)
            self.pending.append(wid)
            self.show_frontier()
        else:
            self.cursor, self.jumped = self.done.index(wid) if wid in self.done else None, False
            self.show(wid)
        self.notify(f"undid decision #{res['undone']} on work #{wid}")

    def _prompt_then(self, title: str, placeholder: str, fn: Any) -> None:
        """Ask for a line of text, then write ``fn(ws, work_id, value)`` and re-show the work."""
        wid = self.current
        if wid is None:
            return

        def done(value: str | None) -> None:
            if value:
                self.write(lambda ws: fn(ws, wid, value), done=lambda _: self._reshow(wid), key=wid)

        self.push_screen(PromptScreen(title, placeholder), done)

    def _reshow(self, wid: int) -> None:
        if self.current == wid:
            self.show(wid)

    def action_note(self) -> None:
        self._prompt_then(
            "Note", "text",
            lambda ws, w, v: actions.add_note(ws, w, v, self.reviewer, self.stage),
        )  # fmt: skip

    def action_tag(self) -> None:
        def tag(ws: Any, w: int, v: str) -> None:
            if v.startswith("-"):
                actions.tag(ws, w, v[1:], self.reviewer, action="remove")
            else:
                actions.tag(ws, w, v, self.reviewer)

        self._prompt_then("Tag (prefix - to remove)", "tag", tag)

    def action_attach(self) -> None:
        wid = self.current
        if wid is None:
            return

        def attach(path: str | None) -> None:
            if path:
                self.attach_in_worker(wid, path)

        self.push_screen(PromptScreen("Attach PDF", "path/to/file.pdf"), attach)

    def action_not_retrieved(self) -> None:
        if self.current is None or not self.full_text:
            return
        wid = self.current
        reviewer = self.reviewer
        state = self.write(
            lambda ws: actions.mark_not_retrieved(ws, wid, reviewer),
            done=lambda _: self.refresh_progress(),
            what="not retrieved",
            key=wid,
        )
        if state == "failed":
            return
        self.queue.skip.add(wid)
        self.notify(f"work #{wid} marked not retrieved")
        if self.cursor is None and not self.jumped:
            self.show_frontier()
        else:
            self.show(wid)

    def action_previous(self) -> None:
        if not self.done:
            self.notify("nothing screened yet")
            return
        if self.cursor is None:
            self.cursor = len(self.done) - 1
        else:
            self.cursor = max(0, self.cursor - 1)
        self.jumped = False
        self.show(self.done[self.cursor])

    def action_forward(self) -> None:
        if self.cursor is None and not self.jumped:
            self.notify("this is the next unscreened record")
            return
        if self.cursor is not None and self.cursor + 1 < len(self.done):
            self.cursor += 1
            self.show(self.done[self.cursor])
        else:
            self.show_frontier()

    def action_search(self) -> None:
        def query(q: str | None) -> None:
            if not q:
                return
            hits = actions.search(self.ws, q)
            self.push_screen(SearchResults(q, hits), opened)

        def opened(work_id: int | None) -> None:
            if work_id is not None:
                self.cursor, self.jumped = None, True
                self.show(work_id)

        self.push_screen(PromptScreen("Search titles and abstracts", "words…"), query)
