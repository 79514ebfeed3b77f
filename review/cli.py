"""The `review` command line: a thin shell over the library.

Each pipeline stage keeps its commands in ``review/commands/<stage>.py`` as a ``COMMANDS`` list.
Those modules import nothing heavy at import time (torch, textual, fitz, sklearn load lazily),
so `review --help` stays fast; a test checks this.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from . import __version__
from .errors import ReviewError

COMMAND_MODULES = (
    "workspace",  # init, status, protocol, searches
    "harvest",  # harvest openalex
    "imports",  # import, export
    "graylit",  # add-pdf, add-web
    "dedup",  # dedup, duplicates
    "screen",  # screen, attach, history, decide
    "simulate",  # simulate (active learning)
    "prisma",  # prisma
    "themes",  # themes, regions
    "share",  # bundle, conflicts, agreement, browse
    "coding",  # suggest, code, codes, synthesis
)


class ReviewGroup(click.Group):
    """Turns ``ReviewError`` into a one-line message on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReviewError as e:
            click.secho(f"Error: {e}", fg="red", err=True)
            sys.exit(e.exit_code)


@click.group(cls=ReviewGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="review")
def cli() -> None:
    """review: systematic reviews of academic and gray literature, local-first.

    \b
    A typical review:
      review init --protocol protocols/sadc-smart-cities.toml --db my.db
      review harvest openalex --db my.db        # or: review import FILE..., add-pdf, add-web
      review dedup --db my.db
      review screen --db my.db                  # keyboard-first screening app
      review prisma -o exports/prisma.svg --db my.db
      review themes --db my.db

    Every command takes --db PATH (default ./review.db, or $REVIEW_DB).
    """


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        mod = importlib.import_module(f"review.commands.{name}")
        for cmd in getattr(mod, "COMMANDS", []):
            cli.add_command(cmd)


_register()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
