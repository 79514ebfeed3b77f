"""Widgets of the screening app, grouped by area: the record, the criteria, prompts (the progress
panel, which owns its workers, lives in ``progress.py`` and is re-exported here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...protocol import Protocol
from ..highlight import keyword_spans
from .progress import ProgressPanel

__all__ = [
    "CriteriaPanel", "ProgressPanel", "PromptScreen", "ReasonScreen", "RecordView",
    "SearchResults", "ask_reason", "highlighted",
]  # fmt: skip


def highlighted(
    text: str, include: tuple[str, ...], exclude: tuple[str, ...], styles: dict[str, Any]
) -> Text:
    """``text`` as rich Text with include / exclude keyword spans styled."""
    out = Text(text)
    for span in keyword_spans(text, include, exclude):
        out.stylize(styles[span.kind], span.start, span.end)
    return out


class RecordView(VerticalScroll, can_focus=False):
    """One record: header (title, authors, year, venue, sources) and a scrollable body."""

    COMPONENT_CLASSES = {"record--include", "record--exclude", "record--page"}

    def compose(self) -> ComposeResult:
        yield Static(id="record-header")
        yield Static(id="record-body")

    def _styles(self) -> dict[str, Any]:
        return {
            "include": self.get_component_rich_style("record--include"),
            "exclude": self.get_component_rich_style("record--exclude"),
            "page": self.get_component_rich_style("record--page"),
        }

    def show(
        self,
        work: dict[str, Any] | None,
        proto: Protocol | None,
        *,
        status: str = "",
        pages: list[dict[str, Any]] | None = None,
        full_text: bool = False,
    ) -> None:
        header = self.query_one("#record-header", Static)
        body = self.query_one("#record-body", Static)
        if work is None:
            self.message(
                "Nothing left to screen at this stage.",
                "Press ← to revisit your decisions, / to search, q to quit.",
            )
            return
        inc = proto.include_keywords if proto else ()
        exc = proto.exclude_keywords if proto else ()
        styles = self._styles()
        head = Text()
        head.append_text(highlighted(work.get("title") or "(no title)", inc, exc, styles))
        head.stylize("bold")
        authors = work.get("authors") or []
        auth = "; ".join(authors[:8]) + (f" … (+{len(authors) - 8})" if len(authors) > 8 else "")
        meta = " · ".join(
            str(x)
            for x in (auth or "(no authors)", work.get("year") or "n.d.", work.get("venue"))
            if x
        )
        head.append(f"\n{meta}")
        head.append(f"\nwork #{work['id']}  sources: {', '.join(work.get('sources') or []) or '-'}")
        if work.get("doi"):
            head.append(f"  doi: {work['doi']}")
        if work.get("tags"):
            head.append(f"\ntags: {', '.join(work['tags'])}")
        notes = work.get("notes") or []
        if notes:
            last = notes[-1]["text"]
            head.append(f"\nnotes ({len(notes)}): {last[:100]}{'…' if len(last) > 100 else ''}")
        if status:
            head.append(f"\n{status}", style="italic")
        header.update(head)
        if full_text:
            body.update(self._pages_text(pages or [], work, inc, exc, styles))
        else:
            abstract = work.get("abstract") or "(no abstract)"
            body.update(highlighted(abstract, inc, exc, styles))
        self.scroll_home(animate=False)

    def message(self, title: str, text: str = "") -> None:
        """No record: a bold line and a hint (end of a queue, nothing to resolve)."""
        self.query_one("#record-header", Static).update(Text(title, style="bold"))
        self.query_one("#record-body", Static).update(Text(text))

    def _pages_text(
        self, pages: list[dict[str, Any]], work: dict[str, Any], inc: Any, exc: Any, styles: Any
    ) -> Text:
        out = Text()
        if not pages:
            out.append(
                f"No full text yet (retrieval: {work.get('retrieval') or 'not attempted'}). "
                "Press a to attach a PDF or r to mark it not retrieved.\n\n",
                style="italic",
            )
            out.append_text(highlighted(work.get("abstract") or "(no abstract)", inc, exc, styles))
            return out
        out.append(f"{pages[0]['name'] or pages[0]['kind']}\n", style="italic")
        for p in pages:
            if p["page"] is not None:
                out.append(f"\n── page {p['page']} ──\n", style=styles["page"])
            out.append_text(highlighted(p["text"], inc, exc, styles))
        return out

    @property
    def body_text(self) -> Text:
        """The rich Text currently shown as abstract / full text (tests read its spans)."""
        content = self.query_one("#record-body", Static).content
        return content if isinstance(content, Text) else Text(str(content))

    @property
    def header_text(self) -> Text:
        content = self.query_one("#record-header", Static).content
        return content if isinstance(content, Text) else Text(str(content))


class CriteriaPanel(Static):
    """The protocol's criteria, always visible; exclusion reasons numbered for keys 1–9."""

    def set_protocol(self, proto: Protocol | None) -> None:
        if proto is None:
            self.update("No protocol in this workspace.")
            return
        t = Text()
        t.append("Include if\n", style="bold")
        for c in proto.inclusion:
            t.append(f" {c.code} ", style="bold green")
            t.append(f"{c.text}\n")
        t.append("\nExclude (e then number)\n", style="bold")
        for i, c in enumerate(proto.exclusion[:9], start=1):
            t.append(f" {i} {c.code} ", style="bold red")
            t.append(f"{c.text}\n")
        self.update(t)


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (note, tag, search query, PDF path). Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.placeholder = title, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text)
            yield Input(placeholder=self.placeholder, id="prompt-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReasonScreen(ModalScreen[str | None]):
    """Pick the exclusion reason with 1–9 (required); Escape cancels the exclusion."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        *(Binding(str(i), f"pick({i})", show=False) for i in range(1, 10)),
    ]

    def __init__(self, proto: Protocol) -> None:
        super().__init__()
        self.codes = [c.code for c in proto.exclusion[:9]]
        self.texts = [c.text for c in proto.exclusion[:9]]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Exclude: press the number of the reason (Esc cancels)")
            for i, (code, text) in enumerate(zip(self.codes, self.texts, strict=True), start=1):
                yield Label(f"{i}  {code}  {text}")

    def action_pick(self, i: int) -> None:
        if 1 <= i <= len(self.codes):
            self.dismiss(self.codes[i - 1])
        else:
            self.notify(f"no exclusion reason {i}", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)


class SearchResults(ModalScreen[int | None]):
    """FTS5 search hits; Enter opens one."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, query: str, hits: list[dict[str, Any]]) -> None:
        super().__init__()
        self.query_text, self.hits = query, hits

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"{len(self.hits)} works match {self.query_text!r}")
            yield OptionList(
                *[
                    Option(
                        f"#{h['id']}  {h['year'] or 'n.d.'}  {h['title'] or '(no title)'}",
                        id=str(h["id"]),
                    )
                    for h in self.hits
                ],
                id="search-hits",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0) or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_reason(owner: Any, proto: Any, then: Callable[[str], None]) -> None:
    """Exclude flow shared by the screening and conflict views: pick one of the protocol's
    reasons in a ReasonScreen, then call ``then(code)``; Escape cancels."""
    if proto is None or not proto.exclusion:
        owner.notify("the protocol has no exclusion reasons", severity="error")
        return

    def picked(code: str | None) -> None:
        if code:
            then(code)

    owner.push_screen(ReasonScreen(proto), picked)
