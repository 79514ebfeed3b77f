"""Workspace commands: init, status, protocol check/show, searches."""

from __future__ import annotations

import click

from ._common import db_option, echo_json, open_ws


@click.command()
@click.option(
    "--protocol",
    "protocol_path",
    type=click.Path(dir_okay=False),
    help="Protocol TOML to store in the workspace.",
)
@db_option
def init(protocol_path: str | None, db_path: str) -> None:
    """Create a review workspace (or update its protocol)."""
    from .. import protocol as protocol_mod
    from ..store import init as init_ws

    proto = protocol_mod.load(protocol_path) if protocol_path else None
    ws = init_ws(db_path, proto)
    click.echo(f"Workspace {ws.path} ready" + (f" with protocol {proto.title!r}" if proto else ""))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def status(as_json: bool, db_path: str) -> None:
    """Counts a reviewer cares about: records per source and arm, works, decisions, PRISMA."""
    from ..status import format_summary, summary

    s = summary(open_ws(db_path))
    if as_json:
        echo_json(s)
    else:
        click.echo(format_summary(s))


@click.group()
def protocol() -> None:
    """Validate and show review protocols."""


@protocol.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def protocol_check(files: tuple[str, ...]) -> None:
    """Validate protocol FILES; errors name the file, line and key (exit 2)."""
    from .. import protocol as protocol_mod

    for f in files:
        p = protocol_mod.load(f)
        click.echo(
            f"{f}: OK — {len(p.inclusion)} inclusion / {len(p.exclusion)} exclusion criteria, "
            f"{len(p.sources)} sources, stages {', '.join(p.stages)}"
        )


@protocol.command("show")
@db_option
def protocol_show(db_path: str) -> None:
    """Print the workspace's protocol."""
    p = open_ws(db_path).require_protocol()
    click.echo(p.text)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
def searches(as_json: bool, db_path: str) -> None:
    """The PRISMA-S search log: every harvest, import and gray-literature batch."""
    from ..store.records import searches as list_searches

    rows = list_searches(open_ws(db_path))
    for r in rows:  # the PRISMA category of a gray-literature batch (add-web/add-pdf --kind)
        r["source_kind"] = _source_kind(r.get("params"))
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        kind = r["kind"] + (f"/{r['source_kind']}" if r["source_kind"] else "")
        click.echo(
            f"#{r['id']:<4} {r['started_at'][:19]}  {r['source']:<28} {r['arm']:<9} {kind:<8} "
            f"found {r['records_found'] if r['records_found'] is not None else '-':>6} "
            f"stored {r['records_stored'] if r['records_stored'] is not None else '-':>6}  {r['status']}"
            f"  {r['query'] or r['file_name'] or ''}"
        )


def _source_kind(params: object) -> str | None:
    import json

    try:
        data = json.loads(params) if isinstance(params, str) else params
    except ValueError:
        return None
    kind = data.get("source_kind") if isinstance(data, dict) else None
    return str(kind) if kind else None


COMMANDS: list[click.Command] = [init, status, protocol, searches]
