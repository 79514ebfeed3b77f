"""Deduplication commands: dedup (run, --review, --undo) and duplicates (export the groups)."""

from __future__ import annotations

import csv
import io
import json

import click

from ._common import db_option, echo_json, open_ws

DUPLICATE_COLUMNS = (
    "work_id",
    "record_id",
    "source",
    "source_record_id",
    "title",
    "rule",
    "score",
    "pair",
    "run_id",
)


def _authors(value: str | None) -> str:
    try:
        names = json.loads(value or "[]")
    except ValueError:
        return value or ""
    return "; ".join(names[:4]) + (" et al." if len(names) > 4 else "")


def _review(ws, actor: str) -> None:  # noqa: ANN001 - Workspace imported lazily
    from ..dedup import queue

    pairs = queue.pending(ws)
    if not pairs:
        click.echo("No pairs waiting for review.")
        return
    click.echo(f"{len(pairs)} pair(s) to review: y = duplicate, n = distinct, s = skip, q = quit")
    done = 0
    for i, p in enumerate(pairs, 1):
        click.echo(
            f"\n[{i}/{len(pairs)}] candidate {p['id']}  score {p['score']}  rule {p['rule']}"
        )
        for side in ("a", "b"):
            click.echo(
                f"  {side.upper()} record {p['record_' + side]} (work {p['work_' + side]}, {p['source_' + side]})"
                f"\n    {p['title_' + side] or '(no title)'}"
                f"\n    {p['year_' + side] or '-'} · {_authors(p['authors_' + side])} · {p['venue_' + side] or '-'}"
                f" · vol {p['volume_' + side] or '-'} ({p['issue_' + side] or '-'}) p {p['pages_' + side] or '-'}"
                + (f" · doi {p['doi_' + side]}" if p["doi_" + side] else "")
                + (f"\n    {p['abstract_' + side][:160]}…" if p["abstract_" + side] else "")
            )
        answer = click.prompt("Duplicate?", type=click.Choice(["y", "n", "s", "q"]), default="s")
        if answer == "q":
            break
        if answer == "s":
            continue
        res = queue.decide(ws, p["id"], answer == "y", actor=actor)
        done += 1
        click.echo(
            f"  merged into work {res['work_id']}" if res.get("work_id") else "  marked distinct"
        )
    click.echo(f"\n{done} decision(s) recorded; {len(queue.pending(ws))} pair(s) still pending.")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--threshold",
    type=click.FloatRange(0.5, 1.0),
    default=None,
    help="Title similarity (0.5-1) above which agreeing records merge [default: 0.95].",
)
@click.option(
    "--review", "review_pairs", is_flag=True, help="Decide uncertain pairs one by one (y/n/s/q)."
)
@click.option(
    "--undo",
    "undo_group",
    type=int,
    metavar="GROUP",
    help="Split the merged group with this work id.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what would merge and why (rule, record pair, titles); write nothing.",
)
@click.option(
    "--undo-run",
    "undo_run",
    type=int,
    metavar="N",
    help="Split every merge made by dedup run N (see --runs).",
)
@click.option("--runs", "list_runs", is_flag=True, help="List dedup runs and what each merged.")
@click.option(
    "--actor", default=None, help="Who is deciding (stored in the merge log) [default: $USER]."
)
@db_option
def dedup(
    as_json: bool,
    threshold: float | None,
    review_pairs: bool,
    undo_group: int | None,
    dry_run: bool,
    undo_run: int | None,
    list_runs: bool,
    actor: str | None,
    db_path: str,
) -> None:
    """Merge duplicate records into works: shared ids corroborated by the title, then fuzzy.

    A DOI, PMID, ISBN or other id merges records only when their titles (or, for non-English
    records, abstracts or volume/pages/authors) agree; an id shared by different titles
    (a supplement, a book) is not used. Certain pairs merge (logged in `merges` with the
    pair that justified each, raw records kept); uncertain pairs wait for `review dedup
    --review`. `--dry-run` shows the plan, `--undo GROUP` splits one merged work,
    `--undo-run N` splits a whole run.
    """
    from ..store.workspace import default_reviewer

    ws = open_ws(db_path)
    who = actor or default_reviewer()
    if list_runs or undo_run is not None:
        _runs(ws, undo_run, who, as_json)
        return
    if undo_group is not None:
        from ..dedup.merges import split_work

        res = split_work(ws, undo_group, actor=who)
        if as_json:
            echo_json(res)
        else:
            works = ", ".join(str(w) for w in res["works"])
            click.echo(
                f"Split work {res['work_id']}: {res['records']} records back in works {works}"
            )
        return
    if review_pairs:
        _review(ws, who)
        return
    from ..dedup import engine

    kwargs = {"threshold": threshold} if threshold is not None else {}
    res = engine.run(ws, actor=who, dry_run=dry_run, **kwargs)
    if as_json:
        echo_json(res)
        return
    if dry_run:
        _show_plan(res)
        return
    click.echo(f"dedup run {res['run_id']}: {res['records']} records checked")
    if res["merged_by_rule"]:
        for rule, n in sorted(res["merged_by_rule"].items(), key=lambda kv: -kv[1]):
            click.echo(f"  merged by {rule:<18} {n:>6} work(s)")
    else:
        click.echo("  nothing new to merge")
    click.echo(
        f"{res['works_absorbed']} works absorbed into {res['groups_merged']} groups; "
        f"{res['active_works']} works remain; {res['records'] - res['active_works']} duplicates removed"
    )
    click.echo(
        f"{res['candidates_new']} new uncertain pair(s); {res['candidates_pending']} pending "
        "(decide them with `review dedup --review`)"
    )
    _containers(res)
    if res["groups_merged"]:
        click.echo(f"Undo this whole run with `review dedup --undo-run {res['run_id']}`.")


def _containers(res: dict) -> None:
    for kind, n in sorted(res.get("containers", {}).items()):
        click.echo(
            f"{n} {kind} value(s) shared by records with different titles (a supplement, a book,"
            " a proceedings volume): not used to merge them"
        )


def _show_plan(res: dict) -> None:
    click.echo(f"Dry run: {res['records']} records checked; nothing written.")
    for g in res["groups"]:
        for w, e in g["reasons"].items():
            pair = e.get("pair")
            click.echo(
                f"  would merge work {w} into work {g['work_id']}: {e['rule']}"
                + (f" {e['score']:.3f}" if e.get("score") is not None else "")
                + (f" (records {pair[0]} + {pair[1]})" if pair else "")
            )
            for t in e.get("titles") or ():
                click.echo(f"      {(t or '(no title)')[:100]}")
            if len(e.get("path") or ()) > 1:
                steps = " -> ".join(f"{a}-{b} {rule}" for a, b, rule, _ in e["path"])
                click.echo(f"      via {steps}")
    click.echo(
        f"Would absorb {res['works_absorbed']} works into {res['groups_merged']} groups and queue"
        f" {res['candidates_new']} uncertain pair(s) (some may be queued already)."
    )
    _containers(res)


def _runs(ws, undo_run: int | None, actor: str, as_json: bool) -> None:  # noqa: ANN001
    from ..dedup import runs

    if undo_run is not None:
        res = runs.undo_run(ws, undo_run, actor=actor)
        if as_json:
            echo_json(res)
        else:
            click.echo(
                f"Undid dedup run {res['run_id']}: {res['works_restored']} works active again"
                " (a new run may merge them again; `--undo GROUP` marks a group distinct)"
            )
        return
    rows = runs.list_runs(ws)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No dedup runs yet.")
    for r in rows:
        summary = json.loads(r["summary"] or "{}")
        state = f"undone {r['undone_at']}" if r["undone_at"] else "active"
        click.echo(
            f"run {r['id']}  {r['created_at']}  {r['actor'] or '-'}  absorbed"
            f" {summary.get('works_absorbed', 0)} works  queued {summary.get('candidates_new', 0)}"
            f"  {state}"
        )


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout."
)
@db_option
def duplicates(fmt: str, output: str | None, db_path: str) -> None:
    """Every duplicate group with its records: which records were removed, and why."""
    from ..dedup.merges import duplicate_groups

    rows = duplicate_groups(open_ws(db_path))
    if fmt == "json":
        text = json.dumps(rows, indent=2, ensure_ascii=False)
    else:
        buf = io.StringIO()
        w = csv.DictWriter(buf, DUPLICATE_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        text = buf.getvalue()
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        groups = len({r["work_id"] for r in rows})
        click.echo(f"Wrote {len(rows)} records in {groups} duplicate groups to {output}", err=True)
    else:
        click.echo(text, nl=text.endswith("\n") is False)


COMMANDS: list[click.Command] = [dedup, duplicates]
