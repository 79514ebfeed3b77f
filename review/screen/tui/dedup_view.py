"""Uncertain duplicate pairs, side by side (``review screen --dedup``).

The pairs come from ``review.dedup.queue.pending`` (best score first) and each key calls
``review.dedup.queue.decide``: ``y`` duplicate (the two works merge, logged with rule 'review'),
``n`` distinct (never proposed again), ``s`` skip (stays pending), ``q`` quit. Nothing is lost:
merges are logged and ``review dedup --undo GROUP`` splits one.

Decisions are written through the base app's ``self.write``: while another process holds the
workspace's write lock (``review import``, ``review dedup``) they queue in order with the "waiting
for the workspace" line, the view moves on to the next pair, and ``q`` waits for the queue.

The pending list (a read of every pending pair) is read in the base app's ``run_db`` worker, at
start and after each decision; meanwhile the view applies what the decision changed (the pair
leaves; after a merge, pairs now inside one work leave too), so the next pair shows at once. A
work's abstract, shown where the pair's record has none, is read by a worker too (the side says
"reading" until it arrives).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from ...errors import ReviewError
from .. import actions
from .base import ReviewApp

ABSTRACT_CHARS = 600
READING = "(reading the work's abstract…)"

BINDINGS: list[BindingType] = [
    Binding("y", "decide(True)", "Duplicate (merge)", id="duplicate"),
    Binding("n", "decide(False)", "Distinct", id="distinct"),
    Binding("s,right,j", "skip", "Skip", id="skip"),
    Binding("question_mark", "help", "Help", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
]


def _authors(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value or "[]")
        except ValueError:
            return value
    names = [str(a) for a in value or []]
    return "; ".join(names[:6]) + (f" … (+{len(names) - 6})" if len(names) > 6 else "")


#: the fields shown for each record, in order (volume, issue and pages tell a conference
#: abstract from the paper, and one issue's editorial from the next one's)
FIELDS = ("authors", "year", "venue", "volume", "issue", "pages", "doi", "type", "source")


def _norm(value: Any) -> str:
    return " ".join(str(value or "").lower().replace(".", " ").split())


def _title_text(title: str, other: str | None) -> Text:
    """The title with the words the other record's title lacks highlighted."""
    theirs = set(_norm(other).split())
    t = Text()
    for k, word in enumerate(title.split()):
        if k:
            t.append(" ", style="bold")
        t.append(word, style="bold" if _norm(word) in theirs else "bold yellow")
    return t


def side_text(pair: dict[str, Any], side: str, abstract: str | None) -> Text:
    """One record of a pair: title, authors, year, venue, volume, issue, pages, DOI, type,
    source and the first lines of the abstract; what differs from the other record in yellow."""

    def f(name: str, s: str = side) -> Any:
        return pair.get(f"{name}_{s}")

    other = "b" if side == "a" else "a"
    t = Text()
    t.append(f"{side.upper()}  record {pair[f'record_{side}']} · work {f('work')}\n", style="dim")
    title = f("title") or "(no title)"
    t.append_text(_title_text(title, f("title", other)))
    t.append("\n")
    for label in FIELDS:
        if label == "authors":
            value, theirs = _authors(f("authors")) or "-", _authors(f("authors", other)) or "-"
        else:
            value, theirs = f(label) or "-", f(label, other) or "-"
        same = _norm(value) == _norm(theirs)
        t.append(f"{label:<8}", style="dim")
        t.append(f"{value}\n", style="" if same else "yellow")
    text = (f("abstract") or abstract or "(no abstract)").strip()
    theirs = (f("abstract", other) or "").strip()
    style = "" if not theirs or _norm(text[:300]) == _norm(theirs[:300]) else "yellow"
    t.append("\n" + text[:ABSTRACT_CHARS] + ("…" if len(text) > ABSTRACT_CHARS else ""), style)
    return t


class PairSide(VerticalScroll, can_focus=False):
    def compose(self) -> Iterator[Widget]:
        yield Static(classes="pair-text")

    def set_text(self, text: Text) -> None:
        self.query_one(Static).update(text)
        self.scroll_home(animate=False)

    @property
    def plain(self) -> str:
        content = self.query_one(Static).content
        return content.plain if isinstance(content, Text) else str(content)


class DedupApp(ReviewApp):
    """``DedupApp(db_path, actor)``: decide pending duplicate pairs one by one."""

    TITLE = "review screen --dedup"
    BINDINGS = BINDINGS

    def __init__(self, db_path: str | Path, actor: str | None = None) -> None:
        from ...store import default_reviewer

        super().__init__(db_path)  # opens self.ws and self.proto
        self.actor = actor or default_reviewer()
        self.pairs: list[dict[str, Any]] = []
        self.skipped: set[int] = set()
        self.decided = 0
        self.loaded = False  # the first read of the pending pairs has arrived
        self._reads = 0  # reads of the pending pairs started; only the latest one is applied
        self.abstracts: dict[int, str | None] = {}  # works' abstracts read (READING meanwhile)
        self.abstract_era = 0  # bumped when a merge clears ``abstracts``
        self.sub_title = f"duplicates · deciding as {self.actor}"

    def compose_main(self) -> Iterator[Widget]:  # the base adds header, lock line and footer
        yield Static(id="pair-status")
        with Horizontal(id="pair"):
            yield PairSide(id="side-a")
            yield PairSide(id="side-b")

    def on_mount(self) -> None:
        self.show()  # "reading the pending pairs" until the worker's read arrives
        self.reload()

    def _todo(self) -> list[dict[str, Any]]:
        """Pairs still to show: not skipped, and not decided with the decision still queued."""
        hidden = self.skipped | set(self.writes_pending)
        return [p for p in self.pairs if p["id"] not in hidden]

    @property
    def current(self) -> dict[str, Any] | None:
        todo = self._todo()
        return todo[0] if todo else None

    def reload(self) -> None:
        """Re-read the queue in a worker (another process may have decided pairs, or merged
        works); the pairs arrive in ``_pairs_loaded``."""
        from ...dedup import queue

        self._reads += 1
        n = self._reads
        self.run_db(queue.pending, done=lambda pairs: self._pairs_loaded(n, pairs))

    def _on_screen(self) -> tuple[Any, ...]:
        """What ``show`` draws from (the pair, the counts)."""
        return (self.current, len(self._todo()), len(self.pairs), self.decided)

    def _pairs_loaded(self, n: int, pairs: list[dict[str, Any]]) -> None:
        if n != self._reads:  # a later read, started after a later decision, is on its way
            return
        before = self._on_screen()
        self.pairs = pairs
        if not self.loaded or self._on_screen() != before:  # no redraw (scroll kept) otherwise
            self.loaded = True
            self.show()

    def _settle(self, pid: Any, survivor: int | None) -> None:
        """What a committed decision changed, applied to the list at once: the pair leaves; after
        a merge the absorbed work's records belong to the survivor, so the pairs now inside one
        work leave too (as ``queue.pending`` will say)."""
        pair = next((p for p in self.pairs if p["id"] == pid), None)
        absorbed = {pair["work_a"], pair["work_b"]} - {survivor} if pair and survivor else set()
        moved = [
            {**p, **{f"work_{s}": survivor for s in "ab" if p[f"work_{s}"] in absorbed}}
            for p in self.pairs
        ]
        self.pairs = [p for p in moved if p["id"] != pid and p["work_a"] != p["work_b"]]

    def _abstract(self, work_id: int) -> str | None:
        """The work's abstract: READING while a worker reads it (asked once; the pair is shown
        again when it arrives)."""
        if work_id not in self.abstracts:
            self.abstracts[work_id] = READING
            era = self.abstract_era

            def read(ws: Any) -> tuple[int, str | None]:
                try:
                    return work_id, actions.get_work(ws, work_id).get("abstract")
                except ReviewError:
                    return work_id, None

            self.run_db(read, done=lambda got: self._abstract_read(era, got))
        return self.abstracts[work_id]

    def _abstract_read(self, era: int, got: tuple[int, str | None]) -> None:
        if era != self.abstract_era:  # read before a merge cleared the cache: asked again
            return
        self.abstracts[got[0]] = got[1]
        pair = self.current
        if pair is not None and got[0] in (pair["work_a"], pair["work_b"]):
            self.show()

    def show(self) -> None:
        status = self.query_one("#pair-status", Static)
        pair = self.current
        sides = (self.query_one("#side-a", PairSide), self.query_one("#side-b", PairSide))
        if pair is None:
            left = len(self.pairs)
            if not self.loaded:
                line = "Reading the pending pairs…"
            elif not left:
                line = "No pairs waiting for review."
            else:
                line = f"No more pairs this session ({left} skipped, still pending)."
            status.update(Text(line, style="bold"))
            for s in sides:
                s.set_text(Text(""))
            return
        n = len(self._todo())
        status.update(
            Text(
                f"pair {pair['id']} · score {pair['score']} · rule {pair['rule']} · {n} to review"
                f" · {self.decided} decided · y duplicate (merge) · n distinct · s skip · q quit"
            )
        )
        for side, widget in zip("ab", sides, strict=True):
            # the work's abstract is read only when the pair's record has none (side_text's fallback)
            fallback = (
                None if pair.get(f"abstract_{side}") else self._abstract(pair[f"work_{side}"])
            )
            widget.set_text(side_text(pair, side, fallback))

    def action_decide(self, duplicate: bool) -> None:
        from ...dedup import queue

        pair = self.current
        if pair is None:
            self.notify("no pair to decide", severity="warning")
            return
        pid, actor = pair["id"], self.actor
        state = self.write(
            lambda ws: queue.decide(ws, pid, duplicate, actor=actor),
            done=self._decided,
            what=f"pair {pid}",
            key=pid,
        )
        if state == "queued":  # saved later, in order; meanwhile the next pair
            self.show()

    def _decided(self, res: dict[str, Any]) -> None:
        """After the commit (at once, or when a queued decision is saved)."""
        self.decided += 1
        pid = res.get("candidate")
        if res.get("work_id"):
            self.abstracts.clear()  # a merge may give the surviving work an abstract
            self.abstract_era += 1  # reads in flight from before the merge are dropped
            self.notify(f"pair {pid}: merged into work #{res['work_id']}")
        else:
            self.notify(f"pair {pid}: distinct")
        self._settle(pid, res.get("work_id"))
        self.show()
        self.reload()

    def _queue_empty(self) -> None:
        super()._queue_empty()
        if self.is_running:  # a queued decision that failed (shown) brings its pair back
            self.show()

    def action_skip(self) -> None:
        pair = self.current
        if pair is not None:
            self.skipped.add(pair["id"])
            self.show()
