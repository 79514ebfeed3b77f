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
