"""Harvest commands: `review harvest openalex`."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ._common import db_option, echo_json, open_ws


@click.group()
def harvest() -> None:
    """Collect records from online sources into the workspace."""


class _Bars:
    """One click progress bar per source on stderr, created when meta.count is known."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.name: str | None = None
        self.shown = 0

    def __call__(self, source: Any, fetched: int, total: int | None) -> None:
        if self.name != source.name:
            self.close()
            self.name, self.shown = source.name, 0
        if self.bar is None and total is not None:
            self.bar = click.progressbar(
                length=max(total, fetched, 1), label=source.name, file=sys.stderr, show_pos=True
            )
            self.bar.__enter__()
        if self.bar is not None and fetched > self.shown:
            self.bar.update(fetched - self.shown)
            self.shown = fetched

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@harvest.command("openalex")
@click.option(
    "--max", "max_works", type=click.IntRange(min=1), help="Stop after N works per source."
)
@click.option("--source", "source_name", help="Harvest only the protocol source with this name.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@db_option
def openalex(max_works: int | None, source_name: str | None, as_json: bool, db_path: str) -> None:
    """Run the protocol's OpenAlex sources (search + filter) with pyalex's cursor paging.

    \b
    Environment: OPENALEX_API_KEY (API key), OPENALEX_EMAIL (contact address),
    REVIEW_OPENALEX_URL (default https://api.openalex.org: a mirror, proxy or test server),
    REVIEW_OPENALEX_RETRIES / _BACKOFF / _TIMEOUT (5, 1.0 s, 30 s).
    An interrupted harvest resumes from its stored cursor when run again; records already
    stored are never added twice.
    """
    from ..harvest.openalex import harvest as run_harvest

    ws = open_ws(db_path)
    if not os.environ.get("OPENALEX_API_KEY"):
        click.echo("Note: OPENALEX_API_KEY is not set; requests go without an API key.", err=True)
    bars = _Bars()
    try:
        results = run_harvest(ws, source=source_name, max_works=max_works, progress=bars)
    except KeyboardInterrupt:
        bars.close()
        click.echo("\nInterrupted; run the same command again to resume.", err=True)
        sys.exit(130)
    finally:
        bars.close()
    if as_json:
        echo_json([r.__dict__ for r in results])
        return
    for r in results:
        resumed = f" (resumed at cursor {r.resumed_from})" if r.resumed_from else ""
        click.echo(
            f"{r.source}: {r.records_found if r.records_found is not None else '?'} found, "
            f"{r.fetched} fetched, {r.stored} new records stored{resumed} [search {r.search_id}]"
        )


COMMANDS: list[click.Command] = [harvest]
