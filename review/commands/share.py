"""Sharing and dual screening: bundle export/import/inspect, conflicts, resolve, agreement, browse."""

from __future__ import annotations

import click

from ._common import db_option, echo_json, open_ws, reviewer_option


@click.group()
def bundle() -> None:
    """Corpus bundles: share records, searches and decisions with another group."""


@bundle.command("export")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="FILE.reviewbundle"
)
@click.option("--group", help="Your group's name (default: remembered, else the OS user).")
@click.option("--with-pdfs", is_flag=True, help="Include stored PDFs and saved pages.")
@click.option("--decisions", is_flag=True, help="Include the decision, note and tag logs.")
@db_option
def bundle_export(
    output: str, group: str | None, with_pdfs: bool, decisions: bool, db_path: str
) -> None:
    """Write the workspace's records (raw payloads), search log and merges to one zip file."""
    from ..share.bundle import export_bundle

    m = export_bundle(
        open_ws(db_path), output, group=group, with_pdfs=with_pdfs, decisions=decisions
    )
    c = m["counts"]
    click.echo(
        f"{output}: group {m['group']!r}, {c['records']} records, {c['searches']} searches, "
        f"{c['decisions']} decisions, {c['files']} files"
    )


@bundle.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--group", help="Override the group name recorded in the bundle.")
@click.option("--no-dedup", is_flag=True, help="Do not run dedup against local works afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@db_option
def bundle_import(
    file: str, group: str | None, no_dedup: bool, as_json: bool, db_path: str
) -> None:
    """Verify and merge a bundle in one transaction; importing it twice changes nothing."""
    from ..share.merge import import_bundle

    ws = open_ws(db_path)
    s = import_bundle(ws, file, group=group)
    if not no_dedup and s["records_added"]:
        s["dedup"] = _dedup(ws)
    if as_json:
        echo_json(s)
    elif s["already_imported"]:
        click.echo(f"{file}: already imported (sha256 {s['sha256'][:12]}); nothing changed")
    else:
        click.echo(
            f"{file}: from group {s['group']!r}: {s['records_added']} records added "
            f"({s['records_skipped']} already present), {s['searches_added']} searches, "
            f"{s['decisions_added']} decisions, {s['notes_added']} notes, {s['files_added']} files"
        )
        if s.get("dedup"):
            d = s["dedup"]
            click.echo(
                f"dedup against local works: {d['works_absorbed']} merged, {d['candidates_new']} "
                f"pairs to review; {d['active_works']} works"
            )


def _dedup(ws):  # type: ignore[no-untyped-def]
    """Dedup the imported records against local works (exact ids, then fuzzy)."""
    from ..dedup.engine import run

    r = run(ws, actor="review bundle import")
    return {k: r[k] for k in ("groups_merged", "works_absorbed", "candidates_new", "active_works")}


@bundle.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bundle_inspect(file: str, as_json: bool) -> None:
    """Show what a bundle holds (verifying it) without importing anything."""
    from ..share.bundle import inspect_bundle

    info = inspect_bundle(file)
    if as_json:
        echo_json(info)
        return
    m = info["manifest"]
    click.echo(f"{file}  sha256 {info['sha256'][:16]}…")
    click.echo(
        f"  group {m['group']!r}, created {m['created_at']}, review {m['tool_version']}, schema {m['schema_version']}"
    )
    for src, n in sorted(info["records_by_source"].items()):
        click.echo(f"  {src:<40} {n:>7} records")
    click.echo(
        f"  {info['works']} works, {info['decisions']} decision rows, {len(info['members'])} members"
    )


@click.command()
@click.option("--stage", default="title-abstract", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
def conflicts(stage: str, as_json: bool, db_path: str) -> None:
    """Works where reviewers disagree and nobody has resolved it yet."""
    from ..share.agreement import conflicts as list_conflicts

    rows = list_conflicts(open_ws(db_path), stage)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(f"No conflicts at {stage}.")
    for c in rows:
        ds = "; ".join(
            f"{r}: {d['decision']}{' ' + d['reason'] if d['reason'] else ''}"
            for r, d in c["decisions"].items()
        )
        click.echo(f"#{c['work_id']:<6} {(c['title'] or '')[:70]:<70}  {ds}")


@click.command()
@click.argument("work_id", type=int)
@click.option("--include", "decision", flag_value="include", help="Resolve as include.")
@click.option("--exclude", "reason", help="Resolve as exclude with this reason code.")
@click.option("--maybe", "decision", flag_value="maybe", help="Resolve as maybe.")
@click.option("--stage", default="title-abstract", show_default=True)
@click.option("--note", help="Why.")
@reviewer_option
@db_option
def resolve(
    work_id: int, decision: str | None, reason: str | None, stage: str, note: str | None,
    reviewer: str, db_path: str,
) -> None:  # fmt: skip
    """Resolve a conflict with a logged decision by the resolver."""
    from ..share.agreement import resolve as do_resolve

    if reason:
        decision = "exclude"
    if not decision:
        raise click.UsageError("give --include, --exclude REASON or --maybe")
    do_resolve(
        open_ws(db_path), work_id=work_id, stage=stage, resolver=reviewer, decision=decision,
        reason=reason, note=note,
    )  # fmt: skip
    click.echo(
        f"work {work_id} at {stage}: resolved as {decision}{' ' + reason if reason else ''} by {reviewer}"
    )


@click.command()
@click.option("--stage", default="title-abstract", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
def agreement(stage: str, as_json: bool, db_path: str) -> None:
    """Cohen's kappa per pair of reviewers (Fleiss' for more), percent agreement, counts."""
    from ..share.agreement import agreement as compute

    a = compute(open_ws(db_path), stage)
    if as_json:
        echo_json(a)
        return
    click.echo(f"Agreement at {stage} ({a['rule']})")
    if not a["pairs"]:
        click.echo("  fewer than two reviewers have decided at this stage")
    for p in a["pairs"]:
        k = "n/a" if p["cohen_kappa"] is None else f"{p['cohen_kappa']:.3f}"
        pa = "n/a" if p["percent_agreement"] is None else f"{p['percent_agreement']:.1f}%"
        click.echo(
            f"  {p['reviewers'][0]} × {p['reviewers'][1]}: n={p['n']} agreement {pa} Cohen's kappa {k}"
        )
    if "fleiss" in a:
        f = a["fleiss"]
        click.echo(f"  all {len(a['reviewers'])} reviewers: n={f['n']} Fleiss' kappa {f['kappa']}")


@click.command()
@click.option("--port", default=8001, show_default=True)
@db_option
def browse(port: int, db_path: str) -> None:
    """Open the workspace in Datasette (optional extra: pip install 'review[browse]')."""
    import shutil
    import subprocess

    open_ws(db_path).close()
    exe = shutil.which("datasette")
    if exe is None:
        raise click.ClickException("Datasette is not installed: pip install 'review[browse]'")
    subprocess.run([exe, db_path, "--port", str(port), "-o"], check=False)


COMMANDS: list[click.Command] = [bundle, conflicts, resolve, agreement, browse]
