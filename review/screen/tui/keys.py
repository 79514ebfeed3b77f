"""Keys and actions of the screening app: Binding ids are the names used in the protocol's [keys].

Rebind in the protocol, e.g. ``[keys]`` ``include = "y"``, ``exclude = "x"``; ``ACTIONS`` is what
the command palette lists (action, title, help).
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

BINDINGS: list[BindingType] = [
    Binding("i", "include", "Include", id="include"),
    Binding("e", "exclude", "Exclude", id="exclude"),
    Binding("m", "maybe", "Maybe", id="maybe"),
    Binding("n", "note", "Note", id="note"),
    Binding("t", "tag", "Tag", id="tag"),
    Binding("c", "countries", "Countries", id="countries"),
    Binding("u", "undo", "Undo", id="undo"),
    Binding("left,k", "previous", "Back", id="previous"),
    Binding("right,j", "forward", "Next", id="forward"),
    Binding("slash", "search", "Search", id="search"),
    Binding("a", "attach", "Attach PDF", id="attach"),
    Binding("r", "not_retrieved", "Not retrieved", id="not_retrieved"),
    Binding("question_mark", "help", "Help", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
    Binding("down", "scroll(1)", "Scroll down", show=False),
    Binding("up", "scroll(-1)", "Scroll up", show=False),
    Binding("pagedown,space", "scroll(20)", "Page down", show=False),
    Binding("pageup", "scroll(-20)", "Page up", show=False),
]
ACTIONS: list[tuple[str, str, str]] = [
    ("include", "Include", "Include this record"),
    ("exclude", "Exclude…", "Exclude, then pick the protocol's reason with 1-9"),
    ("maybe", "Maybe", "Undecided: keep for discussion / the next stage"),
    ("note", "Add note", "Attach a note to this record"),
    ("tag", "Add tag", "Tag this record"),
    ("countries", "Fix countries", "Study countries: +ZA adds, -ZA removes, a name adds"),
    ("undo", "Undo last decision", "Append a row restoring the previous value"),
    ("previous", "Previous screened record", "Move back through what you screened"),
    ("forward", "Next record", "Move forward towards the next unscreened record"),
    ("search", "Search works", "Full-text search (FTS5) over titles and abstracts"),
    ("attach", "Attach PDF", "Full-text stage: store a PDF for this record"),
    (
        "not_retrieved",
        "Mark not retrieved",
        "Full-text stage: the report could not be obtained",
    ),
    ("help", "Toggle help", "Show the keys"),
    ("quit", "Quit", "Everything is already saved"),
]
