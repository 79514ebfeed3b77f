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
@click.option(
    "--coding", is_flag=True, help="Include the coding log and the suggestion runs (review code)."
)
@click.option("--unsigned", is_flag=True, help="Do not sign, even when the group has a key.")
@db_option
def bundle_export(
    output: str,
    group: str | None,
    with_pdfs: bool,
    decisions: bool,
    coding: bool,
    unsigned: bool,
    db_path: str,
) -> None:
    """Write the workspace's records (raw payloads), search log and merges to one zip file.

    Signed with the group's key when `review keys generate --group NAME` made one."""
    from ..share.bundle import export_bundle

    m = export_bundle(
        open_ws(db_path), output, group=group, with_pdfs=with_pdfs, decisions=decisions,
        sign=not unsigned, coding=coding,
    )  # fmt: skip
    c = m["counts"]
    signed = f"signed with key {m['signed_by']}" if m.get("signed_by") else "unsigned"
    codes = f"{c['codes']} codes, {_n(c['coding_runs'], 'suggestion run')}, " if coding else ""
    click.echo(
        f"{output}: group {m['group']!r}, {c['records']} records, {c['searches']} searches, "
        f"{c['decisions']} decisions, {codes}{c['files']} files; {signed}"
    )


def _n(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@bundle.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--group", help="Override the group name recorded in the bundle.")
@click.option("--no-dedup", is_flag=True, help="Do not run dedup against local works afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@db_option
def bundle_import(
    file: str, group: str | None, no_dedup: bool, as_json: bool, db_path: str
) -> None:
    """Verify and merge a bundle in one transaction; importing it twice changes nothing.

    Decisions, notes, tags and codes from the bundle are stored as NAME@GROUP (the bundle's
    group); coding fields and options must exist in this workspace's codebook.
    A bad signature is refused; so is any bundle not signed by a trusted key when the protocol
    sets [sharing] require_signed = true."""
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
        click.echo(f"{file}: {_signature(s['signature'])}")
        click.echo(
            f"{file}: from group {s['group']!r}: {s['records_added']} records added "
            f"({s['records_skipped']} already present), {s['searches_added']} searches, "
            f"{s['decisions_added']} decisions, {s['notes_added']} notes, {s['files_added']} files"
        )
        if s["codes_added"] or s["coding_runs_added"]:
            click.echo(
                f"  coding: {s['codes_added']} codes, {_n(s['coding_runs_added'], 'suggestion run')}"
                f" ({s['suggestions_added']} suggestions), as NAME@{s['group']}"
            )
        if s["relayed_skipped"]:
            click.echo(
                f"  {s['relayed_skipped']} rows by other groups' reviewers skipped (a group speaks"
                " only for itself: import those from their own group's bundle)"
            )
        if s["dates_clamped"]:
            click.echo(f"  {s['dates_clamped']} dates later than now set to the import time")
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


def _signature(sig: dict) -> str:  # type: ignore[type-arg]
    fp = f", key {sig['fingerprint']}" if sig.get("fingerprint") else ""
    return f"{sig['text']}{fp}"


@bundle.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--db", "db_path", type=click.Path(dir_okay=False), envvar="REVIEW_DB",
    help="Workspace whose trusted keys check the signature (default: none).",
)  # fmt: skip
def bundle_inspect(file: str, as_json: bool, db_path: str | None) -> None:
    """Show what a bundle holds (verifying it and its signature) without importing anything."""
    from ..share.bundle import inspect_bundle

    info = inspect_bundle(file, open_ws(db_path) if db_path else None)
    if as_json:
        echo_json(info)
        return
    m = info["manifest"]
    click.echo(f"{file}  sha256 {info['sha256'][:16]}…")
    click.echo(f"  {_signature(info['signature'])}")
    click.echo(
        f"  group {m['group']!r}, created {m.get('created_at')}, review {m.get('tool_version')}, "
        f"schema {m.get('schema_version')}"
    )
    for src, n in sorted(info["records_by_source"].items()):
        click.echo(f"  {src:<40} {n:>7} records")
    click.echo(
        f"  {info['works']} works, {info['decisions']} decision rows, {len(info['members'])} members"
    )
    if info.get("codes") or info.get("coding_runs"):
        click.echo(
            f"  {info['codes']} coding log rows, {_n(info['coding_runs'], 'suggestion run')}"
        )
    if info.get("check"):
        click.echo(f"  {info['check']}")


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
@click.option("--coding", is_flag=True, help="Agreement on codes: kappa per option (review code).")
@db_option
def agreement(stage: str, as_json: bool, coding: bool, db_path: str) -> None:
    """Cohen's kappa per pair of reviewers (Fleiss' for more), percent agreement, counts."""
    from ..share.agreement import agreement as compute

    if coding:
        from .coding import print_agreement

        print_agreement(open_ws(db_path), as_json)
        return

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


@click.group()
def keys() -> None:
    """Signing keys: sign the bundles you export, trust the keys of groups you import from."""


@keys.command("generate")
@click.option("--group", help="Your group's name (default: the one the workspace remembers).")
@click.option("--force", is_flag=True, help="Replace an existing key.")
@db_option
def keys_generate(group: str | None, force: bool, db_path: str) -> None:
    """Make GROUP's Ed25519 key pair in your config directory; send the .pub file to others."""
    from ..share.bundle import group_name
    from ..share.keys import generate_key

    if not group:
        group = group_name(open_ws(db_path))
    k = generate_key(group, force=force)
    click.echo(f"key for {group!r}: fingerprint {k['fingerprint']}")
    click.echo(f"  private key {k['private_key']} (mode 0600: never share it)")
    click.echo(f"  public key  {k['public_key']} (send it; read the fingerprint out by phone)")


@keys.command("trust")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--group", help="Trust it for this group (default: the name in the file).")
@db_option
def keys_trust(file: str, group: str | None, db_path: str) -> None:
    """Trust a group's public key FILE in this workspace (check its fingerprint with them)."""
    from ..share.keys import trust_key

    t = trust_key(open_ws(db_path), file, group=group)
    was = " (already trusted)" if t["already_trusted"] else ""
    click.echo(f"trusted {t['group']!r} key {t['fingerprint']}{was}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
def keys_list(as_json: bool, db_path: str) -> None:
    """The public keys this workspace trusts."""
    from ..share.keys import trusted_keys

    rows = trusted_keys(open_ws(db_path))
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No trusted keys (review keys trust FILE.pub).")
    for k in rows:
        click.echo(
            f"{k['group']:<24} {k['fingerprint']}  trusted {k['added_at'][:10]}  {k['file']}"
        )


@keys.command("forget")
@click.argument("fingerprint")
@db_option
def keys_forget(fingerprint: str, db_path: str) -> None:
    """Stop trusting the key with FINGERPRINT."""
    from ..share.keys import forget_key

    k = forget_key(open_ws(db_path), fingerprint)
    click.echo(f"no longer trusted: {k['group']!r} key {k['fingerprint']}")


COMMANDS: list[click.Command] = [bundle, conflicts, resolve, agreement, browse, keys]
