"""Keys and actions of the screening app: Binding ids are the names used in ``[keys]`` tables.

Rebind in the protocol, e.g. ``[keys]`` ``include = "y"``, ``exclude = "x"``, or in your own
config file (``$REVIEW_CONFIG`` or ``~/.config/review/config.toml``, same ``[keys]`` table; see
:mod:`review.screen.config`). ``ACTIONS`` is what the command palette lists (action, title, help).

Precedence (:func:`keymap`): built-in defaults < the protocol's ``[keys]`` < the user's config.
Keys are a personal matter (keyboard layout, habits, accessibility) while the protocol is shared
by the whole team, so a reviewer's own config wins over the protocol for that reviewer only;
actions the user does not name keep the protocol's key. Unknown actions, malformed files and two
actions on one key are a :class:`ScreenError` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from textual.binding import Binding, BindingType

from ...errors import ScreenError
from .base import BASE_BINDINGS

# the screening app's own keys; help, quit and scrolling come from the base app (BASE_BINDINGS)
SCREEN_BINDINGS: list[BindingType] = [
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
]
BINDINGS: list[BindingType] = [*SCREEN_BINDINGS, *BASE_BINDINGS]  # what [keys] may rebind
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
    ("quit", "Quit", "Everything is saved (changes waiting for another process first)"),
]


def known_actions() -> list[str]:
    """The binding ids a ``[keys]`` table may name."""
    return [b.id for b in BINDINGS if isinstance(b, Binding) and b.id]


def check_actions(keys: Mapping[str, str], path: str | None) -> None:
    """ScreenError naming the file and the unknown action(s)."""
    known = known_actions()
    unknown = sorted(set(keys) - set(known))
    if unknown:
        raise ScreenError(
            f"[keys] names unknown actions {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            path=path,
            where=f"keys.{unknown[0]}",
        )


def _split(keys: str) -> list[str]:
    """'left,?' -> ['left', 'question_mark'] (the names Textual matches on)."""
    from textual.keys import _character_to_key

    return [
        _character_to_key(k) if len(k) == 1 else k for k in map(str.strip, keys.split(",")) if k
    ]


def keymap(
    protocol_keys: Mapping[str, str] | None = None,
    protocol_path: str | None = None,
    config: str | Path | None = None,
) -> dict[str, str]:
    """The keymap for ``App.set_keymap``: the protocol's ``[keys]`` overlaid by the user's config.

    ``config`` defaults to ``$REVIEW_CONFIG`` / ``~/.config/review/config.toml`` (absent = none).
    """
    from ..config import user_keys

    proto = dict(protocol_keys or {})
    check_actions(proto, protocol_path)
    user, user_path = user_keys(config)
    check_actions(user, str(user_path) if user_path else None)
    merged = {**proto, **user}
    # two actions on one key: only one of them would ever run, so say which file did it
    owner: dict[str, str] = {}
    for b in BINDINGS:
        if not (isinstance(b, Binding) and b.id):
            continue
        for key in _split(merged.get(b.id, b.key)):
            if key in owner:
                culprit = b.id if b.id in merged else owner[key]
                where = user_path if culprit in user else protocol_path
                raise ScreenError(
                    f"key {key!r} is bound to both {owner[key]} and {b.id}; rebind one of them",
                    path=str(where) if where else None,
                    where=f"keys.{culprit}",
                )
            owner[key] = b.id
    return merged
