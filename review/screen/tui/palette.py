"""The command palette: every screening action, searchable (Ctrl+P)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ScreenCommands(Provider):
    """Lists the app's ``ACTIONS`` (action, title, help) for the palette."""

    def _actions(self) -> list[tuple[str, str, str]]:
        app = self.app
        return [
            (action, title, help_)
            for action, title, help_ in getattr(app, "ACTIONS", [])
            if app.check_action(action, ()) is not False
        ]

    async def discover(self) -> Hits:
        for action, title, help_ in self._actions():
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action, title, help_ in self._actions():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    help=help_,
                )
