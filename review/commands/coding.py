"""Coding commands: suggest (machine codes with evidence), code (the coding app; scripted codes,
undo, history), codes (export, conflicts) and synthesis (tables, plots, report.html)."""

from __future__ import annotations

from typing import Any

import click

from ._common import db_option, echo_json, open_ws, reviewer_option


def _progress() -> Any:
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            make: Any = click.progressbar
            import sys

            err = sys.stderr
            bar = make(length=total, label="Embedding sentences", file=err)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    return progress


@click.command()
@click.option(
    "--field", "field_name", default=None, help="One coding field (default: every field)."
)
@click.option(
    "--stage",
    default=None,
    help="Works included at this stage, or 'all' (default: included at the last stage with "
    "decisions; every work when nobody has screened yet).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run and every suggestion as JSON.")
@db_option
def suggest(field_name: str | None, stage: str | None, as_json: bool, db_path: str) -> None:
    """Suggest codes with evidence: a score in [0, 1] per work and option, yes at 0.5.

    \b
    Zero-shot from the option descriptions in the protocol's [[coding.fields]]
    (all-MiniLM-L6-v2, offline), reading title, abstract and the full text of
    attached PDFs and pages sentence by sentence; the best sentence is the
    evidence (with its page). Once reviewers have confirmed codes (3+ yes and
    3+ no for an option), it also learns from them (few-shot) and says so.
    Every run is logged with its model, parameters and versions; nothing is
    overwritten (the latest run covering a work is shown).
    """
    from ..coding.suggest import RULE, SIMILARITY_THRESHOLD
    from ..coding.suggest import suggest as run

    ws = open_ws(db_path)
    r = run(ws, field_name, stage, progress=None if as_json else _progress())
    proto = ws.require_protocol()
    bars = r.similarity_thresholds
    if as_json:
        echo_json(
            {
                "run_id": r.run_id,
                "method": r.method,
                "scope": r.scope.description,
                "threshold": r.threshold,
                "similarity_threshold": SIMILARITY_THRESHOLD,
                "similarity_thresholds": bars,
                "few_shot": r.few_shot,
                "fields": list(r.fields),
                "notes": list(r.notes),
                "suggestions": [s.__dict__ for s in r.suggestions],
            }  # fmt: skip
        )
        return
    yes: dict[tuple[str, str], int] = {}
    for s in r.suggestions:
        if s.suggested:
            yes[(s.field, s.value)] = yes.get((s.field, s.value), 0) + 1
    n = len(r.scope.work_ids)
    click.echo(f"Suggestion run {r.run_id}: {r.scope.description}, method {r.method}")
    own = {k: v for k, v in bars.items() if v != SIMILARITY_THRESHOLD}
    bar = "each field's own, below" if bars and own == bars else f"{SIMILARITY_THRESHOLD:.2f}"
    click.echo(
        f"  yes when score >= {r.threshold:.2f} (zero-shot: similarity >= {bar}, the {RULE})"
    )
    for name, field_bar in own.items():
        click.echo(
            f"  {name}: similarity >= {field_bar:.2f} (the field's threshold in the protocol)"
        )
    if r.few_shot:
        learnt = ", ".join(f"{k} ({v} confirmed works)" for k, v in sorted(r.few_shot.items()))
        click.echo(f"  few-shot: learnt from reviewers' confirmed codes for {learnt}")
    else:
        click.echo("  zero-shot: no option has 3+ confirmed yes and 3+ confirmed no codes yet")
    for f in proto.codebook:
        if f.name not in r.fields:
            continue
        if f.choice:
            click.echo(f"  {f.name}:")
            for c in f.codes:
                k = yes.get((f.name, c), 0)
                click.echo(f"    {c:<20} {k:>5} of {n} works suggested yes")
        else:
            k = len({s.work_id for s in r.suggestions if s.field == f.name and s.suggested})
            click.echo(f"  {f.name}: pre-filled for {k} of {n} works")
    for note in r.notes:
        click.echo(f"  {note}")
    click.echo(f"  {r.embedded} new sentences embedded, {r.seconds:.1f} s; earlier runs are kept")
    click.echo("Next: review code --reviewer NAME   (confirm or change them)")


def _parse_set(values: tuple[str, ...]) -> list[tuple[str, Any]]:
    out = []
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"{v!r}: use FIELD=VALUE[,VALUE...]", param_hint="--set")
        name, raw = v.split("=", 1)
        out.append((name.strip(), [x.strip() for x in raw.split(",") if x.strip()]))
    return out


@click.command()
@click.option("--stage", default=None, help="Works included at this stage, or 'all'.")
@click.option("--field", "field_name", default=None, help="Only this field in the form.")
@click.option("--work", "work_id", type=int, help="Code one work without the app (with --set).")
@click.option("--set", "sets", multiple=True, help="FIELD=VALUE[,VALUE...] for --work.")
@click.option("--draft", is_flag=True, help="With --set: save as a draft, not confirmed.")
@click.option("--resolve", is_flag=True, help="With --set: settle a conflict (you resolve it).")
@click.option("--undo", is_flag=True, help="Undo your latest coding change.")
@click.option("--history", is_flag=True, help="Print the coding log (of --work, if given).")
@click.option("--conflicts", is_flag=True, help="Resolve works whose coders disagree (in the app).")
@click.option("--json", "as_json", is_flag=True, help="JSON output for --history.")
@reviewer_option
@db_option
def code(
    stage: str | None, field_name: str | None, work_id: int | None, sets: tuple[str, ...],
    draft: bool, resolve: bool, undo: bool, history: bool, conflicts: bool, as_json: bool,
    reviewer: str, db_path: str,
) -> None:  # fmt: skip
    """Code works in the terminal: the text beside the codebook form.

    \b
    Suggested codes are pre-ticked and marked "suggested" (score, evidence
    highlighted in the text). 1-9 toggle the options of the current field,
    tab / shift+tab move between fields, e edits a text or country field,
    Enter confirms the work and moves on, u undoes, h shows the history,
    ←/→ move between works, ? help, q quit. Every change is saved at once
    in an append-only log (a crash or kill -9 loses nothing).

    --conflicts: the works whose coders disagree, each coder's codes shown
    above the options and their common codes ticked; Enter records your
    resolution (as review code --work ID --set ... --resolve does).

    \b
    Scripts: review code --work 12 --set challenges=economic,governance
             --set city=Lusaka --reviewer ana      (confirmed)
             review code --undo --reviewer ana
             review code --history --work 12
    """
    from ..coding import store

    ws = open_ws(db_path)
    if undo:
        c = store.undo(ws, reviewer=reviewer)
        click.echo(
            "nothing to undo" if c is None else f"undone: work {c.work_id} {c.field} = {c.value}"
        )
        return
    if history:
        rows = store.history(ws, work_id)
        if as_json:
            echo_json([r.__dict__ for r in rows])
            return
        for r in rows:
            click.echo(
                f"#{r.id:<6} {r.created_at[:19]}  work {r.work_id:<6} {r.reviewer:<12} "
                f"{r.field:<16} {r.status:<9} {r.origin:<10} {r.value}"
            )
        return
    if work_id is not None or sets:
        if work_id is None or not sets:
            raise click.UsageError("give --work ID and at least one --set FIELD=VALUE")
        proto = ws.require_protocol()
        for name, vals in _parse_set(sets):
            f = store.require_field(proto, name)
            value: Any = vals if f.kind in ("multi", "single", "countries") else ",".join(vals)
            if resolve:
                store.resolve(ws, work_id, name, value, reviewer)
            else:
                store.record(
                    ws, work_id, name, reviewer, value, "draft" if draft else "confirmed", "cli",
                    proto=proto,
                )  # fmt: skip
            click.echo(
                f"work {work_id} {name} = {value} "
                f"({'resolution' if resolve else 'draft' if draft else 'confirmed'} by {reviewer})"
            )
        return
    ws.close()
    from ..screen.tui.coding import CodingApp

    CodingApp(db_path, reviewer=reviewer, stage=stage, field=field_name, conflicts=conflicts).run()


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File (default: stdout).")
@click.option(
    "--status",
    type=click.Choice(["suggested", "confirmed", "best"]),
    default="best",
    show_default=True,
    help="best = confirmed where a reviewer confirmed the work's field, else suggested.",
)
@click.option("--field", "field_name", default=None, help="One coding field.")
@click.option("--conflicts", is_flag=True, help="List works whose coders disagree instead.")
@db_option
def codes(
    fmt: str, output: str | None, status: str, field_name: str | None, conflicts: bool, db_path: str
) -> None:
    """Export codes: work_id, field, value, status, score, evidence, reviewer.

    One row per work, field and chosen value (suggested yes, or confirmed);
    options judged no have no row. --conflicts lists disagreements between
    coders (settle one with review code --work ID --set ... --resolve).
    """
    from ..coding import export, store

    ws = open_ws(db_path)
    if conflicts:
        rows = store.conflicts(ws, field_name)
        if fmt == "json":
            echo_json(rows)
        elif not rows:
            click.echo("No coding conflicts.")
        for c in rows if fmt != "json" else []:
            ds = "; ".join(f"{r}: {v}" for r, v in c["codes"].items())
            click.echo(f"#{c['work_id']:<6} {c['field']:<14} {(c['title'] or '')[:60]:<60}  {ds}")
        return
    rows = export.rows(ws, status, field_name)
    if output:
        n = export.write_csv(rows, output) if fmt == "csv" else export.write_json(rows, output)
        click.echo(f"{output}: {n} rows ({status})")
    elif fmt == "json":
        echo_json(rows)
    else:
        import csv
        import sys

        w = csv.DictWriter(sys.stdout, fieldnames=list(export.COLUMNS))
        w.writeheader()
        w.writerows(rows)


@click.command()
@click.option("-o", "--out", "out_dir", default="exports/synthesis", show_default=True,
              type=click.Path(file_okay=False))  # fmt: skip
@click.option("--field", "field_name", default=None, help="The choice field (default: the first).")
@db_option
def synthesis(out_dir: str, field_name: str | None, db_path: str) -> None:
    """Regional synthesis from the best codes: region × option × year tables, plots, evidence.

    \b
    Writes by_region.csv, by_country.csv, evidence.csv, heatmap.png,
    trends.png and report.html (self-contained: images embedded, opens from
    an e-mail). Every cell shows how many of its works a reviewer confirmed.
    Countries are where the study was done; each country appears once.
    """
    from ..coding.synthesis import write

    r = write(open_ws(db_path), out_dir, field_name)
    click.echo(
        f"Synthesis of {r.field}: {r.n_works} works ({r.n_confirmed} confirmed by reviewers), "
        f"{r.n_codes} codes"
    )
    click.echo(f"Wrote {', '.join(p.name for p in r.files)} to {r.out_dir}")


COMMANDS: list[click.Command] = [suggest, code, codes, synthesis]


def print_agreement(ws: Any, as_json: bool) -> None:
    """`review agreement --coding`: Cohen's kappa per option for each pair of coders."""
    from ..coding.agreement import agreement

    a = agreement(ws)
    if as_json:
        echo_json(a)
        return
    if not a["pairs"]:
        click.echo("Coding agreement: fewer than two reviewers have confirmed codes")
    for p in a["pairs"]:
        x, y = p["reviewers"]
        click.echo(f"Coding agreement on {p['field']}: {x} × {y}, n={p['n']} works both confirmed")
        if "options" in p:
            for code, o in p["options"].items():
                k = "n/a" if o["kappa"] is None else f"{o['kappa']:.3f}"
                pa = "n/a" if o["percent_agreement"] is None else f"{o['percent_agreement']:.1f}%"
                click.echo(f"  {code:<20} Cohen's kappa {k:>6}  agreement {pa:>6}  yes {o['yes']}")
        else:
            pa = p["percent_agreement"]
            click.echo(f"  exact agreement {'n/a' if pa is None else f'{pa:.1f}%'}")
