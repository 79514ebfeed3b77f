"""The conflict view (``review screen --conflicts``): resolve works where reviewers disagree.

One conflict at a time: the record (keywords highlighted as in the screening app), every
reviewer's decision, reason and note side by side, and the criteria. ``i`` / ``e`` + 1-9 / ``m``
record the resolver's decision (origin 'resolution', via ``review.share.agreement.resolve``) and
move to the next conflict. Blind screening does not apply here: the resolver must see every
decision to settle it. The open conflicts (a whole-stage query) are read in the base app's
``run_db`` worker: at start and after each resolution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from ...protocol import Protocol
from .. import actions
from ..queue import check_stage, stages_of
from .base import ReviewApp
from .widgets import CriteriaPanel, PromptScreen, RecordView, ask_reason

BLIND_NOTE = (
    "Blind mode does not apply in this view: the resolver sees every reviewer's decision "
    "(resolving needs them)."
)
STYLE = {"include": "bold green", "maybe": "bold yellow", "exclude": "bold red"}

BINDINGS: list[BindingType] = [
    Binding("i", "resolve('include')", "Include", id="include"),
    Binding("e", "exclude", "Exclude", id="exclude"),
    Binding("m", "resolve('maybe')", "Maybe", id="maybe"),
    Binding("n", "note", "Note", id="note"),
    Binding("right,j", "move(1)", "Skip", id="forward"),
    Binding("left,k", "move(-1)", "Back", id="previous"),
]  # + help, quit and scrolling from the base app


def decisions_table(decisions: dict[str, dict[str, Any]], proto: Protocol | None) -> Table:
    """One column per reviewer: decision, reason (code and text), note."""
    table = Table(expand=True, show_lines=False, title="Reviewers' decisions", title_justify="left")
    for reviewer in decisions:
        table.add_column(reviewer, ratio=1, overflow="fold")
    cells = [d["decision"] for d in decisions.values()]
    table.add_row(*[Text(c, style=STYLE.get(c, "")) for c in cells])
    reasons = []
    for d in decisions.values():
        code = d.get("reason")
        crit = proto.reason(code) if proto is not None and code else None
        reasons.append(f"{code} {crit.text}" if crit is not None else (code or ""))
    if any(reasons):
        table.add_row(*reasons)
    notes = [d.get("note") or "" for d in decisions.values()]
    if any(notes):
        table.add_row(*[Text(n, style="italic") for n in notes])
    return table


def decisions_plain(decisions: dict[str, dict[str, Any]]) -> str:
    """The same content as one line per reviewer (tests and logs)."""
    return "\n".join(
        f"{r}: {d['decision']}"
        + (f" {d['reason']}" if d.get("reason") else "")
        + (f" — {d['note']}" if d.get("note") else "")
        for r, d in decisions.items()
    )


class DecisionsPanel(Static):
    """Every reviewer's decision side by side, and the blind-mode note."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.plain = ""

    def set_decisions(self, decisions: dict[str, dict[str, Any]], proto: Protocol | None) -> None:
        from rich.console import Group

        self.plain = decisions_plain(decisions)
        self.update(Group(decisions_table(decisions, proto), Text(BLIND_NOTE, style="dim italic")))

    def clear(self) -> None:
        self.plain = ""
        self.update(Text(BLIND_NOTE, style="dim italic"))


class ConflictApp(ReviewApp):
    """``ConflictApp(db_path, stage, resolver)``: resolve disagreements one by one."""

    TITLE = "review screen --conflicts"
    HELP = BLIND_NOTE
    BINDINGS = BINDINGS

    def __init__(
        self, db_path: str | Path, stage: str | None = None, resolver: str | None = None
    ) -> None:
        from ...store import default_reviewer

        super().__init__(db_path)
        self.stage = check_stage(self.ws, stage or stages_of(self.ws)[0])
        self.resolver = resolver or default_reviewer()
        self.items: list[dict[str, Any]] = []
        self.index = 0
        self.note: str | None = None  # goes with the next resolution of the current work
        self.resolved = 0
        self.settled: set[int] = set()  # works resolved in this session
        self.loaded = False  # the first read of the open conflicts has arrived
        self.sub_title = f"{self.stage} · resolving as {self.resolver}"
        if self.proto and self.proto.keys:  # the screening app's rebinds, where the ids match
            self.use_keys(dict(self.proto.keys))

    def compose_main(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield RecordView(id="record")
                yield DecisionsPanel(id="decisions")
            yield CriteriaPanel(id="criteria")

    def scroll_target(self) -> Widget | None:
        return self.query_one(RecordView)

    def on_mount(self) -> None:
        self.query_one(CriteriaPanel).set_protocol(self.proto)
        self.show()  # "reading the open conflicts" until the worker's read arrives
        self.refresh_conflicts()

    @property
    def current(self) -> dict[str, Any] | None:
        return self.items[self.index] if self.items else None

    def refresh_conflicts(self) -> None:
        """Read the open conflicts off the UI thread (a whole-stage query): at start, and after
        each resolution (another resolver may have closed some, or new dual decisions opened
        others)."""
        from ...share.agreement import conflicts

        stage = self.stage
        self.run_db(lambda ws: conflicts(ws, stage), done=self._conflicts_loaded)

    def _conflicts_loaded(self, items: list[dict[str, Any]]) -> None:
        before = self.current["work_id"] if self.current else None
        shown = len(self.items)
        self.items = [i for i in items if i["work_id"] not in self.settled]
        ids = [i["work_id"] for i in self.items]
        self.index = ids.index(before) if before in ids else min(self.index, max(len(ids) - 1, 0))
        after = self.current["work_id"] if self.current else None
        if not self.loaded or after != before or len(self.items) != shown:
            self.loaded = True
            self.show()

    def _settle(self, wid: int) -> None:
        """The resolved work leaves the list at once; the same index is the next conflict."""
        self.settled.add(wid)
        self.items = [i for i in self.items if i["work_id"] != wid]
        self.index = min(self.index, max(len(self.items) - 1, 0))
        self.show()
        self.refresh_conflicts()

    def show(self) -> None:
        view = self.query_one(RecordView)
        panel = self.query_one(DecisionsPanel)
        item = self.current
        if item is None and not self.loaded:
            view.message("Reading the open conflicts…")
            panel.clear()
            return
        if item is None:
            view.message(
                "No conflicts",
                f"Every disagreement at {self.stage} is resolved"
                f" ({self.resolved} resolved in this session). Press q to quit.",
            )
            panel.clear()
            return
        status = f"conflict {self.index + 1} of {len(self.items)} · resolving as {self.resolver}"
        if self.note:
            status += f" · note: {self.note}"
        view.show(actions.get_work(self.ws, item["work_id"]), self.proto, status=status)
        panel.set_decisions(item["decisions"], self.proto)

    def _resolve(self, decision: str, reason: str | None = None) -> None:
        from ...share.agreement import resolve

        item = self.current
        if item is None:
            self.notify("no conflict to resolve", severity="warning")
            return
        wid, stage, resolver, note = item["work_id"], self.stage, self.resolver, self.note

        def saved(_: Any) -> None:
            self.resolved += 1
            self.notify(f"work #{wid}: {decision}{' ' + reason if reason else ''}")

        state = self.write(
            lambda ws: resolve(
                ws,
                work_id=wid,
                stage=stage,
                resolver=resolver,
                decision=decision,
                reason=reason,
                note=note,
            ),  # fmt: skip
            done=saved,
            what=f"resolution of work #{wid}",
            key=wid,
        )
        if state != "failed":  # saved, or queued behind another process's write lock
            self.note = None
            self._settle(wid)

    def action_resolve(self, decision: str) -> None:
        self._resolve(decision)

    def action_exclude(self) -> None:
        if self.current is None:
            return
        ask_reason(self, self.proto, lambda code: self._resolve("exclude", code))

    def action_note(self) -> None:
        if self.current is None:
            return

        def noted(value: str | None) -> None:
            if value:
                self.note = value
                self.show()

        self.push_screen(PromptScreen("Note stored with the resolution", "why"), noted)

    def action_move(self, step: int) -> None:
        if not self.items:
            return
        self.index = (self.index + step) % len(self.items)
        self.note = None
        self.show()
