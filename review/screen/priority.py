"""Prioritised screening: order unscreened works by a model retrained on the decisions so far.

Public surface: ``rank_unscreened(ws, stage, reviewer, order, seed, features)`` for the screening
queue, and the pure pieces shared with ``review simulate``: ``RECIPES``/``recipe(name)`` (text,
TF-IDF preset, scorer, retraining schedule), ``build_features(texts, preset)`` and
``score(X, idx, y, seed, model)``. Until at least one relevant (include/maybe) and one irrelevant
(exclude) decision exist, the order is random (seeded) so the first decisions are an unbiased sample.

``u4`` is ASReview 3.0.8's ELAS u4 exactly (settings below); on the shared sets its screening order
matches the real ``asreview simulate`` run for run (benchmarks/screening.py). The default,
``u4-t2`` (``DEFAULT_RECIPE``), is u4 with the title counted twice in the text, retrained after every
record until 200 are labelled and then every 2% (a 2,000-record set: ~300 fits instead of ~2,000).
Measured with benchmarks/screening.py (8 sets x seeds 1-3 x both label columns, 1+1 priors; see
benchmarks/README.md for the tables): mean WSS@95 +2.2 (final labels) and +0.9 (title/abstract
labels) over u4 and the real ASReview, no set more than 2.3 below them; candidates that won some
sets by more lost others by 4-6 points (stop words + min_df 2; an ensemble of both TF-IDF views;
presumed-irrelevant random records as in AutoTAR). MiniLM embeddings (``features`` ``both`` or
``embedding``, from the workspace cache that ``review themes`` fills) remain available but were
not re-measured against u4, so the workspace ranks with TF-IDF (``DEFAULT_FEATURES``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ScreenError
from ..store import Workspace
from ..store.decisions import current_decisions
from .queue import eligible_work_ids, screened_work_ids

ORDERS = ("relevance", "random", "oldest")
RELEVANT = ("include", "maybe")


def text_of(title: str | None, abstract: str | None) -> str:
    """The text our TF-IDF reads: the title twice (titles carry the topic), then the abstract."""
    return f"{title or ''} {title or ''} {abstract or ''}".strip()


def u4_text(title: str | None, abstract: str | None) -> str:
    """The text ASReview's ELAS u4 reads: title and abstract joined by one space (its TextMerger:
    ``" ".join`` of the two columns with missing values as empty strings, nothing stripped)."""
    return f"{title or ''} {abstract or ''}"


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
FEATURE_SETS = ("tfidf", "embedding", "both")
DEFAULT_FEATURES = "tfidf"  # the default recipe's input; embeddings: --features both|embedding
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
    vectoriser exactly (``U4_FEATURES``, no stop words, float64 as sklearn's default).
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if preset == "u4":
        vec = TfidfVectorizer(**U4_FEATURES)
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


def score(
    X: Any, train_idx: list[int], y: list[int], seed: int = 0, model: str | None = None
) -> Any:
    """Relevance scores (higher = more likely relevant) for every row of X, trained on rows train_idx.

    Models, compared by mean WSS@95 on ../shared/data/screening (8 sets x 2 seeds, 1+1 priors,
    title/abstract labels | final labels): ``svm-pos`` (default) C=0.2 with relevant records
    up-weighted 9.8x as ASReview's ELAS u4 does: 35.9 | 44.0 (C=0.11 as ELAS u4: 35.4 | 43.8;
    C=0.11, 20x: 34.3 | 45.1); ``svm``
    class-balanced, C=0.5: 35.6 | 41.3 (C=1: 34.9, C=0.3: 35.5, C=0.1: 34.6 on title/abstract);
    ``ensemble`` (sum of both models' ranks): 35.1 | -. Measured and dropped: naive Bayes 30.9,
    SGD log-loss 32.8, logistic regression (liblinear: 20x slower to fit, 48.2 vs 46.6 on one set).
    """
    import numpy as np

    name = model or MODEL
    if isinstance(X, tuple):  # an ensemble: the sum of each feature set's model's ranks
        parts = [score(part, train_idx, y, seed, name) for part in X]
        return sum(_ranks(v) for v in parts) + 1e-6 * sum(parts)
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
    if name == "ensemble":
        a = _svm(X, train_idx, yy, seed, 0.5, None)
        b = _svm(X, train_idx, yy, seed, 0.11, 9.8)
        return _ranks(a) + _ranks(b) + 1e-6 * (a + b)
    raise ValueError(f"unknown model {name!r}")


@dataclass(frozen=True)
class Recipe:
    """One way to prioritise: the text read, the TF-IDF preset, the scorer and the retraining
    schedule (``every`` record, or ``batch`` as simulate.py describes)."""

    name: str
    text: Callable[[str | None, str | None], str]
    tfidf: str
    scorer: str
    schedule: str
    features: str = "tfidf"  # tfidf | embedding | both | ensemble (TF-IDF and embedding models)


RECIPES: dict[str, Recipe] = {
    "u4": Recipe("u4", u4_text, "u4", "u4", "every"),
    "u4-fast": Recipe("u4-fast", u4_text, "u4", "u4", "fast"),
    "ensemble": Recipe("ensemble", u4_text, "u4", "u4", "fast", "ensemble"),
    "both": Recipe("both", u4_text, "u4", "u4", "fast", "both"),
    "u4-pn": Recipe("u4-pn", u4_text, "u4", "u4-pn", "fast"),
    "u4-t2": Recipe("u4-t2", text_of, "u4", "u4", "fast"),
    "u4-pn10": Recipe("u4-pn10", u4_text, "u4", "u4-pn10", "fast"),
    "t2-sw": Recipe("t2-sw", text_of, "default", "u4", "fast"),
    "t2-views": Recipe("t2-views", text_of, "u4+default", "u4", "fast"),
    "t2-emb": Recipe("t2-emb", text_of, "u4", "u4", "fast", "ensemble"),
    "classic": Recipe("classic", text_of, "default", "svm-pos", "batch"),
}
DEFAULT_RECIPE = "u4-t2"


def recipe(name: str | None) -> Recipe:
    try:
        return RECIPES[name or DEFAULT_RECIPE]
    except KeyError:
        raise ScreenError(f"unknown model {name!r}; expected one of {', '.join(RECIPES)}")


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
) -> list[int]:
    """Unscreened eligible work ids, best first (order: relevance | random | oldest).

    ``features`` (default ``DEFAULT_FEATURES``): see ``work_features``.
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
    ids, X = work_features(ws, features)
    pos = {w: i for i, w in enumerate(ids)}
    train = [(pos[w], y) for w, y in labels.items() if w in pos]
    scores = score(X, [i for i, _ in train], [y for _, y in train], seed, recipe(None).scorer)
    todo = [w for w in todo if w in pos]
    return sorted(todo, key=lambda w: (-float(scores[pos[w]]), w))


_CACHE: dict[str, tuple[tuple[Any, ...], list[int], Any]] = {}
EMBED_MODEL = "all-MiniLM-L6-v2"  # the workspace embeddings cache's model (review themes)


def work_features(ws: Workspace, features: str | None = None) -> tuple[list[int], Any]:
    """(active work ids, feature matrix), cached per workspace until the works change.

    ``features`` (default ``DEFAULT_FEATURES``): ``embedding``/``both`` use the workspace
    embeddings cache (``review themes`` fills it) only when it holds a vector for every active
    work with a title or abstract; otherwise the matrix is TF-IDF alone. No model is loaded here.
    The key is (count, max id, latest update) of the active works plus the number of cached
    vectors, so a new import, a merge, an edited abstract or new embeddings rebuild it; screening
    decisions do not.
    """
    want = features or DEFAULT_FEATURES
    if want not in FEATURE_SETS:
        raise ScreenError(f"unknown features {want!r}; expected one of {', '.join(FEATURE_SETS)}")
    rec = recipe(None)
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
    X = build_features([rec.text(r[1], r[2]) for r in rows], rec.tfidf)
    if want != "tfidf":
        emb = cached_embeddings(ws, [(r[1], r[2], r[3]) for r in rows])
        if emb is not None:
            X = combine_features(X, emb, want)
    _CACHE[str(ws.path)] = (key, ids, X)
    return ids, X


def cached_embeddings(ws: Workspace, works: list[tuple[str | None, str | None, str | None]]) -> Any:
    """Cached vectors for (title, abstract, content_hash) rows, zeros for works without text;
    None when any work with text has no cached vector (or the cache is empty)."""
    import numpy as np

    from ..models import text_hash
    from ..themes.embed import cached_matrix

    hashes: list[str | None] = []
    for title, abstract, h in works:
        text = f"{title or ''}\n{abstract or ''}".strip()
        hashes.append((h or text_hash(text)) if text else None)
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
