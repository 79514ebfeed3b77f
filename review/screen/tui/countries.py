"""Countries in the screening app: show a work's study and affiliation countries, fix them with ``c``.

The input takes comma-separated changes: ``+ZA`` adds, ``-ZA`` removes, a bare code or a name
(``Mozambique``, ``Moçambique``, ``Swaziland``) adds. Each change is a reviewer row in
``work_countries`` written by ``review.themes.regions.set_country`` (it wins over the gazetteer
and survives re-detection). An unknown country is shown as a notification; the app keeps running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import ReviewError
from ...store import Workspace
from .widgets import PromptScreen

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[None]
else:
    _Base = object

PROMPT = "Study countries: +ZA adds, -ZA removes, a name (Mozambique) adds; commas separate"


def parse_changes(value: str) -> list[tuple[str, str]]:
    """``"+ZA, -MZ, South Africa"`` → ``[("add", "ZA"), ("remove", "MZ"), ("add", "South Africa")]``."""
    out: list[tuple[str, str]] = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        action = "remove" if item[0] == "-" else "add"
        country = item[1:].strip() if item[0] in "+-" else item
        if country:
            out.append((action, country))
    return out


def work_countries(ws: Workspace, work_id: int) -> dict[str, list[str]]:
    """{"study": [codes], "affiliation": [codes]} of one work (reviewer fixes applied)."""
    from ...themes.regions import countries

    return {
        kind: countries(ws, kind=kind, work_ids=[work_id]).get(work_id, [])
        for kind in ("study", "affiliation")
    }


def apply_changes(ws: Workspace, work_id: int, value: str, reviewer: str) -> list[str]:
    """Apply each change in ``value``; returns what was done ("+ZA"); stops at the first error."""
    from ...themes.regions import set_country

    done = []
    for action, country in parse_changes(value):
        set_country(ws, work_id, country, action=action, kind="study", reviewer=reviewer)
        done.append(("+" if action == "add" else "-") + country)
    return done


class CountriesMixin(_Base):
    """``c`` on the main screen; ``countries_line`` goes into the record header."""

    ws: Workspace
    current: int | None
    reviewer: str

    def show(self, work_id: int | None) -> None:  # provided by ScreenApp
        raise NotImplementedError

    if TYPE_CHECKING:  # provided by ReviewApp (a stub here would shadow it in the MRO)

        def write(
            self, fn: Any, done: Any = None, what: str = "change", key: Any = None
        ) -> str: ...

    def countries_line(self, work_id: int) -> str:
        try:
            found = work_countries(self.ws, work_id)
        except (
            ReviewError
        ) as e:  # pragma: no cover - a broken themes table should not stop screening
            return f"countries: ({e})"
        study = ", ".join(found["study"]) or "-"
        affil = ", ".join(found["affiliation"]) or "-"
        return f"study countries: {study} · affiliation countries: {affil}  (c to fix)"

    def action_countries(self) -> None:
        wid = self.current
        if wid is None:
            return

        def done(value: str | None) -> None:
            if value:
                reviewer = self.reviewer
                self.write(
                    lambda ws: apply_changes(ws, wid, value, reviewer),
                    done=lambda changed: self._countries_changed(wid, changed),
                    what="countries",
                    key=wid,
                )

        self.push_screen(PromptScreen(PROMPT, "+ZA, -MW, Mozambique"), done)

    def _countries_changed(self, wid: int, changed: list[str]) -> None:
        if changed:
            self.notify(f"work #{wid}: countries {' '.join(changed)}")
        if self.current == wid:
            self.show(wid)
