"""The coding app (``review code``): the work's text on the left, the codebook form on the right.

Built on ``ReviewApp`` (base.py): layout, bindings with ids, help, error display and queued writes.
The form's state lives in ``review.coding.form`` (no textual there); the widgets that show it are
in ``coding_view.py``. Suggested codes are pre-ticked and marked "suggested" with their score, and
their evidence sentences are highlighted in the text. Every toggle is written at once as a draft
row of the append-only coding log (a crash loses nothing); Enter confirms every field of the work
and moves to the next work not yet confirmed; ``u`` undoes the app's latest change (another row).

Reads off the UI thread (base.py's ``run_db`` workers): at start the works the reviewer has
confirmed (and, resolving, the conflicts); for each work shown its codes and suggestions, then its
text (every sentence of its attached PDFs and pages); the history (``h``). A key that needs the
shown work's codes, pressed while they are being read, waits for them and runs in order
(``kept_while_reading``: no key is lost, none acts on the work before). The confirmed works are a
set kept in memory (local changes at once; re-read by a worker after each confirm and undo), so
Enter finds the next work to code without one query per work it skips.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget

from ...coding import CodingError, store
from ...coding import form as coding_form
from ...coding.codebook import CodingField
from ...coding.scope import select
from ...coding.text import sentences
from ...errors import ReviewError
from ...store import Workspace, default_reviewer
from .base import BASE_BINDINGS, ReviewApp
from .coding_view import TEXT_LIMIT, CodingForm, TextPane, body
from .widgets import PromptScreen

__all__ = ["TEXT_LIMIT", "CodingApp", "CodingForm", "TextPane", "body"]

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


def read_work(
    ws: Workspace, wid: int, reviewer: str, fields: tuple[CodingField, ...]
) -> tuple[dict[str, Any] | None, list[coding_form.FieldState]]:
    """(the work's title, year and venue, the form's state): a worker's few indexed reads."""
    row = ws.db.execute("SELECT id, title, year, venue FROM works WHERE id = ?", [wid]).fetchone()
    info = dict(zip(("id", "title", "year", "venue"), row, strict=True)) if row else None
    return info, coding_form.load(ws, wid, reviewer, fields)


def kept_while_reading(action: Callable[..., None]) -> Callable[..., None]:
    """A key's action that needs the shown work's codes: pressed while they are being read, it
    is kept and runs, in order, once they arrive."""

    @wraps(action)
    def run(app: CodingApp, *args: Any) -> None:
        if app.reading:
            app.kept.append(lambda: run(app, *args))
        else:
            action(app, *args)

    return run


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
        self.field = field
        self.works: list[int] = []  # the scope's works once the start-up read arrives
        self.skip: set[int] = set()
        self._stamp = 0  # counts this app's changes: a worker's older view of the log is dropped
        self.pos = 0
        self.states: list[coding_form.FieldState] = []
        self.current_field = 0
        self.changes: list[int] = []  # log rows this session wrote (undo stack)
        self.confirmed_count = 0
        self.resolving = conflicts
        self.conflict_codes: dict[tuple[int, str], dict[str, Any]] = {}
        self._reads = 0  # reads of a work's codes started; only the latest one is shown
        self.reading = True  # a read of the codes is on its way: keys wait (``kept``)
        self.kept: list[Callable[[], None]] = []
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
        self.query_one(TextPane).show_body(Text("reading your progress…", style="dim"))
        who, field, resolving = self.reviewer, self.field, self.resolving

        def start(ws: Workspace) -> tuple[set[int], set[int], list[dict[str, Any]]]:
            done, every = store.reviewer_progress(ws, who)
            return done, every, store.conflicts(ws, field) if resolving else []

        self.run_db(start, done=self._started, errors_to_done=True)

    def _started(self, got: tuple[set[int], set[int], list[dict[str, Any]]] | ReviewError) -> None:
        if isinstance(got, ReviewError):  # reported by run_db: start with nothing read
            got = (set(), set(), [])
        done, self.skip, rows = got
        self.works = list(self.scope.work_ids)
        self.pos = next((i for i, w in enumerate(self.works) if w not in done), 0)
        self.confirmed_count = len(done & set(self.works))
        if self.resolving:  # the works whose coders disagree; the reviewer resolves them
            self.conflict_codes = {(c["work_id"], c["field"]): c["codes"] for c in rows}
            self.works = sorted({c["work_id"] for c in rows})
            self.pos = 0
        self.show_work()

    @property
    def work_id(self) -> int | None:
        return self.works[self.pos] if 0 <= self.pos < len(self.works) else None

    # -- showing --------------------------------------------------------------------------------
    def show_work(self) -> None:
        """Show the current work: its codes and suggestions from a worker (keys wait for them),
        then its text from another."""
        wid = self.work_id
        self._reads += 1
        if wid is None:
            self.states, self.reading = [], False
            self.query_one(TextPane).show(None, Text("The scope holds no works."))
            self.query_one(CodingForm).update("")
            self._run_kept()
            return
        n, who, fields = self._reads, self.reviewer, self.fields
        self.reading = True
        self.run_db(
            lambda ws: read_work(ws, wid, who, fields),
            done=lambda got: self._work_read(n, wid, got),
            errors_to_done=True,  # the keys wait on this read: an error must end the wait too
        )

    def _work_read(self, n: int, wid: int, got: Any) -> None:
        if n != self._reads:  # the reviewer has moved on: a later read is on its way
            return
        if isinstance(got, ReviewError):  # reported by run_db: an empty form
            got = (None, [])
        info, self.states = got
        for st in self.states:
            codes = self.conflict_codes.get((wid, st.field.name))
            if codes:
                st.others = codes
                if st.source in ("empty", "suggested"):
                    st.value, st.source = coding_form.agreed(list(codes.values())), "conflict"
        self.current_field = max(0, min(self.current_field, len(self.states) - 1))
        self.query_one(TextPane).show(info, Text("reading the text…", style="dim"))
        self.refresh_form()
        ev = self.evidence()
        self.run_db(
            lambda ws: body(sentences(ws, [wid]).get(wid, []), ev),
            done=lambda text: self._show_body(wid, text),
        )
        self.reading = False
        self._run_kept()

    def _run_kept(self) -> None:
        """The keys pressed while the codes were read, in order (until one starts a new read;
        keys after an ``e`` were typed for its prompt, which was not open yet: dropped)."""
        while self.kept and not self.reading:
            screens = len(self.screen_stack)
            self.kept.pop(0)()
            if len(self.screen_stack) > screens:  # this key opened a prompt (e): the rest
                self.kept.clear()  # were typed for it

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

    @kept_while_reading
    def action_tick(self, n: int) -> None:
        if not self.states:
            return
        st = self.states[self.current_field]
        if not st.field.choice or n > len(st.field.codes):
            return
        self._save(st, st.toggle(st.field.codes[n - 1]), "draft")
        self.refresh_form()

    @kept_while_reading
    def action_field(self, step: int) -> None:
        if self.states:
            self.current_field = (self.current_field + step) % len(self.states)
            self.refresh_form()

    @kept_while_reading
    def action_confirm(self) -> None:
        wid = self.work_id
        if wid is None or not self.states:  # no work, or its codes could not be read
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

    @kept_while_reading
    def action_move(self, step: int) -> None:
        if self.works:
            self.pos = max(0, min(len(self.works) - 1, self.pos + step))
            self.show_work()

    @kept_while_reading
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

    @kept_while_reading
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

    @kept_while_reading
    def action_history(self) -> None:
        wid = self.work_id
        if wid is None:
            return

        def shown(rows: list[store.Code]) -> None:
            lines = [
                f"{r.created_at[11:19]} {r.reviewer} {r.field} {r.status}: {r.value}" for r in rows
            ]
            self.notify(
                "\n".join(lines) or "no codes yet for this work", title="History", timeout=10
            )

        self.run_db(lambda ws: store.history(ws, wid)[-12:], done=shown)
