"""Prioritised screening: order unscreened works by a model retrained on the decisions so far.

Public surface: ``rank_unscreened(ws, stage, reviewer, order, seed)`` for the screening queue, and the
pure pieces shared with ``review simulate``: ``build_features(texts)`` and ``score(X, idx, y, seed)``.
Until at least one relevant (include/maybe) and one irrelevant (exclude) decision exist, the order is
random (seeded) so the first decisions are an unbiased sample.
"""

from __future__ import annotations

import random
from typing import Any

from ..errors import ScreenError
from ..store import Workspace
from ..store.decisions import current_decisions

ORDERS = ("relevance", "random", "oldest")
RELEVANT = ("include", "maybe")


def text_of(title: str | None, abstract: str | None) -> str:
    return f"{title or ''} {title or ''} {abstract or ''}".strip()


def build_features(texts: list[str]) -> Any:
    """TF-IDF uni+bigrams (sublinear tf), a sparse CSR matrix with one row per text."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_df=0.95, stop_words="english"
    )
    try:
        return vec.fit_transform(texts)
    except ValueError:  # empty vocabulary: every text empty
        from scipy.sparse import csr_matrix

        return csr_matrix((len(texts), 1))


def score(X: Any, train_idx: list[int], y: list[int], seed: int = 0) -> Any:
    """Relevance scores (higher = more likely relevant) for every row of X, trained on rows train_idx."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000, random_state=seed)
    model.fit(X[train_idx], np.asarray(y))
    return model.decision_function(X)


# -- workspace side ---------------------------------------------------------------------------------


def _eligible(ws: Workspace, stage: str) -> list[int]:
    try:
        from .queue import eligible_work_ids  # type: ignore[attr-defined]
    except ImportError:
        return _fallback_eligible(ws, stage)
    return list(eligible_work_ids(ws, stage))


def _screened(ws: Workspace, stage: str, reviewer: str | None) -> set[int]:
    try:
        from .queue import screened_work_ids  # type: ignore[attr-defined]
    except ImportError:
        return {d["work_id"] for d in current_decisions(ws, stage=stage, reviewer=reviewer)}
    return set(screened_work_ids(ws, stage, reviewer))


def _fallback_eligible(ws: Workspace, stage: str) -> list[int]:
    proto = ws.protocol()
    stages = list(proto.stages) if proto else ["title-abstract", "full-text"]
    active = [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]
    if stage not in stages or stages.index(stage) == 0:
        return active
    from ..store.decisions import resolved_decisions

    prev = resolved_decisions(ws, stages[stages.index(stage) - 1])
    keep = {w for w, d in prev.items() if d["decision"] in RELEVANT}
    return [w for w in active if w in keep]


def training_labels(ws: Workspace, stage: str, reviewer: str | None = None) -> dict[int, int]:
    """{work_id: 1 relevant (include/maybe) | 0 excluded} from the current decisions at a stage."""
    out: dict[int, int] = {}
    for d in current_decisions(ws, stage=stage, reviewer=reviewer):
        rel = 1 if d["decision"] in RELEVANT else 0
        out[d["work_id"]] = max(out.get(d["work_id"], 0), rel)
    return out


def rank_unscreened(
    ws: Workspace, stage: str, reviewer: str | None = None, order: str = "relevance", seed: int = 0
) -> list[int]:
    """Unscreened eligible work ids, best first (order: relevance | random | oldest)."""
    if order not in ORDERS:
        raise ScreenError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
    eligible = _eligible(ws, stage)
    screened = _screened(ws, stage, reviewer)
    todo = [w for w in eligible if w not in screened]
    if order == "oldest" or len(todo) <= 1:
        return sorted(todo)
    labels = training_labels(ws, stage, reviewer)
    if order == "random" or len(set(labels.values())) < 2:
        rng = random.Random(seed)
        rng.shuffle(todo)
        return todo
    rows = ws.db.execute(
        "SELECT id, title, abstract FROM works WHERE active = 1 ORDER BY id"
    ).fetchall()
    pos = {r[0]: i for i, r in enumerate(rows)}
    X = build_features([text_of(r[1], r[2]) for r in rows])
    train = [(pos[w], y) for w, y in labels.items() if w in pos]
    scores = score(X, [i for i, _ in train], [y for _, y in train], seed)
    todo = [w for w in todo if w in pos]
    return sorted(todo, key=lambda w: (-float(scores[pos[w]]), w))
