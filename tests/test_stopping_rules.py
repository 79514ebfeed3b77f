"""Stopping rules replayed on simulated reviews (review/screen/stoprules.py): synthetic rankings
whose stop points can be worked out by hand, and ELAS u4's settings as ASReview 3.0.8 has them."""

from __future__ import annotations

import math
import random

import pytest

from review.screen import priority, stoprules


def test_u4_settings_are_asreview_308():
    # asreview/models/models.py (3.0.8), AI_MODEL_CONFIGURATIONS "elas_u4"
    assert priority.U4_FEATURES == {
        "ngram_range": (1, 2),
        "sublinear_tf": True,
        "min_df": 1,
        "max_df": 0.95,
    }
    assert priority.U4_C == 0.11 and priority.U4_RATIO == 9.8
    r = priority.recipe("u4")
    assert (r.tfidf, r.scorer, r.schedule, r.features) == ("u4", "u4", "every", "tfidf")
    # TextMerger: " ".join of title and abstract, missing values as ""; the title once
    assert priority.u4_text("A title", "An abstract") == "A title An abstract"
    assert priority.u4_text(None, "abstract") == " abstract"
    assert r.text is priority.u4_text


def test_u4_tfidf_keeps_stop_words_and_rare_terms():
    texts = [f"the cat number{i} sat on the mat" for i in range(60)]
    X = priority.build_features(texts, "u4")
    default = priority.build_features(texts)
    # u4: no stop-word list, min_df 1 (number0 .. number59 and their bigrams kept), max_df 0.95
    # drops the terms in every text; ours drops English stop words and terms in < 2 texts
    assert X.shape[1] == 60 * 3  # numberI, "cat numberI", "numberI sat"
    assert default.shape[1] < X.shape[1]


def test_balanced_weights_as_asreview():
    w = priority.balanced_weights([1, 0, 0, 0], 9.8)
    # {1: 1, 0: 1 / (9.8 * 3)} rescaled to sum to 4
    raw = [1.0] + [1 / (9.8 * 3)] * 3
    assert list(w) == pytest.approx([x * 4 / sum(raw) for x in raw])
    assert float(w.sum()) == pytest.approx(4.0)


def _front_loaded(n=2000, every=5, first=200):
    """40 relevant records, one in every 5 of the first 200, then none."""
    return [1 if (i < first and i % every == 0) else 0 for i in range(n)]


def test_knee_stops_where_the_slope_ratio_reaches_the_threshold():
    labels = _front_loaded()
    # the knee is record 196 (the 40th relevant); rho(s) = (40/196) / (1/(s-196)) >= 156 - 40
    # first holds at s - 196 >= 568.4, so s = 765
    assert stoprules.knee_stop(labels) == 765
    stop = stoprules.knee(labels, list(range(2000)))
    assert stop.screened == 765 and stop.recall == 1.0
    assert stoprules.knee_rho([1] * 10 + [0] * 300) == pytest.approx(300.0)
    assert stoprules.knee_threshold(3) == 153 and stoprules.knee_threshold(400) == 6


def test_knee_never_stops_before_150_or_on_a_random_looking_curve():
    assert stoprules.knee_stop([1] * 20 + [0] * 120) is None  # only 140 records
    flat = [1 if i % 10 == 0 else 0 for i in range(1000)]  # no knee: relevant all along
    assert stoprules.knee_stop(flat) is None


def test_target_set_size():
    assert stoprules.target_size(0.95, 0.95) == 59  # 0.95^59 < 0.05 <= 0.95^58
    assert 0.95**59 < 0.05 <= 0.95**58
    assert stoprules.target_size(0.7, 0.95) == math.ceil(math.log(0.05) / math.log(0.7))


def test_target_method_needs_enough_relevant_records():
    labels = _front_loaded()  # 40 relevant < 59: the random sample takes every record
    assert stoprules.target_method(labels, list(range(2000))) == stoprules.Stop(2000, 1.0)


def test_target_method_on_a_perfect_ranking():
    n, rel = 3000, 300
    labels = [1 if i < rel else 0 for i in range(n)]
    stop = stoprules.target_method(labels, list(range(n)), seed=3)
    # the seeded random sample runs until it holds 59 relevant records (the target set); the
    # perfect ranking then reads records 0, 1, ... up to the last target record t. Screened: the
    # sample plus the ranked records 0..t it did not hold; found: exactly records 0..t.
    pool = list(range(n))
    random.Random(3 + stoprules.TARGET_SALT).shuffle(pool)
    hits = [j for j, i in enumerate(pool) if labels[i]]
    sample = pool[: hits[58] + 1]
    t = max(i for i in sample if labels[i])
    assert sum(labels[i] for i in sample) == 59 and 59 <= t < rel
    assert stop == stoprules.Stop(len(set(sample) | set(range(t + 1))), (t + 1) / rel)
    assert stop.screened < n and stop.recall < 1.0  # this seed's targets end before record 299


def test_safe_stops_after_both_phases():
    n = 1000
    rand = set(stoprules.safe_sample(n, seed=0))
    assert len(rand) == 10
    # 20 relevant records ranked first, none in the random sample: the estimate is 0, so phase
    # 2 needs 10% screened (100) and 50 irrelevant in a row, phase 3 another 50 in a row
    relevant = [i for i in range(n) if i not in rand][:20]
    labels = [0] * n
    for i in relevant:
        labels[i] = 1
    order = relevant + [i for i in range(n) if i not in set(relevant)]
    stop = stoprules.safe(labels, order, n_priors=2, seed=0)
    assert stop.screened == 150 and stop.recall == 1.0


def test_heuristic_and_apply_all():
    labels = _front_loaded()
    order = list(range(2000))
    assert stoprules.heuristic(labels, order, 2) == stoprules.Stop(246, 1.0)  # 196 + 50
    every = stoprules.apply_all(labels, order, 2)
    assert set(every) == set(stoprules.RULES)
    assert every["knee"].screened == 765
    for rule in stoprules.RULES:
        assert stoprules.describe(rule)
    assert "59 relevant" in stoprules.describe("target")
