"""Options and helpers shared by every command module (light imports only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def db_option(fn: F) -> F:
    """``--db PATH`` (default ./review.db, or $REVIEW_DB) on every command."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default="review.db",
        envvar="REVIEW_DB",
        show_default=True,
        show_envvar=True,
        help="Workspace file.",
    )(fn)


def default_reviewer() -> str:
    """$REVIEW_REVIEWER or the OS user (imported when called: ``--help`` loads no workspace code)."""
    from ..store.workspace import default_reviewer as get

    return get()


def reviewer_option(fn: F) -> F:
    return click.option(
        "--reviewer",
        default=default_reviewer,
        show_default="$REVIEW_REVIEWER or the OS user",
        help="Who is deciding (stored with every decision).",
    )(fn)


def open_ws(db_path: str):  # -> Workspace
    from ..store import Workspace

    return Workspace.open(db_path)


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))
