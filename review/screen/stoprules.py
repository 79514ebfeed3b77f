"""Stopping rules replayed on a simulated review (pure; used by ``review simulate`` and the benchmark).

Each rule takes the labels (1 relevant / 0 irrelevant, by record index), the screening order that
prioritised screening produced (priors first) and returns a ``Stop``: records screened when the
rule says stop (priors and any random sample included) and the recall then.

- ``cmh``: Callaghan & Müller-Hansen (2020), as published: ranked screening until ``trigger``
  irrelevant in a row, then records drawn at random from the rest, testing H0 "recall < target"
  with a hypergeometric test after every draw (``simulate.stop_by_sampling``). Assumes the random
  draws are a simple random sample of the records left. A statistical guarantee. The app's
  default too: ``review status`` and ``review screen`` run it with a stored random order
  (``sampling.py``).
- ``ranked``: the same test on the ranked screening sequence itself (BUSCAR): every suffix is
  treated as the urn sample. What ``review status`` ran before issue 15; now only with the
  protocol's ``[screening] stopping = "ranked"``. Assumes ranked records are at least as likely
  to be relevant as random ones; reached the target in 42 of 45 benchmark runs.
- ``knee``: Cormack & Grossman (2016): after at least ``KNEE_MIN`` records, find the knee of the
  gain curve (the point farthest above the line from the origin to the current point) and stop
  when the slope before the knee over the slope after it, ``rho = (r_k / k) / ((r_s - r_k + 1) /
  (s - k))``, reaches ``156 - min(r_s, 150)``. Assumes the ranking front-loads relevant records so
  a flat curve means few remain. A heuristic, no guarantee.
- ``target``: Cormack & Grossman's (2016) target method: draw records at random until ``K``
  relevant ones (the target set) are found, then screen in ranked order until every target record
  is found. ``K = ceil(ln(1 - confidence) / ln(target))`` (59 for 95% / 95%): if recall were below
  the target, all K random relevant records would be found with probability < 1 - confidence.
  Assumes the target set is a random sample of the relevant records; it costs a random sample
  that large, which can be most of a set with few relevant records.
- ``safe``: ASReview's SAFE procedure (Boetje & van de Schoot 2024) as a stopping heuristic:
  screen a random 1% (at least ``SAFE_MIN_RANDOM``) to estimate how many records are relevant, then
  ranked screening until all three hold: at least twice the estimated number of relevant records
  screened, at least 10% of all records screened, and ``SAFE_RUN`` irrelevant in a row; then keep
  screening until another ``SAFE_RUN`` irrelevant in a row (SAFE's phase 3 re-ranks with a second
  model first; here the same ranking continues). A heuristic, no guarantee.
- ``heuristic``: stop after ``SAFE_RUN`` irrelevant records in a row (ASReview's
  NConsecutiveIrrelevant), shown for comparison.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .recipes import STOP_RULES

RULES = STOP_RULES  # the names, from the light recipes module (the CLI lists them from there)
DEFAULT_RULE = "cmh"  # see benchmarks/README.md: the rule meeting >= 95% recall in >= 95% of runs
TARGET_SALT = 104729  # the target method's random sample: random.Random(seed + TARGET_SALT)
SAFE_SALT = 15485863  # SAFE's random first phase: random.Random(seed + SAFE_SALT)
ASSUMES = {
    "cmh": "Callaghan & Müller-Hansen 2020: after {trigger} irrelevant in a row, screen records in"
    " random order and stop when a hypergeometric test rejects recall < {target:.0%} at"
    " {confidence:.0%} confidence; assumes the random draws are a simple random sample",
    "ranked": "Callaghan & Müller-Hansen's test on the ranked screening itself (BUSCAR; the app"
    ' runs it only with [screening] stopping = "ranked", its default is the published rule):'
    " stop when the hypergeometric test over the last records screened"
    " rejects recall < {target:.0%} at {confidence:.0%} confidence; assumes records screened in"
    " ranked order are at least as likely to be relevant as records drawn at random from the rest",
    "knee": "Cormack & Grossman 2016 knee method: stop when the gain curve's slope before its knee"
    " is >= 156 - min(relevant found, 150) times the slope after it (at least 150 screened);"
    " assumes the ranking front-loads relevant records; no guarantee",
    "target": "Cormack & Grossman 2016 target method: a random sample until {k} relevant records"
    " (the target set), then ranked screening until all of them are found; assumes the sample is"
    " random",
    "safe": "ASReview SAFE heuristic: a random 1% first, then stop after at least twice the"
    " estimated relevant count and 10% of records are screened and 50 irrelevant in a row, then"
    " 50 more; no guarantee",
    "heuristic": "stop after 50 irrelevant records in a row; no guarantee",
}


def describe(
    rule: str,
    target: float = 0.95,
    confidence: float = 0.95,
    trigger: str = "5% of the records (at least 50)",
) -> str:
    """What a rule does and assumes, in one line."""
    return ASSUMES[rule].format(
        target=target, confidence=confidence, k=target_size(target, confidence), trigger=trigger
    )


KNEE_MIN = 150
SAFE_RUN = 50
SAFE_MIN_RANDOM = 10


@dataclass(frozen=True)
class Stop:
    screened: int  # records screened when the rule stopped (n = it never stopped)
    recall: float

    def saved(self, n_records: int) -> float:
        return 1 - self.screened / n_records if n_records else 0.0


def _recall(labels: Sequence[int], screened: Sequence[int]) -> float:
    total = sum(labels)
    return sum(labels[i] for i in screened) / total if total else 1.0


def _rho(g: Any, idx: Any, s: int) -> float:
    r_s = int(g[s - 1])
    d = g[: s - 1] * s - idx[: s - 1] * r_s  # proportional to the height above the diagonal
    k = int(np.argmax(d)) + 1
    r_k = int(g[k - 1])
    return (r_k / k) / ((r_s - r_k + 1) / (s - k))


def knee_rho(labels_in_order: Sequence[int]) -> float:
    """Cormack & Grossman's slope ratio at the knee of a screening sequence's gain curve: the
    knee k is the point farthest above the line from the origin to (s, relevant found)."""
    s = len(labels_in_order)
    if s < 2 or not any(labels_in_order):
        return 0.0
    g = np.cumsum(np.asarray(labels_in_order, dtype=np.int64))
    return _rho(g, np.arange(1, s + 1), s)


def knee_threshold(found: int) -> float:
    return 156 - min(found, 150)


def knee_stop(labels_in_order: Sequence[int], min_records: int = KNEE_MIN) -> int | None:
    """Records screened when the knee method stops on this screening sequence (None: never).
    Checked after every record from ``min_records`` on."""
    g = np.cumsum(np.asarray(labels_in_order, dtype=np.int64))
    idx = np.arange(1, len(g) + 1)
    for s in range(max(min_records, 2), len(g) + 1):
        r_s = int(g[s - 1])
        if r_s and _rho(g, idx, s) >= knee_threshold(r_s):
            return s
    return None


def knee(labels: Sequence[int], order: Sequence[int]) -> Stop:
    s = knee_stop([labels[i] for i in order])
    if s is None:
        return Stop(len(order), 1.0)
    return Stop(s, _recall(labels, order[:s]))


def target_size(target: float = 0.95, confidence: float = 0.95) -> int:
    return math.ceil(math.log(1 - confidence) / math.log(target) - 1e-12)


def target_method(
    labels: Sequence[int],
    order: Sequence[int],
    target: float = 0.95,
    confidence: float = 0.95,
    seed: int = 0,
) -> Stop:
    n = len(order)
    k = target_size(target, confidence)
    pool = list(range(len(labels)))
    random.Random(seed + TARGET_SALT).shuffle(pool)
    sample: list[int] = []
    found = 0
    for i in pool:
        sample.append(i)
        found += labels[i]
        if found >= k:
            break
    if found < k:  # fewer relevant records than the target set needs: everything was drawn
        return Stop(n, 1.0)
    targets = {i for i in sample if labels[i]}
    seen = set(sample)
    for i in order:
        if not targets:
            break
        seen.add(i)
        targets.discard(i)
    return Stop(len(seen), _recall(labels, list(seen)))


def safe_sample(n: int, seed: int = 0) -> list[int]:
    """SAFE's random first phase: 1% of the records (at least SAFE_MIN_RANDOM), seeded."""
    pool = list(range(n))
    random.Random(seed + SAFE_SALT).shuffle(pool)
    return pool[: min(n, max(SAFE_MIN_RANDOM, math.ceil(0.01 * n)))]


def safe(labels: Sequence[int], order: Sequence[int], n_priors: int, seed: int = 0) -> Stop:
    n = len(order)
    rand = safe_sample(n, seed)
    m = len(rand)
    est_relevant = n * sum(labels[i] for i in rand) / m
    seen = set(rand) | set(order[:n_priors])
    run, phase = 0, 2
    for i in order[n_priors:]:
        if i in seen:
            continue
        seen.add(i)
        run = 0 if labels[i] else run + 1
        if phase == 2 and run >= SAFE_RUN and len(seen) >= max(2 * est_relevant, 0.1 * n):
            phase, run = 3, 0
        elif phase == 3 and run >= SAFE_RUN:
            return Stop(len(seen), _recall(labels, list(seen)))
    return Stop(n, 1.0)


def ranked(
    labels: Sequence[int], order: Sequence[int], n_priors: int, target: float, confidence: float
) -> Stop:
    """The workspace's rule (stopping.buscar_p over every suffix) applied after each record,
    checked every ~0.5% of the records and then record by record within the last step."""
    from .stopping import buscar_p

    n = len(order)
    seq = [labels[i] for i in order]

    def stops(s: int) -> bool:
        return s > n_priors and any(seq[:s]) and buscar_p(seq[:s], n, target) < 1 - confidence

    step = max(1, n // 200)
    prev = 0
    for s in range(step, n + step, step):
        s = min(s, n)
        if stops(s):
            for t in range(prev + 1, s + 1):
                if stops(t):
                    return Stop(t, _recall(labels, order[:t]))
        prev = s
    return Stop(n, 1.0)


def heuristic(labels: Sequence[int], order: Sequence[int], n_priors: int) -> Stop:
    run = 0
    for j, i in enumerate(order):
        run = 0 if labels[i] else run + 1
        if j + 1 > n_priors and run >= SAFE_RUN:
            return Stop(j + 1, _recall(labels, order[: j + 1]))
    return Stop(len(order), 1.0)


def apply_all(
    labels: Sequence[int],
    order: Sequence[int],
    n_priors: int,
    target: float = 0.95,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Stop]:
    """Every rule on one simulated review."""
    from .simulate import stop_by_sampling

    s, r = stop_by_sampling(labels, order, n_priors, target, confidence, seed=seed)
    return {
        "cmh": Stop(s, r),
        "ranked": ranked(labels, order, n_priors, target, confidence),
        "knee": knee(labels, order),
        "target": target_method(labels, order, target, confidence, seed),
        "safe": safe(labels, order, n_priors, seed),
        "heuristic": heuristic(labels, order, n_priors),
    }
