"""The coding app (``review code``): the work's text on the left, the codebook form on the right.

Built on ``ReviewApp`` (base.py): layout, bindings with ids, help, error display and queued writes.
The form's state lives in ``review.coding.form`` (no textual there); this module only shows it.
Suggested codes are pre-ticked and marked "suggested" with their score, and their evidence
sentences are highlighted in the text. Every toggle is written at once as a draft row of the
append-only coding log (a crash loses nothing); Enter confirms every field of the work and moves
to the next work not yet confirmed; ``u`` undoes the app's latest change (another log row).

Database work off the UI thread (base.py's ``run_db`` workers): a work's text (every sentence of
its attached PDFs and pages) is read and laid out by a worker while the form, from a few indexed
reads, shows at once; the works the reviewer has confirmed are a set kept in memory (local
changes at once; re-read from the log by a worker after each confirm and undo), so Enter finds the
next work to code without one query per work it skips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from ...coding import CodingError, store
from ...coding import form as coding_form
from ...coding.scope import select
from ...coding.text import Sentence, sentences
from ...store import default_reviewer
from .base import BASE_BINDINGS, ReviewApp
from .widgets import PromptScreen

TEXT_LIMIT = 30_000  # characters of full text shown (the evidence is always shown)

BINDINGS: list[BindingType] = [
    *(
        Binding(str(i), f"tick({i})", f"Toggle {i}", show=False, id=f"toggle_{i}")
        for i in range(1, 10)
    ),
    Binding("enter", "confirm", "Confirm", id="confirm"),
    Binding("tab", "field(1)", "Next field", id="next_field", priority=True),
    Binding("shift+tab", "field(-1)", "Previous field", id="previous_field", priority=True),
    Binding("e", "edit", "Edit text", id="edit"),
    Binding("u", "undo", "Undo", id="undo"),
    Binding("h", "history", "History", id="history"),
    Binding("right,j", "move(1)", "Next work", id="forward"),
    Binding("left,k", "move(-1)", "Previous work", id="previous"),
    *BASE_BINDINGS,
]


class TextPane(VerticalScroll, can_focus=False):
    """The work: title and meta, then abstract and full text with evidence highlighted."""

    DEFAULT_CSS = """
    TextPane { width: 2fr; height: 1fr; padding: 0 1; border: round $primary; }
    #text-header { padding-bottom: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="text-header")
        yield Static(id="text-body")

    def show(self, work: dict[str, Any] | None, body: Text) -> None:
        head = self.query_one("#text-header", Static)
        if work is None:
            head.update(Text("Nothing to code here.", style="bold"))
            self.query_one("#text-body", Static).update(body)
            return
        t = Text(work.get("title") or "(no title)", style="bold")
        meta = [f"work #{work['id']}", str(work.get("year") or "n.d."), work.get("venue") or ""]
        t.append("\n" + " · ".join(m for m in meta if m))
        head.update(t)
        self.show_body(body)

    def show_body(self, body: Text) -> None:
        self.query_one("#text-body", Static).update(body)
        self.scroll_home(animate=False)


class CodingForm(Static):
    """The codebook: one block per field; the current field is marked with ▶."""

    DEFAULT_CSS = """
    CodingForm { width: 1fr; height: 1fr; padding: 0 1; border: round $secondary; overflow-y: auto; }
    """

    def render_form(self, states: list[coding_form.FieldState], current: int, status: str) -> Text:
        t = Text()
        t.append(status + "\n\n", style="bold")
        for i, st in enumerate(states):
            f = st.field
            mark = "▶ " if i == current else "  "
            t.append(f"{mark}{f.label}", style="bold reverse" if i == current else "bold")
            tag = {
                "suggested": " (suggested)",
                "draft": " (draft)",
                "confirmed": " ✓ confirmed",
                "conflict": " (coders disagree: their common codes are ticked)",
            }
            label = tag.get(st.source, "")
            if st.source == "suggested" and st.suggestions:
                row = next(iter(st.suggestions.values()))
                label = f" (suggested: {row.get('method', 'machine')}, run {row.get('run_id')})"
            t.append(label + "\n", style="italic")
            if st.others:
                coders = " · ".join(
                    f"{who}: {', '.join(v) if isinstance(v, list) else v}"
                    for who, v in st.others.items()
                )
                t.append(f"   {coders}\n", style="magenta")
            if f.choice:
                for n, code in enumerate(f.codes, start=1):
                    on = code in (st.value or [])
                    s = st.suggestions.get(code)
                    box = "[x]" if on else "[ ]"
                    line = Text(f"   {n} {box} {code}")
                    if s is not None:
                        hint = (
                            f"  suggested {s['score']:.2f}"
                            if s["suggested"]
                            else f"  {s['score']:.2f}"
                        )
                        line.append(hint, style="italic yellow" if s["suggested"] else "dim")
                    if on:
                        line.stylize("bold green", 3, 3 + len(f"{n} {box} {code}") + 1)
                    t.append_text(line)
                    t.append("\n")
            else:
                t.append(f"   {st.display()}", style="green" if st.value else "dim")
                t.append("   (e to edit)\n" if i == current else "\n", style="dim")
            t.append("\n")
        return t


def body(sents: list[Sentence], ev: dict[str, str]) -> Text:
    """The text pane's body: abstract and full text by place, evidence sentences highlighted and
    marked with their options (``ev``: sentence -> options); at most TEXT_LIMIT characters of
    the rest. Pure: built in a worker."""
    t = Text()
    shown = 0
    where = None
    for s in sents[1:] if sents and sents[0].where == "title" else sents:
        if s.place != where:
            t.append(f"\n[{s.place}]\n", style="bold cyan")
            where = s.place
        if s.text in ev:
            t.append(s.text, style="bold black on yellow")
            t.append(f"  ◀ {ev[s.text]}", style="bold yellow")
        elif shown < TEXT_LIMIT:
            t.append(s.text)
        else:
            continue
        shown += len(s.text)
        t.append(" ")
    if not sents:
        t.append("(no abstract or full text: code from the title)", style="dim")
    return t


class CodingApp(ReviewApp):
    """``CodingApp(db_path, reviewer, stage, field)``: code the works in scope one by one."""

    TITLE = "review code"
    HELP = (
        "Suggested codes are pre-ticked and marked 'suggested' (score); their evidence is "
        "highlighted in the text. 1-9 toggle options, tab moves between fields, e edits a text "
        "or country field, Enter confirms the work, u undoes, ←/→ move between works."
    )
    BINDINGS: ClassVar[list[BindingType]] = BINDINGS

    def __init__(
        self,
        db_path: str | Path,
        reviewer: str | None = None,
        stage: str | None = None,
        field: str | None = None,
        conflicts: bool = False,
    ) -> None:
        super().__init__(db_path)
        self.reviewer = reviewer or default_reviewer()
        proto = self.ws.require_protocol()
        self.fields = tuple(f for f in proto.codebook if field is None or f.name == field)
        if not proto.codebook:
            raise CodingError(
                "the protocol has no codebook; add [[coding.fields]] (README: Coding)",
                path=proto.path,
            )
        if not self.fields:
            store.require_field(proto, field or "")
        self.scope = select(self.ws, stage)
        self.works: list[int] = list(self.scope.work_ids)
        done, self.skip = store.reviewer_progress(self.ws, self.reviewer)
        self._stamp = 0  # counts this app's changes: a worker's older view of the log is dropped
        self.pos = next((i for i, w in enumerate(self.works) if w not in done), 0)
        self.states: list[coding_form.FieldState] = []
        self.current_field = 0
        self.changes: list[int] = []  # log rows this session wrote (undo stack)
        self.confirmed_count = len(done & set(self.works))
        self.resolving = conflicts
        self.conflict_codes: dict[tuple[int, str], dict[str, Any]] = {}
        if conflicts:  # the works whose coders disagree; the reviewer resolves them
            rows = store.conflicts(self.ws, field)
            self.conflict_codes = {(c["work_id"], c["field"]): c["codes"] for c in rows}
            self.works = sorted({c["work_id"] for c in rows})
            self.pos = 0
        what = "resolving conflicts" if conflicts else self.scope.description
        self.sub_title = f"{self.reviewer} · {what}"
        if self.proto is not None:
            self.use_keys(self.proto.keys)

    # -- layout ---------------------------------------------------------------------------------
    def compose_main(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield TextPane(id="text")
            yield CodingForm(id="form")

    def scroll_target(self) -> Widget | None:
        return self.query_one(TextPane)

    def on_mount(self) -> None:
        self.show_work()

    @property
    def work_id(self) -> int | None:
        return self.works[self.pos] if 0 <= self.pos < len(self.works) else None

    # -- showing --------------------------------------------------------------------------------
    def show_work(self) -> None:
        wid = self.work_id
        if wid is None:
            self.query_one(TextPane).show(None, Text("The scope holds no works."))
            self.query_one(CodingForm).update("")
            return
        self.states = coding_form.load(self.ws, wid, self.reviewer, self.fields)
        for st in self.states:
            codes = self.conflict_codes.get((wid, st.field.name))
            if codes:
                st.others = codes
                if st.source in ("empty", "suggested"):
                    st.value, st.source = coding_form.agreed(list(codes.values())), "conflict"
        self.current_field = min(self.current_field, len(self.states) - 1)
        work = self.ws.db.execute(
            "SELECT id, title, year, venue FROM works WHERE id = ?", [wid]
        ).fetchone()
        info = dict(zip(("id", "title", "year", "venue"), work, strict=True)) if work else None
        self.query_one(TextPane).show(info, Text("reading the text…", style="dim"))
        self.refresh_form()
        ev = self.evidence()
        self.run_db(
            lambda ws: body(sentences(ws, [wid]).get(wid, []), ev),
            done=lambda text: self._show_body(wid, text),
        )

    def _show_body(self, wid: int, text: Text) -> None:
        if wid == self.work_id:  # the reviewer may have moved on while it was read
            self.query_one(TextPane).show_body(text)

    def evidence(self) -> dict[str, str]:
        """{sentence: option} for the suggested yes options of choice fields."""
        out: dict[str, str] = {}
        for st in self.states:
            for code, row in st.suggestions.items():
                if row["suggested"] and st.field.choice and row["evidence"]:
                    q = coding_form.quote(row["evidence"])
                    out[q] = f"{out[q]}, {code}" if q in out else code
        return out

    def refresh_form(self) -> None:
        n = len(self.works)
        status = f"work {self.pos + 1} of {n} · {self.confirmed_count} confirmed by {self.reviewer}"
        form = self.query_one(CodingForm)
        form.update(form.render_form(self.states, self.current_field, status))

    # -- actions --------------------------------------------------------------------------------
    def _save(self, st: coding_form.FieldState, value: Any, status: str) -> None:
        wid = self.work_id
        assert wid is not None

        def fn(ws: Any) -> int:
            origin = "resolution" if self.resolving and status == "confirmed" else "tui"
            return store.record(
                ws, wid, st.field.name, self.reviewer, value, status, origin, st.run_id,
                self.scope.stage, proto=self.proto,
            )  # fmt: skip

        def done(row_id: int) -> None:
            self.changes.append(row_id)

        self._stamp += 1
        if status != "confirmed":
            self.skip.discard(wid)
        self.write(fn, done=done, what="code", key=wid)
        st.value, st.source = value, status

    def action_tick(self, n: int) -> None:
        if not self.states:
            return
        st = self.states[self.current_field]
        if not st.field.choice or n > len(st.field.codes):
            return
        self._save(st, st.toggle(st.field.codes[n - 1]), "draft")
        self.refresh_form()

    def action_field(self, step: int) -> None:
        if self.states:
            self.current_field = (self.current_field + step) % len(self.states)
            self.refresh_form()

    def action_confirm(self) -> None:
        wid = self.work_id
        if wid is None:
            return
        was = all(st.source == "confirmed" for st in self.states)
        for st in self.states:
            if self.resolving and not st.others:
                continue  # resolving: only the fields in conflict
            value = st.value if st.value is not None or not st.field.choice else []
            if st.field.choice or value is not None:
                self._save(st, value, "confirmed")
        if not was:
            self.confirmed_count += 1
        self.skip.add(wid)
        self._reread_progress()
        self.notify(f"work #{wid} confirmed", timeout=2)
        nxt = next(
            (i for i in range(self.pos + 1, len(self.works)) if not self._is_confirmed(i)), None
        )
        if nxt is None:
            self.notify("every work in scope is confirmed: q quits, ←/→ revisit", timeout=5)
            self.refresh_form()
            return
        self.pos = nxt
        self.show_work()

    def _is_confirmed(self, i: int) -> bool:
        """Every current code of the reviewer for work i is confirmed (no database read)."""
        return not self.resolving and self.works[i] in self.skip

    def _reread_progress(self) -> None:
        """Re-read which works the reviewer confirmed (another process may have confirmed some)
        in a worker; its answer is dropped if this app changed a code since it was asked."""
        stamp, who = self._stamp, self.reviewer

        def got(progress: tuple[set[int], set[int]]) -> None:
            if stamp == self._stamp and not self.writes_pending:
                self.skip = progress[1]

        self.run_db(lambda ws: store.reviewer_progress(ws, who), done=got)

    def action_move(self, step: int) -> None:
        if self.works:
            self.pos = max(0, min(len(self.works) - 1, self.pos + step))
            self.show_work()

    def action_edit(self) -> None:
        if not self.states:
            return
        st = self.states[self.current_field]
        if st.field.choice:
            self.notify("press 1-9 to toggle the options of this field")
            return
        hint = {"countries": "ISO codes or names, comma separated (empty clears)"}
        prompt = PromptScreen(f"{st.field.label}", hint.get(st.field.kind, st.display()))

        def got(text: str | None) -> None:
            if text is None:
                return
            value: Any = [x.strip() for x in text.split(",") if x.strip()]
            if st.field.kind != "countries":
                value = text
            self._save(st, value, "draft")
            self.refresh_form()

        self.push_screen(prompt, got)

    def action_undo(self) -> None:
        if not self.changes:
            self.notify("nothing to undo in this session")
            return
        row_id = self.changes.pop()
        self._stamp += 1

        def undone(_: Any) -> None:
            self.show_work()
            self._reread_progress()

        self.write(lambda ws: store.undo(ws, row_id), done=undone, what="undo")

    def action_history(self) -> None:
        wid = self.work_id
        if wid is None:
            return
        rows = store.history(self.ws, wid)[-12:]
        lines = [
            f"{r.created_at[11:19]} {r.reviewer} {r.field} {r.status}: {r.value}" for r in rows
        ]
        self.notify("\n".join(lines) or "no codes yet for this work", title="History", timeout=10)
