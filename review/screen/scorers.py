"""The pure pieces of prioritisation: TF-IDF presets, feature matrices, scorers and ensemble mixes.

``recipe_features(rec, texts, embeddings, features)`` makes a recipe's model input, the one
builder for ``review simulate`` and the workspace ranking, from ``build_features(texts, preset)``
and ``combine_features(tfidf, embeddings, features)``; ``score(X, train_idx, y, seed, model,
mix, weights)`` gives every row a relevance score from a model trained on the labelled rows (a
tuple X is an ensemble: one model per matrix, mixed by ``mix_scores``). recipes.py names the
recipes built from these; priority.py re-exports them.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import ScreenError
from .recipes import FEATURE_SETS, Recipe, check_features

# ASReview 3.0.8 ELAS u4 (asreview/models/models.py, AI_MODEL_CONFIGURATIONS["elas_u4"]): TF-IDF
# uni+bigrams, sublinear tf, min_df 1, max_df 0.95, no stop-word list, sklearn's default token
# pattern and lowercasing; LinearSVC(loss="squared_hinge", C=0.11); the "balanced" sample weights
# {1: 1, 0: n_rel / (9.8 n_irr)} rescaled to sum to n; the max querier (stable argsort of -score);
# one record per query, so the model is retrained after every labelled record.
U4_FEATURES: dict[str, Any] = {
    "ngram_range": (1, 2),
    "sublinear_tf": True,
    "min_df": 1,
    "max_df": 0.95,
}
U4_C = 0.11
U4_RATIO = 9.8


FEATURES: dict[str, Any] = {
    "ngram_range": (1, 2),
    "sublinear_tf": True,
    "min_df": 2,
    "max_df": 0.95,
}
MODEL = "svm-pos"
DEFAULT_FEATURES = "tfidf"  # the classic input; the workspace uses the default recipe's features
EMBED_WEIGHT = 1.0  # "both": TF-IDF rows and embeddings are unit length; embeddings scaled by this


def combine_features(
    tfidf: Any, embeddings: Any, features: str = "tfidf", weight: float | None = None
) -> Any:
    """The model's input: TF-IDF, the (L2-normalised) sentence embeddings, or both side by side."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack

    if features not in FEATURE_SETS:
        raise ScreenError(
            f"unknown features {features!r}; expected one of {', '.join(FEATURE_SETS)}"
        )
    if features == "tfidf":
        return tfidf
    if embeddings is None:
        raise ScreenError(f"features {features!r} need sentence embeddings")
    e = np.asarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    e = e / norms
    if features == "embedding":
        return e
    if tfidf is None or tfidf.shape[0] != e.shape[0]:
        raise ScreenError("TF-IDF and embeddings have different numbers of rows")
    w = EMBED_WEIGHT if weight is None else weight
    return hstack([tfidf, csr_matrix(e * w)], format="csr", dtype=np.float32)


def build_features(texts: list[str], preset: str = "default") -> Any:
    """TF-IDF uni+bigrams, a sparse CSR matrix, one row a text.

    ``default``: sublinear tf, terms in >= 2 texts, English stop words dropped; ``u4``: ELAS u4's
    vectoriser exactly (``U4_FEATURES``, no stop words, float64 as sklearn's default); ``u4-sw``:
    u4's with English stop words dropped (min_df 1).
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if preset == "u4":
        vec = TfidfVectorizer(**U4_FEATURES)
    elif preset == "u4-sw":  # u4's vectoriser with sklearn's English stop-word list
        vec = TfidfVectorizer(stop_words="english", **U4_FEATURES)
    else:
        opts = dict(FEATURES)
        if len(texts) < 50:
            opts["min_df"] = 1
        vec = TfidfVectorizer(stop_words="english", dtype=np.float32, **opts)
    try:
        return vec.fit_transform(texts).tocsr()
    except ValueError:  # empty vocabulary: every text empty
        from scipy.sparse import csr_matrix

        return csr_matrix((len(texts), 1), dtype=np.float32)


def recipe_features(
    rec: Recipe, texts: list[str], embeddings: Any = None, features: str | None = None
) -> Any:
    """A recipe's model input for texts made with its ``text`` function (a tuple: one model each).

    ``features`` overrides the recipe's (tfidf | embedding | both | ensemble). A TF-IDF preset
    ``a+b`` gives one matrix (one model) per view; ``ensemble`` adds the embeddings as one more
    model; a scorer ``a+b`` on a single matrix gives it to each scorer. Without ``embeddings``
    the recipe's TF-IDF model(s) rank alone (the workspace before its cache holds a vector for
    every work; ``simulate`` refuses that case itself).
    """
    feats = features or rec.features
    check_features(feats)
    presets = rec.tfidf.split("+")
    if feats == "both" and len(presets) > 1:  # refused whether or not embeddings exist yet
        raise ScreenError(
            f"model {rec.name} has {len(presets)} TF-IDF views: features 'both' needs one"
        )
    if embeddings is None:
        feats = "tfidf"
    X: Any
    if feats == "embedding":
        X = combine_features(None, embeddings, "embedding")
    elif len(presets) > 1:  # TF-IDF views: one model each (and one on the embeddings)
        X = tuple(build_features(texts, p) for p in presets)
        if feats == "ensemble":
            X += (combine_features(None, embeddings, "embedding"),)
    elif feats == "ensemble":
        X = (build_features(texts, rec.tfidf), combine_features(None, embeddings, "embedding"))
    else:
        X = combine_features(build_features(texts, rec.tfidf), embeddings, feats, rec.embed_weight)
    if "+" in rec.scorer and not isinstance(X, tuple):  # several models on one feature set
        X = (X,) * len(rec.scorer.split("+"))
    return X


def _svm(X: Any, train_idx: Any, y: Any, seed: int, c: float, pos_ratio: float | None) -> Any:
    """A linear SVM's decision values; class-balanced, or relevant records up-weighted pos_ratio x."""
    from sklearn.svm import LinearSVC

    if pos_ratio is None:
        m = LinearSVC(C=c, class_weight="balanced", random_state=seed)
        m.fit(X[train_idx], y)
    else:
        m = LinearSVC(C=c, random_state=seed)
        m.fit(X[train_idx], y, sample_weight=balanced_weights(y, pos_ratio))
    return m.decision_function(X)


PSEUDO_NEGATIVES = 100


def with_pseudo_negatives(
    n_rows: int, train_idx: Any, y: Any, seed: int, share: float | None = None
) -> tuple[Any, Any]:
    """Training rows plus ``PSEUDO_NEGATIVES`` unlabelled rows drawn at random (a fresh draw per
    training-set size) and presumed irrelevant, as Cormack & Grossman's BMI/AutoTAR do: with few
    labels, "unlike a random record" is most of what the model can learn."""
    import numpy as np

    known = np.asarray(train_idx, dtype=np.int64)
    mask = np.ones(n_rows, dtype=bool)
    mask[known] = False
    pool = np.flatnonzero(mask)
    k = min(PSEUDO_NEGATIVES, len(pool))
    if share is not None:  # at most this share of the unlabelled records
        k = min(k, math.ceil(share * len(pool)))
    if k == 0:
        return known, np.asarray(y)
    rng = np.random.default_rng([seed, len(known)])
    extra = rng.choice(pool, size=k, replace=False)
    return np.concatenate([known, extra]), np.concatenate([np.asarray(y), np.zeros(k, dtype=int)])


def balanced_weights(y: Any, ratio: float) -> Any:
    """ASReview's "balanced" sample weights: relevant 1, irrelevant n_rel / (ratio * n_irr), then
    all rescaled so they sum to the number of records (asreview/models/balancers.py)."""
    import numpy as np

    y = np.asarray(y)
    w = np.where(y == 1, 1.0, y.sum() / (ratio * max(int((y == 0).sum()), 1)))
    return w * (len(y) / w.sum())


def _ranks(v: Any) -> Any:
    import numpy as np

    return np.argsort(np.argsort(v, kind="stable"), kind="stable").astype(float)


MIXES = ("rank", "z", "rrf")
RRF_K = 60  # reciprocal rank fusion's constant (Cormack, Clarke & Buettcher 2009)


def mix_scores(parts: list[Any], how: str = "rank", weights: tuple[float, ...] = ()) -> Any:
    """One score from several models' scores (higher = more likely relevant), each weighted.

    ``rank``: the weighted sum of each model's ranks (ties broken by the summed scores); ``z``:
    the weighted sum of each model's decision values z-scored over every record, so a model sure
    of a record counts more than its rank says; ``rrf``: reciprocal rank fusion, the weighted sum
    of 1 / (``RRF_K`` + rank from the top), which lets each model's top records through.
    """
    import numpy as np

    w = weights or (1.0,) * len(parts)
    if len(w) != len(parts) or how not in MIXES:
        raise ValueError(f"cannot mix {len(parts)} scores by {how!r} with weights {w}")
    if how == "rank":
        return sum(wi * _ranks(v) for wi, v in zip(w, parts, strict=True)) + 1e-6 * sum(parts)
    if how == "z":
        zs = [(v - v.mean()) / (v.std() or 1.0) for v in (np.asarray(p, float) for p in parts)]
        return sum(wi * z for wi, z in zip(w, zs, strict=True))
    n = len(parts[0])
    return sum(wi / (RRF_K + n - _ranks(v)) for wi, v in zip(w, parts, strict=True)) + 1e-9 * sum(
        parts
    )


def score(
    X: Any,
    train_idx: list[int],
    y: list[int],
    seed: int = 0,
    model: str | None = None,
    mix: str = "rank",
    weights: tuple[float, ...] = (),
) -> Any:
    """Relevance scores (higher = more likely relevant) for every row of X, trained on rows train_idx.

    ``u4`` and the recipes built on it are measured in benchmarks/README.md (``recipes.MEASURED``).
    The older scorers were compared when they were first written (commit 23397e4, before ELAS u4
    was rebuilt exactly) by mean WSS@95 on ../shared/data/screening (8 sets x 2 seeds, 1+1
    priors, title/abstract labels | final labels); those runs are not in benchmarks/README.md and
    were not repeated, and no recipe uses ``svm`` or ``ensemble``. ``svm-pos`` (``classic``'s)
    C=0.2 with relevant records up-weighted 9.8x as ASReview's ELAS u4 does: 35.9 | 44.0
    (C=0.11 as ELAS u4: 35.4 | 43.8; C=0.11, 20x: 34.3 | 45.1); ``svm`` class-balanced, C=0.5:
    35.6 | 41.3 (C=1: 34.9, C=0.3: 35.5, C=0.1: 34.6 on title/abstract); ``ensemble`` (sum of
    both models' ranks): 35.1 | -. Dropped then: naive Bayes 30.9, SGD log-loss 32.8, logistic
    regression (liblinear: 20x slower to fit, 48.2 vs 46.6 on one set).
    """
    import numpy as np

    name = model or MODEL
    if isinstance(X, tuple):  # an ensemble: one model per feature set ("a+b": per-set models)
        names = name.split("+") if "+" in name else [name] * len(X)
        parts = [score(part, train_idx, y, seed, m) for part, m in zip(X, names, strict=True)]
        return mix_scores(parts, mix, weights)
    yy = np.asarray(y)
    if name == "svm":
        return _svm(X, train_idx, yy, seed, 0.5, None)
    if name == "svm-pos":
        return _svm(X, train_idx, yy, seed, 0.2, 9.8)
    if name == "u4":
        return _svm(X, train_idx, yy, seed, U4_C, U4_RATIO)
    if name in ("u4-pn", "u4-pn10"):  # u4 + presumed-irrelevant random records (AutoTAR/BMI)
        share = 0.1 if name == "u4-pn10" else None
        idx, yp = with_pseudo_negatives(X.shape[0], train_idx, yy, seed, share)
        return _svm(X, idx, yp, seed, U4_C, U4_RATIO)
    if name == "nb":  # ASReview's naive Bayes (alpha 3.822), relevant up-weighted as u4 does
        from sklearn.naive_bayes import MultinomialNB

        nb = MultinomialNB(alpha=3.822)
        nb.fit(X[train_idx], yy, sample_weight=balanced_weights(yy, U4_RATIO))
        return nb.predict_log_proba(X)[:, 1] - nb.predict_log_proba(X)[:, 0]
    if name == "ensemble":
        a = _svm(X, train_idx, yy, seed, 0.5, None)
        b = _svm(X, train_idx, yy, seed, 0.11, 9.8)
        return _ranks(a) + _ranks(b) + 1e-6 * (a + b)
    raise ValueError(f"unknown model {name!r}")
