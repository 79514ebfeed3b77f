"""When is it safe to stop screening? Callaghan & Müller-Hansen's (2020) statistical stopping rule.

The rule tests H0 "recall < target" with a hypergeometric test on records screened in random order
(an urn) after active learning. If H0 holds, at least ``K_tar = floor(r_seen / target - r_al) + 1``
relevant records were in the urn when sampling began (``r_al`` found before it, ``r_seen`` found in
all); the p-value is the chance of drawing at most the ``k`` relevant records we did draw in ``n``
draws from an urn of ``N`` records with ``K_tar`` relevant. Stop when ``p < 1 - confidence``.

``stopping_status`` runs the rule AS PUBLISHED by default (protocol ``[screening] stopping =
"cmh"``): ranked screening until the trigger (5% of the eligible records irrelevant in a row, at
least 50, as ``review simulate``'s ``cmh``), then a random-sample phase whose urn order is stored
in the workspace (``sampling.py``); the test runs on the decided prefix of that order only, so it
never stops before the sample (in simulation it reached the target in 44 of 45 runs,
benchmarks/README.md). ``stopping = "ranked"`` keeps the BUSCAR form instead: every suffix of the
screening sequence is treated as the urn sample and the smallest p-value counts; it assumes ranked
records are at least as likely to be relevant as random ones, and reached the target in only 42 of
45 simulated runs. The "N consecutive irrelevant" heuristic is reported alongside, as information.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from ..store import Workspace
from ..store.workspace import now

METHOD = "callaghan-muller-hansen-2020"
HEURISTIC_N = 50  # the consecutive-irrelevant count shown as a hint


def k_target(r_seen: int, r_al: int, target: float) -> int:
    """Fewest relevant records the urn must have held for recall to be below target (H0)."""
    return math.floor(r_seen / target - r_al) + 1


def hypergeom_p(urn: int, n: int, k: int, r_seen: int, r_al: int, target: float) -> float:
    """p-value of H0 "recall < target" after drawing n of an urn of size urn and finding k relevant."""
    kt = k_target(r_seen, r_al, target)
    if kt > urn:  # H0 would need more relevant records than there are records: reject it
        return 0.0
    return float(hypergeom_cdf([k], [urn], [kt], [n])[0])


_LF: list[Any] = []  # the log-factorial table, grown on demand


def _log_factorials(m: int) -> Any:
    """log(i!) for i in 0..m at least: math.lgamma every 512 entries, running sums of log(i)
    between (error ~1e-13; one running sum drifts to ~1e-8 at 100k; lgamma per entry: ~40 ms)."""
    import numpy as np

    if _LF and len(_LF[0]) > m:
        return _LF[0]
    b = 512
    size = max(m + 1, 2 * len(_LF[0]) if _LF else 0, 4096)
    blocks = -(-size // b)
    steps = np.log(np.maximum(np.arange(blocks * b, dtype=np.float64), 1.0)).reshape(blocks, b)
    steps[:, 0] = 0.0  # each block starts at its exact base
    base = np.array([math.lgamma(k * b + 1.0) for k in range(blocks)])
    table = (np.cumsum(steps, axis=1) + base[:, None]).ravel()
    _LF[:] = [table]
    return table


def hypergeom_cdf(k: Any, total: Any, good: Any, n: Any) -> Any:
    """P(X <= k) for X ~ Hypergeometric(total records, good relevant, n drawn), elementwise.

    Same values as ``scipy.stats.hypergeom.cdf(k, total, good, n)`` (tested against it) without
    importing scipy.stats (~1-2 s): each value sums the pmf outward from k along its monotone
    side (below the mode: down to the lower bound; above it: 1 - the upper tail), vectorised over
    every element, stopping once the remaining terms are below 1e-17 of the sum.
    """
    import numpy as np

    k, N, K, n = (np.asarray(a, dtype=np.int64) for a in np.broadcast_arrays(k, total, good, n))
    out = np.zeros(k.shape, dtype=np.float64)
    if k.size == 0:
        return out
    lo = np.maximum(0, n + K - N)
    hi = np.minimum(n, K)
    out[k >= hi] = 1.0
    mid = (k >= lo) & (k < hi)
    if not mid.any():
        return out
    lf = _log_factorials(int(N.max()))
    mode = ((n + 1) * (K + 1)) // (N + 2)

    def logpmf(i: Any, N: Any, K: Any, n: Any) -> Any:
        return (
            lf[K] - lf[i] - lf[K - i] + lf[N - K] - lf[n - i] - lf[N - K - n + i]
            - lf[N] + lf[n] + lf[N - n]
        )  # fmt: skip

    for upper in (False, True):
        sel = np.flatnonzero(mid & ((k > mode) if upper else (k <= mode)))
        if sel.size == 0:
            continue
        kk, NN, KK, nn = k[sel], N[sel], K[sel], n[sel]
        i = kk + 1 if upper else kk.copy()
        term = np.exp(logpmf(i, NN, KK, nn))
        acc = term.copy()
        end = np.minimum(nn, KK) if upper else lo[sel]
        while True:
            live = (i < end) if upper else (i > end)
            live &= term > 1e-17 * acc
            if not live.any():
                break
            j, t = i[live], term[live]
            a, b, c = NN[live], KK[live], nn[live]
            if upper:  # pmf(j + 1) / pmf(j)
                t = t * ((b - j) * (c - j)) / ((j + 1) * (a - b - c + j + 1))
                i[live] = j + 1
            else:  # pmf(j - 1) / pmf(j)
                t = t * (j * (a - b - c + j)) / ((b - j + 1) * (c - j + 1))
                i[live] = j - 1
            term[live] = t
            acc[live] += t
        out[sel] = np.clip(1.0 - acc, 0.0, 1.0) if upper else np.minimum(acc, 1.0)
    return out


def buscar_p(labels: Sequence[int], n_total: int, target: float) -> float:
    """Smallest p-value of H0 over every suffix of a screening sequence (BUSCAR).

    labels: 1 relevant / 0 irrelevant in screening order; n_total: records eligible in all.
    """
    import numpy as np

    y = np.asarray(labels, dtype=np.int64)
    if len(y) == 0:
        return 1.0
    r_seen = int(y.sum())
    rev = y[::-1]
    n = np.arange(1, len(y) + 1)  # sample sizes: the last 1, 2, ... records screened
    k = np.cumsum(rev)  # relevant in each sample
    remaining = n_total - len(y)
    urn = n + remaining
    r_al = r_seen - k
    kt = (np.floor(r_seen / target - r_al) + 1).astype(np.int64)
    p = hypergeom_cdf(k, urn, np.minimum(kt, urn), n)
    p = np.where(kt > urn, 0.0, p)
    return float(np.min(p))


ASSUMES_CMH = (
    "the records drawn after the switch to random order are a simple random sample of the records"
    " left unscreened when it began (the app stores the urn's random order; only the decided"
    " prefix of that order counts) and the decisions are right; then p < 1 - confidence is"
    " evidence that recall >= target (in simulation 44 of 45 runs reached it)"
)
ASSUMES = (
    "every record screened from some point on is at least as likely to be relevant as one drawn"
    " at random from those left (true when screening follows the relevance ranking or a random"
    " order); then p < 1 - confidence is evidence that recall >= target (in simulation 42 of 45"
    " runs reached it)"
)


def irrelevant_needed(
    labels: Sequence[int], n_total: int, target: float, confidence: float
) -> int | None:
    """How many more irrelevant records in a row would let the rule stop (None: even screening
    every record left would not); found by bisection over appended irrelevant records."""
    remaining = n_total - len(labels)
    base = list(labels)

    def stops(m: int) -> bool:
        return buscar_p(base + [0] * m, n_total, target) < 1 - confidence

    if remaining <= 0 or not stops(remaining):
        return None if remaining > 0 else 0
    return smallest(stops, remaining)


def smallest(holds: Callable[[int], bool], hi: int) -> int:
    """The smallest m in [0, hi] for which ``holds(m)``, by bisection (``holds`` monotone and
    true at ``hi``)."""
    lo = 0
    while lo < hi:
        mid = (lo + hi) // 2
        if holds(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def describe(status: dict[str, Any]) -> str:
    """One line for `review status` and the TUI: which rule, what it assumes, how far from stopping."""
    at = f"recall >= {status['target_recall']:.0%} at {status['confidence']:.0%} confidence"
    if status.get("rule", "ranked") == "cmh":
        rule = (
            f"Stopping rule: Callaghan & Müller-Hansen 2020 as published ({at}; ranked screening,"
            " then a random sample)"
        )
        phase = {"ranked": "ranked phase", "sample": "random-sample phase"}.get(
            status.get("phase") or "", "ranked phase"
        )
        far = "met" if status.get("should_stop") else f"now in the {phase}"
        return f"{rule}: {far}. Assumes {status.get('assumes', ASSUMES_CMH)}."
    rule = f"Stopping rule: Callaghan & Müller-Hansen 2020, ranked form (BUSCAR; {at})"
    need = status.get("irrelevant_to_stop")
    if status.get("should_stop"):
        far = "met"
    elif not status.get("n_relevant_found"):
        far = "needs a relevant record first"
    elif need is None:
        far = "cannot stop before every record is screened"
    else:
        far = f"p = {status['p_value']:.3f}; about {need} more irrelevant in a row would stop it"
    return f"{rule}: {far}. Assumes {status.get('assumes', ASSUMES)}."


def consecutive_irrelevant(labels: Sequence[int]) -> int:
    """Irrelevant records screened since the last relevant one."""
    c = 0
    for v in reversed(labels):
        if v:
            break
        c += 1
    return c


def screening_sequence(
    ws: Workspace, stage: str, reviewer: str | None = None, active_only: bool = False
) -> list[tuple[int, int]]:
    """[(work_id, 1 relevant | 0 irrelevant)] in the order the works were first decided
    (``active_only``: only works still active, i.e. not merged away)."""
    # one pass over the stage's rows: first and latest row per (work, reviewer), then per work
    sql = """
    SELECT g.work_id, MIN(g.first_id) AS first_id, MAX(d.decision IN ('include','maybe')) AS rel
    FROM (SELECT work_id, MIN(id) AS first_id, MAX(id) AS last_id FROM decisions
          WHERE stage = ? {rev} GROUP BY work_id, reviewer) g
    JOIN decisions d ON d.id = g.last_id {active}
    WHERE d.decision != 'retract'
    GROUP BY g.work_id ORDER BY first_id
    """
    params: list[Any] = [stage]
    rev = ""
    if reviewer is not None:
        rev = "AND reviewer = ?"
        params.append(reviewer)
    active = "JOIN works w ON w.id = g.work_id AND w.active = 1" if active_only else ""
    return [(r[0], int(r[2])) for r in ws.db.execute(sql.format(rev=rev, active=active), params)]


def estimate(labels: Sequence[int], remaining: int) -> tuple[float, float]:
    """A point estimate of relevant records left and of recall: the rate among the last 10%
    screened (at least 50), applied to what is left. Information only; the test decides."""
    found = int(sum(labels))
    tail = list(labels[-max(50, len(labels) // 10) :])
    rate = (sum(tail) / len(tail)) if tail else 0.0
    est_left = round(rate * remaining, 1)
    est_recall = found / (found + est_left) if found + est_left > 0 else 0.0
    return est_left, round(est_recall, 4)


def sequence_facts(
    labels: Sequence[int], n_total: int, target: float, confidence: float
) -> dict[str, Any]:
    """What both rules report of a screening sequence, whatever they conclude from it."""
    n_screened, found = len(labels), int(sum(labels))
    remaining = max(n_total - n_screened, 0)
    est_left, est_recall = estimate(labels, remaining)
    cons = consecutive_irrelevant(labels)
    return {
        "method": METHOD,
        "target_recall": target,
        "confidence": confidence,
        "n_screened": n_screened,
        "n_remaining": remaining,
        "n_relevant_found": found,
        "est_relevant_remaining": est_left,
        "estimated_recall": est_recall,
        "consecutive_irrelevant": cons,
        "heuristic_stop": cons >= HEURISTIC_N,
    }


def evaluate(
    labels: Sequence[int], n_total: int, target: float, confidence: float
) -> dict[str, Any]:
    """The stopping status of a screening sequence (pure; used by stopping_status)."""
    facts = sequence_facts(labels, n_total, target, confidence)
    n_screened, found = facts["n_screened"], facts["n_relevant_found"]
    remaining, cons = facts["n_remaining"], facts["consecutive_irrelevant"]
    p = buscar_p(labels, n_total, target) if n_screened and found else 1.0
    should_stop = bool(found) and (remaining == 0 or p < 1 - confidence)
    if not found:
        msg = "no relevant record yet: keep screening"
    elif should_stop and remaining == 0:
        msg = "every eligible record is screened"
    elif should_stop:
        msg = (
            f"safe to stop: recall >= {target:.0%} at {confidence:.0%} confidence (p = {p:.3f});"
            f" {cons} irrelevant in a row"
        )
    else:
        msg = (
            f"keep screening: cannot yet show recall >= {target:.0%} (p = {p:.3f});"
            f" {cons} irrelevant in a row"
        )
        if cons >= HEURISTIC_N:
            msg += f" (the {HEURISTIC_N}-in-a-row heuristic would stop)"
    to_stop = (
        None if should_stop or not found else irrelevant_needed(labels, n_total, target, confidence)
    )
    return facts | {
        "rule": "ranked",
        "phase": None,  # the ranked form has no random-sample phase
        "assumes": ASSUMES,
        "irrelevant_to_stop": to_stop,
        "p_value": round(p, 6),
        "should_stop": should_stop,
        "message": msg,
    }


def stopping_status(
    ws: Workspace,
    stage: str,
    reviewer: str | None = None,
    log: bool | None = None,
    start: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Where the stopping rule stands for a stage (and reviewer; None = the whole team).

    ``start``: enter the random-sample phase if the trigger has been reached (the screening
    app's estimate does; `review status` only reads). Logs the decision into ``stopping_log``
    when should_stop changes from the last logged value (log=None), always (log=True) or never
    (log=False).
    """
    from .sampling import evaluate_cmh, rule_of, sample_state, scope, serving_phase

    proto = ws.protocol()
    target = proto.target_recall if proto else 0.95
    confidence = proto.confidence if proto else 0.95
    rule = rule_of(ws)
    pairs, n_total = scope(ws, stage, reviewer)  # read once: the trigger and the test share it
    seq = [y for _, y in pairs]
    if rule == "ranked":
        status = evaluate(seq, n_total, target, confidence)
    else:
        trigger = "trigger" if start else None
        phase = serving_phase(ws, stage, reviewer, seed, trigger, scoped=(pairs, n_total))
        state = sample_state(ws, phase, reviewer, pairs) if phase else None
        status = evaluate_cmh(seq, n_total, target, confidence, phase, state)
    status["reviewer"] = reviewer
    if reviewer is None and status.get("phase") == "ranked" and status.get("to_sample") == 0:
        if not status["should_stop"]:  # the app starts the sample per reviewer, not the team's
            status["message"] = (
                f"ranked phase: {status['trigger']} irrelevant in a row reached in the team's"
                " sequence; each reviewer's screening app starts their own random sample"
            )
    if log is None:
        last = last_logged(ws, stage, reviewer)
        log = bool(last["should_stop"]) != status["should_stop"] if last else status["should_stop"]
    if log:
        log_status(ws, stage, reviewer, status)
    return status


def last_logged(ws: Workspace, stage: str, reviewer: str | None) -> dict[str, Any] | None:
    rows = list(
        ws.db.query(
            "SELECT * FROM stopping_log WHERE stage = ? AND reviewer IS ? ORDER BY id DESC LIMIT 1",
            [stage, reviewer],
        )
    )
    return rows[0] if rows else None


def log_status(ws: Workspace, stage: str, reviewer: str | None, status: dict[str, Any]) -> int:
    """Append one stopping decision to the append-only stopping_log."""
    params = {"target_recall": status["target_recall"], "confidence": status["confidence"]}
    result = {k: v for k, v in status.items() if k not in params}
    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO stopping_log (created_at, stage, method, params, result, should_stop, reviewer)"
            " VALUES (?,?,?,?,?,?,?)",
            [
                now(),
                stage,
                status["method"],
                json.dumps(params),
                json.dumps(result),
                int(status["should_stop"]),
                reviewer,
            ],
        )
    return int(cur.lastrowid)  # type: ignore[arg-type]
