"""Deduplication commands: dedup (run, --review, --undo) and duplicates (export the groups)."""

from __future__ import annotations

import csv
import io
import json

import click

from ._common import db_option, echo_json, open_ws

DUPLICATE_COLUMNS = ("work_id", "record_id", "source", "source_record_id", "title", "rule", "score")


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
                + (f" · doi {p['doi_' + side]}" if p["doi_" + side] else "")
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
    help="Title similarity (0.5-1) above which agreeing records merge [default: 0.9].",
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
    "--actor", default=None, help="Who is deciding (stored in the merge log) [default: $USER]."
)
@db_option
def dedup(
    as_json: bool,
    threshold: float | None,
    review_pairs: bool,
    undo_group: int | None,
    actor: str | None,
    db_path: str,
) -> None:
    """Merge duplicate records into works: exact ids (DOI, PMID, OpenAlex, ISBN, file hash), then fuzzy.

    Certain pairs merge (logged in `merges`, raw records kept); uncertain pairs wait for
    `review dedup --review`. `--undo GROUP` splits a merged work back into its records' own works.
    """
    from ..store.workspace import default_reviewer

    ws = open_ws(db_path)
    who = actor or default_reviewer()
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
    res = engine.run(ws, actor=who, **kwargs)
    if as_json:
        echo_json(res)
        return
    click.echo(f"{res['records']} records checked")
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
