"""The coding form's state for one work and reviewer (no textual here: the app is a shell).

Each field shows, in order of precedence: the reviewer's own current code (draft or confirmed),
else the latest machine suggestion (marked as a suggestion, not saved until the reviewer changes
or confirms it), else nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from ..store.workspace import Workspace
from .codebook import CodingField
from .store import work_codes
from .suggest import latest

_PLACE = re.compile(r"^(title|abstract|full text|gazetteer|p\. \d+): ")


def quote(evidence: str | None) -> str:
    """The sentence of an evidence string without its 'abstract: ' / 'p. 3: ' prefix."""
    return _PLACE.sub("", evidence or "")


@dataclass
class FieldState:
    field: CodingField
    value: Any = None  # list of codes (choice, countries), str (text), float (number)
    source: str = "empty"  # empty | suggested | draft | confirmed | conflict
    suggestions: dict[str, dict[str, Any]] = dc_field(default_factory=dict)  # value -> row
    run_id: int | None = None
    others: dict[str, Any] = dc_field(default_factory=dict)  # coders' values (resolving)

    def toggle(self, code: str) -> list[str]:
        """The value after toggling ``code`` (a single field keeps one option)."""
        cur = list(self.value or [])
        if code in cur:
            cur.remove(code)
        elif self.field.kind == "single":
            cur = [code]
        else:
            cur.append(code)
        return [c for c in self.field.codes if c in cur]

    def display(self) -> str:
        if self.value is None or self.value == []:
            return "—"
        if isinstance(self.value, list):
            return ", ".join(str(v) for v in self.value)
        return str(self.value)


def load(
    ws: Workspace, work_id: int, reviewer: str, fields: tuple[CodingField, ...]
) -> list[FieldState]:
    mine = work_codes(ws, work_id, reviewer)
    sugg = latest(ws, [work_id])
    out = []
    for f in fields:
        rows = sugg.get((work_id, f.name), [])
        st = FieldState(f, suggestions={r["value"]: r for r in rows})
        st.run_id = rows[0]["run_id"] if rows else None
        if f.name in mine:
            st.value, st.source = mine[f.name].value, mine[f.name].status
        elif rows:
            yes = [r["value"] for r in rows if r["suggested"]]
            if f.kind in ("multi", "single"):
                yes = [c for c in f.codes if c in yes][: 1 if f.kind == "single" else None]
                st.value = yes
            elif f.kind == "countries":
                st.value = sorted(yes)
            else:
                st.value = yes[0] if yes else None
            st.source = "suggested"
        out.append(st)
    return out


def agreed(values: list[Any]) -> Any:
    """What every coder chose: the common options of list values, else the shared value."""
    if values and all(isinstance(v, list) for v in values):
        common = set(values[0]).intersection(*map(set, values[1:]))
        return [c for c in values[0] if c in common]
    return values[0] if values and all(v == values[0] for v in values) else None
