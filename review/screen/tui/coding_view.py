"""The coding app's widgets (``review code``): the work's text with evidence highlighted, and the
codebook form. They only draw what ``coding.py`` hands them; the form's state lives in
``review.coding.form`` (no textual there) and every database read runs in the app's workers.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...coding import form as coding_form
from ...coding.text import Sentence

TEXT_LIMIT = 30_000  # characters of full text shown (the evidence is always shown)


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
