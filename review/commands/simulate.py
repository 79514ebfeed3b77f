"""`review simulate`: replay prioritised screening on labelled CSVs and report how well it did."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import click

from ..screen.recipes import (  # noqa: F401
    DEFAULT_RECIPE,
    FEATURE_CHOICES,
    RECIPES,
    STOP_RULES,
    model_help,
)
from ._common import echo_json

METRICS = ("wss95", "rrf10", "loss", "screened_all", "stopped_at", "recall_at_stop")
# RECIPE_NAMES, DEFAULT_RECIPE, FEATURE_CHOICES and STOP_RULES are recipes.py's (standard library
# only, so `review --help` still imports nothing heavy).
RECIPE_NAMES = tuple(RECIPES)


def parse_seeds(value: str | None, seed: int) -> list[int]:
    if not value:
        return [seed]
    try:
        seeds = [int(s) for s in value.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of integers")
    if not seeds:
        raise click.BadParameter("no seeds given")
    return seeds


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def summarise(runs: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """Mean metrics over runs, and how many runs reached the target recall at the stop."""
    out: dict[str, Any] = {k: _mean(runs, k) for k in METRICS}
    out["n_runs"] = len(runs)
    out["runs_reaching_target"] = sum(1 for r in runs if (r["recall_at_stop"] or 0) >= target)
    out["work_saved"] = _mean(
        [{"s": 1 - r["stopped_at"] / r["n_records"]} for r in runs if r["stopped_at"]], "s"
    )
    return out


@click.command("simulate")
@click.argument("datasets", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for priors and ties.")
@click.option("--seeds", default=None, help="Several seeds, e.g. 1,2,3 (overrides --seed).")
@click.option(
    "--prior-included",
    type=int,
    default=1,
    show_default=True,
    help="Relevant records known at start.",
)
@click.option(
    "--prior-excluded",
    type=int,
    default=1,
    show_default=True,
    help="Irrelevant records known at start.",
)
@click.option(
    "--label", default="label_included", show_default=True, help="Column with the 0/1 labels."
)
@click.option(
    "--target-recall", type=float, default=0.95, show_default=True, help="Stopping rule target."
)
@click.option(
    "--confidence", type=float, default=0.95, show_default=True, help="Stopping rule confidence."
)
@click.option(
    "--model",
    type=click.Choice(RECIPE_NAMES),
    default=None,
    help=model_help(),
)
@click.option(
    "--features",
    type=click.Choice(FEATURE_CHOICES),
    default=None,
    help="Override the model's input: TF-IDF uni+bigrams, all-MiniLM-L6-v2 sentence embeddings"
    " (cached by content hash in the user cache), both side by side, or an ensemble of a"
    " TF-IDF and an embedding model.",
)
@click.option(
    "--stop-rule",
    type=click.Choice(STOP_RULES),
    default=None,
    help="Stopping rule reported as the stop point (every rule is in --json).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def simulate_cmd(
    datasets: tuple[str, ...],
    seed: int,
    seeds: str | None,
    prior_included: int,
    prior_excluded: int,
    label: str,
    target_recall: float,
    confidence: float,
    model: str | None,
    features: str | None,
    stop_rule: str | None,
    as_json: bool,
) -> None:
    """Simulate screening DATASETS (CSVs: title, abstract, a 0/1 label column) with active learning.

    \b
    Prints one table, per set (mean over seeds) and the mean of all runs: WSS@95 and RRF@10
    (percent), ASReview's loss (0 best), records screened to find every relevant record, where
    the stopping rule stopped (records screened) and the recall then.
    """
    from ..screen.recipes import recipe
    from ..screen.simulate import embed_texts, read_labelled_pairs, simulate
    from ..screen.stoprules import DEFAULT_RULE, describe

    if prior_included < 1 or prior_excluded < 1:
        raise click.BadParameter(
            "priors must be at least 1", param_hint="--prior-included/--prior-excluded"
        )
    seed_list = parse_seeds(seeds, seed)
    rec = recipe(model)
    feats = features or rec.features
    rule = stop_rule or DEFAULT_RULE
    runs: list[dict[str, Any]] = []
    for path in datasets:
        pairs, labels = read_labelled_pairs(path, label)
        emb = embed_texts(pairs) if feats != "tfidf" else None
        texts = [rec.text(t, a) for t, a in pairs]
        for s in seed_list:
            r = simulate(
                texts,
                labels,
                seed=s,
                prior_included=prior_included,
                prior_excluded=prior_excluded,
                target=target_recall,
                confidence=confidence,
                features=feats,
                embeddings=emb,
                model=rec.name,
                stop_rule=rule,
            )
            runs.append({"dataset": path, "seed": s, **r.as_dict()})
    per_set = []
    for path in datasets:
        mine = [r for r in runs if r["dataset"] == path]
        per_set.append(
            {
                "dataset": path,
                "n_records": mine[0]["n_records"],
                "n_relevant": mine[0]["n_relevant"],
                **summarise(mine, target_recall),
            }
        )
    mean = summarise(runs, target_recall)
    if as_json:
        top = dict(runs[0]) if len(runs) == 1 else {"seeds": seed_list, **mean}
        top.update(model=rec.name, features=feats, stop_rule=rule)
        echo_json({**top, "mean": mean, "per_set": per_set, "runs": runs})
        return
    click.echo(
        f"model {rec.name}, features {feats}, seeds {','.join(map(str, seed_list))},"
        f" {prior_included}+{prior_excluded} priors, label {label}"
    )
    click.echo(f"stopping rule {rule}: {describe(rule, target_recall, confidence)}")
    hdr = (
        f"{'set':<36}{'records':>8}{'relevant':>9}{'WSS@95':>8}{'RRF@10':>8}{'loss':>7}"
        f"{'find all':>9}{'stop at':>9}{'recall':>8}"
    )
    click.echo(hdr)
    rows = [(PurePath(p["dataset"]).name, p) for p in per_set]
    if len(per_set) > 1 or len(seed_list) > 1:
        rows.append((f"mean of {len(runs)} runs", {"n_records": "", "n_relevant": "", **mean}))
    for name, m in rows:
        short = name if len(name) <= 35 else "…" + name[-34:]
        click.echo(
            f"{short:<36}{m['n_records']!s:>8}{m['n_relevant']!s:>9}{m['wss95']:8.1f}"
            f"{m['rrf10']:8.1f}{m['loss']:7.3f}{m['screened_all']:9.0f}{m['stopped_at']:9.0f}"
            f"{100 * (m['recall_at_stop'] or 0):7.1f}%"
        )
    click.echo(
        f"recall >= {target_recall:.0%} at the stop in {mean['runs_reaching_target']}/{len(runs)}"
        f" runs; work saved by stopping {100 * (mean['work_saved'] or 0):.1f}%"
    )


COMMANDS: list[click.Command] = [simulate_cmd]
