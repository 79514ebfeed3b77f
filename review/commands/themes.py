"""Themes and regions: `review themes [run|list|rename|merge|report]`, `review regions [...]`."""

from __future__ import annotations

from typing import Any

import click

from ._common import db_option, echo_json, open_ws, reviewer_option


class DefaultGroup(click.Group):
    """A group whose first word may be omitted: `review themes --seed 1` = `review themes run --seed 1`."""

    default_cmd = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = [self.default_cmd, *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup)
def themes() -> None:
    """Themes of the works: cluster, label, rename/merge, and write the reports.

    \b
    review themes --stage all --seed 42 -o exports/themes   # = review themes run ...
    review themes list                                       # themes of the latest run
    review themes rename 3 "Digital infrastructure gaps"     # survives re-runs
    review themes merge 4 2                                  # fold theme 4 into 2
    review themes report -o exports/themes                   # rewrite outputs, no re-clustering
    """


@themes.command("run")
@click.option(
    "--stage",
    type=click.Choice(["included", "screened", "all"]),
    default="included",
    show_default=True,
    help="included: at the last stage with decisions; screened: any decision; all: every work.",
)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="Random seed (reproducible runs)."
)
@click.option(
    "--min-cluster-size",
    type=int,
    default=None,
    help="Smallest theme (default ~0.5% of works, 5-50).",
)
@click.option(
    "--model", default=None, help="Sentence-transformers model [default: all-MiniLM-L6-v2]."
)
@click.option(
    "-o",
    "--out",
    "out_dir",
    default="exports/themes",
    show_default=True,
    type=click.Path(file_okay=False),
)
@db_option
def run_cmd(
    stage: str,
    seed: int,
    min_cluster_size: int | None,
    model: str | None,
    out_dir: str,
    db_path: str,
) -> None:
    """Embed (cached), cluster and label themes; detect countries; write the five outputs."""
    from ..themes import report
    from ..themes.embed import DEFAULT_MODEL
    from ..themes.run import run

    ws = open_ws(db_path)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            make: Any = click.progressbar
            bar = make(length=total, label="Embedding", file=click.get_text_stream("stderr"))  # type: ignore[operator]
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    r = run(
        ws,
        stage=stage,
        seed=seed,
        min_cluster_size=min_cluster_size,
        model=model or DEFAULT_MODEL,
        progress=progress,
    )
    rep = report.write(ws, out_dir, r.run_id)
    click.echo(
        f"Run {r.run_id}: {r.n_works} works ({r.stage}), {r.n_themes} themes, {r.n_outliers} outliers "
        f"({r.reassigned} reassigned), {r.embedded} texts embedded, {r.seconds:.1f} s"
    )
    click.echo(f"Wrote {', '.join(p.name for p in rep.files)} to {rep.out_dir}")


@themes.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
def list_cmd(as_json: bool, db_path: str) -> None:
    """Themes of the latest run, with reviewers' renames and merges applied."""
    from ..themes.edits import effective

    ts, _ = effective(open_ws(db_path))
    if as_json:
        echo_json([t.__dict__ for t in ts])
        return
    for t in ts:
        extra = f" → merged into {t.merged_into}" if t.merged_into is not None else ""
        click.echo(f"{t.theme_id:>3}  {t.size:>5}  {t.label}  [{', '.join(t.keywords[:5])}]{extra}")


@themes.command("rename")
@click.argument("theme_id", type=int)
@click.argument("label")
@reviewer_option
@db_option
def rename_cmd(theme_id: int, label: str, reviewer: str, db_path: str) -> None:
    """Rename THEME_ID of the latest run to LABEL (kept for the same theme in later runs)."""
    from ..themes.edits import rename

    key = rename(open_ws(db_path), theme_id, label, reviewer)
    click.echo(
        f"Theme {theme_id} ({key}) is now {label!r}; `review themes report` rewrites the outputs"
    )


@themes.command("merge")
@click.argument("source", type=int)
@click.argument("target", type=int)
@reviewer_option
@db_option
def merge_cmd(source: int, target: int, reviewer: str, db_path: str) -> None:
    """Fold theme SOURCE into theme TARGET (latest run and later runs)."""
    from ..themes.edits import merge

    a, b = merge(open_ws(db_path), source, target, reviewer)
    click.echo(f"Theme {source} ({a}) merged into {target} ({b})")


@themes.command("report")
@click.option(
    "-o",
    "--out",
    "out_dir",
    default="exports/themes",
    show_default=True,
    type=click.Path(file_okay=False),
)
@click.option("--run", "run_id", type=int, default=None, help="Run id (default: latest).")
@db_option
def report_cmd(out_dir: str, run_id: int | None, db_path: str) -> None:
    """Rewrite themes.csv, trends.csv, heatmap.png, trends.png, report.html for a run."""
    from ..themes import report

    rep = report.write(open_ws(db_path), out_dir, run_id)
    click.echo(f"Wrote {', '.join(p.name for p in rep.files)} to {rep.out_dir}")


@click.group(cls=DefaultGroup)
def regions() -> None:
    """Countries of each work: study location (gazetteer) apart from author affiliation (OpenAlex).

    \b
    review regions                      # = review regions run: detect for all active works
    review regions show 12              # countries of work 12 and why
    review regions add 12 ZA            # a reviewer confirms South Africa as study location
    review regions remove 12 NA         # ... or removes a wrong one (wins over the gazetteer)
    """


@regions.command("run")
@db_option
def regions_run(db_path: str) -> None:
    """Detect study and affiliation countries of all active works."""
    from ..themes.regions import detect

    s = detect(open_ws(db_path))
    click.echo(
        f"{s.works} works: {s.with_study} with a study country ({s.study_rows} rows), "
        f"{s.affiliation_rows} affiliation rows"
    )


@regions.command("show")
@click.argument("work_id", type=int)
@db_option
def regions_show(work_id: int, db_path: str) -> None:
    """Effective countries of WORK_ID and the rows behind them."""
    from ..themes.regions import countries

    ws = open_ws(db_path)
    for kind in ("study", "affiliation"):
        click.echo(f"{kind}: {', '.join(countries(ws, kind, [work_id]).get(work_id, [])) or '-'}")
    for r in ws.db.query(
        "SELECT kind, country, origin, action, evidence, reviewer FROM work_countries WHERE work_id = ? ORDER BY id",
        [work_id],
    ):
        click.echo(
            f"  {r['kind']:<11} {r['country']} {r['origin']:<9} {r['action']:<6} {r['evidence'] or r['reviewer'] or ''}"
        )


def _fix(action: str):  # type: ignore[no-untyped-def]
    @regions.command(action)
    @click.argument("work_id", type=int)
    @click.argument("country")
    @click.option(
        "--kind", type=click.Choice(["study", "affiliation"]), default="study", show_default=True
    )
    @reviewer_option
    @db_option
    def cmd(work_id: int, country: str, kind: str, reviewer: str, db_path: str) -> None:
        from ..themes.regions import set_country

        set_country(open_ws(db_path), work_id, country, action, kind, reviewer)
        click.echo(f"Work {work_id}: {action} {kind} country {country.upper()} (by {reviewer})")

    cmd.__doc__ = f"A reviewer {'confirms' if action == 'add' else 'removes'} COUNTRY (ISO code or name) of WORK_ID."
    cmd.help = cmd.__doc__
    return cmd


_fix("add")
_fix("remove")

COMMANDS: list[click.Command] = [themes, regions]
