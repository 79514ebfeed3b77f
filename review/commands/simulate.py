"""`review simulate`: replay prioritised screening on a labelled CSV and report how well it did."""

from __future__ import annotations

import click

from ._common import echo_json


@click.command("simulate")
@click.argument("dataset", type=click.Path(dir_okay=False))
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for priors and ties.")
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
    "--features",
    type=click.Choice(["tfidf", "embedding", "both"]),
    default="tfidf",
    show_default=True,
    help="Model input: TF-IDF uni+bigrams, all-MiniLM-L6-v2 sentence embeddings (computed"
    " offline for every record), or both side by side.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def simulate_cmd(
    dataset: str,
    seed: int,
    prior_included: int,
    prior_excluded: int,
    label: str,
    target_recall: float,
    confidence: float,
    features: str,
    as_json: bool,
) -> None:
    """Simulate screening DATASET.csv (title, abstract, a 0/1 label column) with active learning.

    \b
    Prints WSS@95 and RRF@10 (percent), records screened to find every relevant record,
    ASReview's loss (0 best), and when the statistical stopping rule stopped and its recall then.
    """
    from ..screen.priority import text_of
    from ..screen.simulate import embed_texts, read_labelled_pairs, simulate

    if prior_included < 1 or prior_excluded < 1:
        raise click.BadParameter(
            "priors must be at least 1", param_hint="--prior-included/--prior-excluded"
        )
    pairs, labels = read_labelled_pairs(dataset, label)
    embeddings = embed_texts(pairs) if features != "tfidf" else None
    r = simulate(
        [text_of(t, a) for t, a in pairs],
        labels,
        features=features,
        embeddings=embeddings,
        seed=seed,
        prior_included=prior_included,
        prior_excluded=prior_excluded,
        target=target_recall,
        confidence=confidence,
    )
    if as_json:
        echo_json(r.as_dict())
        return
    click.echo(
        f"{dataset}: {r.n_records} records, {r.n_relevant} relevant, seed {seed},"
        f" features {features}"
    )
    click.echo(f"  WSS@95        {r.wss95:6.1f} %")
    click.echo(f"  RRF@10        {r.rrf10:6.1f} %")
    click.echo(f"  screened all  {r.screened_all:6d}   (to find every relevant record)")
    click.echo(f"  loss          {r.loss:8.3f}")
    if r.stopped_at is not None and r.stopped_at < r.n_records:
        saved = 100 * (1 - r.stopped_at / r.n_records)
        click.echo(
            f"  stopping rule stopped after {r.stopped_at} records ({saved:.1f}% saved),"
            f" recall {100 * (r.recall_at_stop or 0):.1f}%"
        )
    else:
        click.echo("  stopping rule did not stop before every record was screened")


COMMANDS: list[click.Command] = [simulate_cmd]
