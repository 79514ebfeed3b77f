"""Screening commands: screen (the Textual app), decide (for scripts), attach, history."""

from __future__ import annotations

import click

from ._common import db_option, echo_json, open_ws, reviewer_option

ORDERS = ("relevance", "random", "oldest")


@click.command()
@click.option("--stage", default=None, help="Protocol stage (default: the first, title-abstract).")
@click.option(
    "--order",
    type=click.Choice(ORDERS),
    default="relevance",
    show_default=True,
    help="relevance = active learning on your decisions so far.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for random order.")
@click.option(
    "--conflicts",
    "conflicts",
    is_flag=True,
    help="Resolve works where reviewers disagree (--reviewer is the resolver).",
)
@click.option("--dedup", "dedup", is_flag=True, help="Decide uncertain duplicate pairs.")
@click.option(
    "--sample",
    is_flag=True,
    help="Start the stopping rule's random-sample phase now (records in random order from here;"
    " it also starts by itself after 5% of the records irrelevant in a row, at least 50).",
)
@reviewer_option
@db_option
def screen(
    stage: str | None,
    order: str,
    seed: int,
    conflicts: bool,
    dedup: bool,
    sample: bool,
    reviewer: str,
    db_path: str,
) -> None:
    """Screen records one at a time in the terminal (keyboard first; every key is saved at once).

    \b
    i include · e exclude then 1-9 reason · m maybe · n note · t tag · u undo
    c countries (+ZA adds, -ZA removes, a name adds)
    ←/→ or k/j move through what you screened · / search · ? help · q quit
    Full-text stage: a attach a PDF · r mark not retrieved. Ctrl+P lists every action.
    Rebind keys in the protocol's [keys] or in your own $REVIEW_CONFIG /
    ~/.config/review/config.toml [keys] (yours wins), e.g. include = "o".

    \b
    --conflicts: each disagreement with every reviewer's decision, reason and
    note side by side (shown even with blind = true: resolving needs them);
    i / e 1-9 / m records the resolver's decision, n adds a note, → skips.
    --dedup: uncertain duplicate pairs side by side; y duplicate (merge),
    n distinct, s skip, q quit.
    --sample: the stopping rule's random-sample phase starts now (see README,
    "When to stop"); the app says when it starts by itself.
    """
    if conflicts and dedup:
        raise click.UsageError("give at most one of --conflicts and --dedup")
    open_ws(db_path).close()  # a clear error before the screen switches mode
    if conflicts:
        from ..screen.tui.conflicts import ConflictApp

        ConflictApp(db_path, stage=stage, resolver=reviewer).run()
    elif dedup:
        from ..screen.tui.dedup_view import DedupApp

        DedupApp(db_path, actor=reviewer).run()
    else:
        from ..screen.tui.app import ScreenApp

        app = ScreenApp(
            db_path, stage=stage, reviewer=reviewer, order=order, seed=seed, sample=sample
        )
        app.run()


@click.command()
@click.argument("work_id", type=int)
@click.option("--include", is_flag=True, help="Include the work.")
@click.option(
    "--exclude", "reason", metavar="REASON", help="Exclude with the protocol's reason code."
)
@click.option("--maybe", is_flag=True, help="Undecided.")
@click.option(
    "--undo", is_flag=True, help="Undo your latest (not yet undone) decision on the work."
)
@click.option("--stage", default=None, help="Protocol stage (default: the first).")
@click.option("--note", default=None, help="A note stored with the decision.")
@reviewer_option
@db_option
def decide(
    work_id: int,
    include: bool,
    reason: str | None,
    maybe: bool,
    undo: bool,
    stage: str | None,
    note: str | None,
    reviewer: str,
    db_path: str,
) -> None:
    """Record a screening decision on WORK_ID (for scripts; the log is append-only)."""
    from ..errors import ScreenError
    from ..screen import actions
    from ..screen.queue import stages_of

    if [include, reason is not None, maybe, undo].count(True) != 1:
        raise click.UsageError("give exactly one of --include, --exclude REASON, --maybe, --undo")
    ws = open_ws(db_path)
    stage = stage or stages_of(ws)[0]
    target = actions.survivor(ws, work_id)
    if target != work_id:
        click.echo(
            f"work {work_id} was merged into work {target}; its decisions count there,"
            f" so this one is recorded on work {target}"
        )
        work_id = target
    if undo:
        res = actions.undo_last(ws, stage, reviewer, origin="cli", work_id=work_id)
        if res is None:
            raise ScreenError(f"{reviewer} has no decision on work {work_id} at {stage} to undo")
        click.echo(f"work {work_id} {stage}: undid decision #{res['undone']} (row #{res['id']})")
        return
    decision = "include" if include else "maybe" if maybe else "exclude"
    did = actions.decide(ws, work_id, stage, reviewer, decision, reason, note=note, origin="cli")
    click.echo(
        f"work {work_id} {stage}: {decision}{' ' + reason if reason else ''} (decision #{did})"
    )
    from ..store.decisions import previous_stage, resolve_work

    prev = previous_stage(ws, stage)
    if prev is not None and resolve_work(ws, work_id, stage) is None:
        click.echo(
            f"note: work {work_id} has not moved on at {prev}, so this decision is logged but not"
            f" counted until it does (review history {work_id})"
        )


@click.command()
@click.argument("work_id", type=int)
@click.argument("pdf", type=click.Path(dir_okay=False))
@reviewer_option
@db_option
def attach(work_id: int, pdf: str, reviewer: str, db_path: str) -> None:
    """Attach a PDF to WORK_ID for full-text screening (copied into the workspace by sha256)."""
    from ..screen import actions

    ws = open_ws(db_path)
    doc = actions.attach_pdf(ws, work_id, pdf, reviewer)
    pages = len(actions.full_text_pages(ws, work_id))
    click.echo(f"work {work_id}: attached {pdf} as document #{doc} ({pages} pages)")


@click.command()
@click.argument("work_id", type=int)
@click.option("--reviewer", default=None, help="Only this reviewer's events.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
def history(work_id: int, reviewer: str | None, as_json: bool, db_path: str) -> None:
    """The full log of WORK_ID: every decision, undo, note, tag and retrieval, oldest first.

    Events logged on works later merged into WORK_ID are listed too, marked
    "(on work N, merged into WORK_ID)": their decisions count for WORK_ID."""
    from ..screen import actions

    ws = open_ws(db_path)
    events = actions.history(ws, work_id, reviewer=reviewer)
    if as_json:
        echo_json(events)
        return
    work = actions.get_work(ws, work_id)
    click.echo(f"work {work_id}: {work['title'] or '(no title)'}")
    from ..store.decisions import final_work

    final = final_work(ws, work_id)
    if final != work_id:
        click.echo(
            f"  merged into work {final}: its decisions count there (review history {final})"
        )
    if not events:
        click.echo("  (no events)")
    for e in events:
        stage = f" [{e['stage']}]" if e["stage"] else ""
        extra = f"  — {e['note']}" if e["note"] else ""
        origin = f" ({e['origin']})" if e["origin"] else ""
        on = f"  (on work {e['work_id']}, merged into {work_id})" if e.get("absorbed") else ""
        click.echo(
            f"  {e['at'][:19]}  {e['kind']:<9} {e['reviewer'] or '-':<12}{stage} {e['value']}{extra}{origin}{on}"
        )


COMMANDS: list[click.Command] = [screen, decide, attach, history]
