"""Prioritised screening: order unscreened works by a model retrained on the decisions so far.

Public surface: ``rank_unscreened(ws, stage, reviewer, order, seed, features, model)`` for the
screening queue, and the pieces shared with ``review simulate``: from recipes.py
``RECIPES``/``recipe(name)`` (text, TF-IDF preset, scorer, retraining schedule, features,
ensemble mix), and from scorers.py
``recipe_features(rec, texts, embeddings, features)`` (the one builder of a recipe's model input)
and ``score(X, idx, y, seed, model, mix, weights)``. Until at
least one relevant (include/maybe) and one irrelevant (exclude) decision exist, the order is
random (seeded) so the first decisions are an unbiased sample.

``u4`` is ASReview 3.0.8's ELAS u4 exactly (settings in scorers.py); on the shared sets its
screening order matches the real ``asreview simulate`` run for run (benchmarks/screening.py). The
default, ``t2-embrrf`` (``DEFAULT_RECIPE``), fuses two models by reciprocal rank fusion (each
record scores 1 / (60 + its rank) in each model's ranking, summed): u4's SVM on TF-IDF of the
text with the title counted twice (``u4-t2``), and the same SVM on the record's all-MiniLM-L6-v2
embedding; both retrained after every record until 200 are labelled, then every 2%. Measured with
benchmarks/screening.py (8 sets x seeds 1-3 x both label columns, 1+1 priors; tables in
benchmarks/README.md): mean WSS@95 +5.5 (final labels) and +2.0 (title/abstract labels) over u4
and the real ASReview, no set more than 2.1 below them; leave-one-dataset-out (the best mean gain
on 7 sets among the candidates keeping the issue's bar there) picks it in 5 of 8 folds. A
rank-sum or z-score mix of the same two models, stop words, or one SVM on both feature sets side
by side won more on some sets but lost 5-14 points on others. In the workspace the embedding model joins only when the embeddings cache (filled by
``review themes``) holds a vector for every work; otherwise the TF-IDF model ranks alone.
"""

from __future__ import annotations

import random
from typing import Any

from ..errors import ScreenError
from ..store import Workspace
from ..store.decisions import current_decisions
from .queue import eligible_work_ids, screened_work_ids
from .recipes import (
    DEFAULT_RECIPE,
    FEATURE_CHOICES,
    FEATURE_SETS,
    RECIPES,
    Recipe,
    check_features,
    recipe,
    text_of,
    u4_text,
)
from .scorers import (
    DEFAULT_FEATURES,
    EMBED_WEIGHT,
    FEATURES,
    MIXES,
    MODEL,
    PSEUDO_NEGATIVES,
    RRF_K,
    U4_C,
    U4_FEATURES,
    U4_RATIO,
    balanced_weights,
    build_features,
    combine_features,
    mix_scores,
    recipe_features,
    score,
    with_pseudo_negatives,
)

ORDERS = ("relevance", "random", "oldest")
RELEVANT = ("include", "maybe")


__all__ = [
    "DEFAULT_FEATURES",
    "DEFAULT_RECIPE",
    "EMBED_WEIGHT",
    "FEATURE_CHOICES",
    "FEATURE_SETS",
    "FEATURES",
    "MIXES",
    "MODEL",
    "PSEUDO_NEGATIVES",
    "RECIPES",
    "RRF_K",
    "U4_C",
    "U4_FEATURES",
    "U4_RATIO",
    "Recipe",
    "balanced_weights",
    "build_features",
    "combine_features",
    "mix_scores",
    "rank_unscreened",
    "recipe",
    "recipe_features",
    "score",
    "text_of",
    "u4_text",
    "with_pseudo_negatives",
    "work_features",
]


# -- workspace side ---------------------------------------------------------------------------------


def training_labels(ws: Workspace, stage: str, reviewer: str | None = None) -> dict[int, int]:
    """{work_id: 1 relevant (include/maybe) | 0 excluded} from the current decisions at a stage."""
    out: dict[int, int] = {}
    for d in current_decisions(ws, stage=stage, reviewer=reviewer):
        rel = 1 if d["decision"] in RELEVANT else 0
        out[d["work_id"]] = max(out.get(d["work_id"], 0), rel)
    return out


def rank_unscreened(
    ws: Workspace,
    stage: str,
    reviewer: str | None = None,
    order: str = "relevance",
    seed: int = 0,
    features: str | None = None,
    model: str | None = None,
) -> list[int]:
    """Unscreened eligible work ids, best first (order: relevance | random | oldest).

    ``model`` names the recipe (default ``DEFAULT_RECIPE``; the screening app and its ranking
    child always use the default -- another recipe is a library call, e.g. for scripts and
    tests); ``features`` (default: the recipe's): see ``work_features``.
    """
    if order not in ORDERS:
        raise ScreenError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
    eligible = eligible_work_ids(ws, stage)
    screened = screened_work_ids(ws, stage, reviewer)
    todo = [w for w in eligible if w not in screened]
    if order == "oldest" or len(todo) <= 1:
        return sorted(todo)
    labels = training_labels(ws, stage, reviewer)
    if order == "random" or len(set(labels.values())) < 2:
        rng = random.Random(seed)
        rng.shuffle(todo)
        return todo
    ids, X = work_features(ws, features, model)
    pos = {w: i for i, w in enumerate(ids)}
    train = [(pos[w], y) for w, y in labels.items() if w in pos]
    rec = recipe(model)
    scores = score(
        X, [i for i, _ in train], [y for _, y in train], seed, rec.scorer, rec.mix, rec.weights
    )
    todo = [w for w in todo if w in pos]
    return sorted(todo, key=lambda w: (-float(scores[pos[w]]), w))


_CACHE: dict[str, tuple[tuple[Any, ...], list[int], Any]] = {}
EMBED_MODEL = "all-MiniLM-L6-v2"  # the workspace embeddings cache's model (review themes)


def work_features(
    ws: Workspace, features: str | None = None, model: str | None = None
) -> tuple[list[int], Any]:
    """(active work ids, feature matrix), cached per workspace until the works change.

    ``model`` names the recipe (default ``DEFAULT_RECIPE``), whose ``recipe_features`` make the
    matrix, as in ``review simulate``.
    ``features`` (default: the recipe's): ``embedding``/``both``/``ensemble`` use the
    workspace embeddings cache (``review themes`` fills it) only when it holds a vector for every
    active work with a title or abstract; otherwise the matrix is TF-IDF alone (for ``ensemble``:
    the recipe's TF-IDF model alone). ``ensemble`` adds the embeddings as one more model to the
    recipe's TF-IDF model(s) (a tuple: one model each, mixed as the recipe says). No model is
    loaded here.
    The key is (count, max id, latest update) of the active works plus the number of cached
    vectors, so a new import, a merge, an edited abstract or new embeddings rebuild it; screening
    decisions do not.
    """
    rec = recipe(model)
    want = features or rec.features
    check_features(want)
    key = tuple(
        ws.db.execute(
            "SELECT COUNT(*), MAX(id), MAX(updated_at) FROM works WHERE active = 1"
        ).fetchone()
    ) + (rec.name,)
    if want != "tfidf":
        key += (
            want,
            ws.db.execute(
                "SELECT COUNT(*) FROM embeddings WHERE model = ?", [EMBED_MODEL]
            ).fetchone()[0],
        )
    hit = _CACHE.get(str(ws.path))
    if hit and hit[0] == key:
        return hit[1], hit[2]
    rows = ws.db.execute(
        "SELECT id, title, abstract, content_hash FROM works WHERE active = 1 ORDER BY id"
    ).fetchall()
    ids = [r[0] for r in rows]
    emb = cached_embeddings(ws, [(r[1], r[2], r[3]) for r in rows]) if want != "tfidf" else None
    X = recipe_features(rec, [rec.text(r[1], r[2]) for r in rows], emb, want)
    _CACHE[str(ws.path)] = (key, ids, X)
    return ids, X


def cached_embeddings(ws: Workspace, works: list[tuple[str | None, str | None, str | None]]) -> Any:
    """Cached vectors for (title, abstract, content_hash) rows, zeros for works without text;
    None when any work with text has no cached vector (or the cache is empty)."""
    import numpy as np

    from ..themes.embed import cached_matrix
    from ..themes.run import embedding_key, embedding_text  # what `review themes` stores

    hashes: list[str | None] = []
    for title, abstract, h in works:
        text = embedding_text(title, abstract)
        hashes.append(embedding_key(text, h) if text else None)
    wanted = [h for h in hashes if h]
    if not wanted:
        return None
    keys, mat = cached_matrix(ws, wanted, EMBED_MODEL)
    pos = {h: i for i, h in enumerate(keys)}
    if any(h not in pos for h in wanted):
        return None
    out = np.zeros((len(works), mat.shape[1]), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h:
            out[i] = mat[pos[h]]
    return out
