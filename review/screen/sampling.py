"""The random-sample phase of Callaghan & Müller-Hansen's (2020) stopping rule, in a workspace.

Screening follows the ranking until the trigger (the ``cmh`` rule of ``review simulate``: 5% of
the eligible records irrelevant in a row, at least 50; ``simulate.default_trigger``; any such run
in the sequence counts, as the app checks after a pause in the keys and a relevant record just
after the run must not hide it). Then the
stage (per reviewer; ``reviewer`` NULL = the whole team) enters the random-sample phase: the
eligible works nobody of that scope has screened form the urn, shuffled once with a seeded RNG
and stored (``sample_order``), and the queue serves them in that order. A ``sample_phases`` row
records the start: seed, decisions and relevant records so far (``r_al``) and the urn's size.

The sample is the longest prefix of the stored order whose works are all decided: a work
decided out of order (a search hit, say) counts only once the prefix reaches it, so the counted
sample is always a simple random sample of the urn. Works that stop being eligible (merged away,
marked not retrieved) leave the urn: they are skipped and the urn shrinks by them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ..errors import ScreenError
from ..store import Workspace
from ..store.workspace import now

# the urn's order: random.Random(seed + SHUFFLE_SALT), also in simulate.stop_by_sampling
SHUFFLE_SALT = 7919


@dataclass(frozen=True)
class Phase:
    id: int
    stage: str
    reviewer: str | None
    started_at: str
    seed: int
    last_decision_id: int | None
    n_screened: int
    r_al: int
    urn: int
    trigger: str


def rule_of(ws: Workspace) -> str:
    """The protocol's stopping rule: "cmh" (the published rule, the default) or "ranked"."""
    proto = ws.protocol()
    return proto.stopping if proto else "cmh"


def trigger_size(n_total: int) -> int:
    """Irrelevant records in a row that end ranked screening (``simulate.default_trigger``)."""
    from .simulate import default_trigger

    return int(default_trigger(n_total))


def longest_run(labels: list[int]) -> int:
    """The longest run of irrelevant records anywhere in a screening sequence."""
    best = cur = 0
    for v in labels:
        cur = 0 if v else cur + 1
        best = max(best, cur)
    return best


def current_phase(ws: Workspace, stage: str, reviewer: str | None) -> Phase | None:
    """The latest sample phase of a stage for a reviewer (None: the team's), if any."""
    row = ws.db.execute(
        "SELECT id, stage, reviewer, started_at, seed, last_decision_id, n_screened, r_al, urn,"
        " trigger FROM sample_phases WHERE stage = ? AND reviewer IS ? ORDER BY id DESC LIMIT 1",
        [stage, reviewer],
    ).fetchone()
    return Phase(*row) if row else None


def urn_order(ws: Workspace, phase_id: int) -> list[int]:
    """The urn's work ids in their stored random order (one range read of the primary key)."""
    sql = "SELECT work_id FROM sample_order WHERE phase_id = ? ORDER BY pos"
    return [r[0] for r in ws.db.execute(sql, [phase_id])]


def queue_order(
    ws: Workspace, phase: Phase, reviewer: str, done: set[int] | None = None
) -> list[int]:
    """What the queue serves in the sample phase: the urn's works the reviewer has not screened
    and that are still eligible, in the stored order; then eligible works that were not in the
    urn (added after sampling began: outside the sample, but still to be screened), oldest first.
    ``done``: the reviewer's screened works when the caller has them."""
    from .queue import screened_work_ids

    if done is None:
        done = screened_work_ids(ws, phase.stage, reviewer)
    urn = urn_order(ws, phase.id)
    pool = _pool(ws, phase.stage)
    ok = set(pool)
    in_urn = set(urn)
    first = [w for w in urn if w not in done and w in ok]
    return first + [w for w in pool if w not in done and w not in in_urn]


def scope(ws: Workspace, stage: str, reviewer: str | None) -> tuple[list[tuple[int, int]], int]:
    """(work, relevant) in screening order for the stage's eligible works, and how many are
    eligible (``stopping.screening_sequence``'s view, as the rule counts them)."""
    from .stopping import screening_sequence

    if _first_stage(ws, stage):  # counted in SQL: no list of ~100k ids
        n_total = int(ws.db.execute("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0])
        return screening_sequence(ws, stage, reviewer, active_only=True), n_total
    eligible = set(_pool(ws, stage))
    seq = [(w, y) for w, y in screening_sequence(ws, stage, reviewer) if w in eligible]
    return seq, len(eligible)


def _first_stage(ws: Workspace, stage: str) -> bool:
    from .queue import previous_stage

    return previous_stage(ws, stage) is None


def _pool(ws: Workspace, stage: str) -> list[int]:
    """The works the urn is drawn from, ascending: the stage's eligible works
    (``queue.eligible_work_ids``) less, after the first stage, those marked not retrieved."""
    from .queue import eligible_work_ids, not_retrieved_ids

    ids = eligible_work_ids(ws, stage)
    if _first_stage(ws, stage):
        return ids
    gone = not_retrieved_ids(ws)
    return [w for w in ids if w not in gone]


def start_phase(
    ws: Workspace,
    stage: str,
    reviewer: str | None,
    seed: int = 0,
    trigger: str = "explicit",
    seq: list[tuple[int, int]] | None = None,
) -> Phase:
    """Enter the random-sample phase now: store the urn's random order and the state so far.
    ``seq``: the scope's screening sequence (``scope``) when the caller has it already."""
    from .queue import check_stage

    check_stage(ws, stage)
    if rule_of(ws) != "cmh":
        raise ScreenError(
            'the protocol sets [screening] stopping = "ranked": no random-sample phase'
        )
    if seq is None:
        seq, _ = scope(ws, stage, reviewer)
    done = {w for w, _ in seq}
    urn = [w for w in _pool(ws, stage) if w not in done]
    random.Random(seed + SHUFFLE_SALT).shuffle(urn)
    proto = ws.protocol()
    last = ws.db.execute("SELECT MAX(id) FROM decisions").fetchone()[0]
    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO sample_phases (stage, reviewer, started_at, seed, last_decision_id,"
            " n_screened, r_al, urn, target_recall, confidence, trigger)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                stage, reviewer, now(), seed, last, len(seq), sum(y for _, y in seq), len(urn),
                proto.target_recall if proto else 0.95, proto.confidence if proto else 0.95,
                trigger,
            ],
        )  # fmt: skip
        pid = int(cur.lastrowid)  # type: ignore[arg-type]
        ws.db.conn.executemany(
            "INSERT INTO sample_order (phase_id, pos, work_id) VALUES (?,?,?)",
            [(pid, i, w) for i, w in enumerate(urn)],
        )
    phase = current_phase(ws, stage, reviewer)
    assert phase is not None and phase.id == pid
    return phase


def maybe_start(
    ws: Workspace,
    stage: str,
    reviewer: str | None,
    seed: int = 0,
    scoped: tuple[list[tuple[int, int]], int] | None = None,
) -> Phase | None:
    """The current phase, or a new one when the trigger has been reached (None: still ranked).
    ``scoped``: ``scope(ws, stage, reviewer)`` when the caller has read it already."""
    if rule_of(ws) != "cmh":
        return None
    phase = current_phase(ws, stage, reviewer)
    if phase is not None:
        return phase
    seq, n_total = scoped if scoped is not None else scope(ws, stage, reviewer)
    labels = [y for _, y in seq]
    trig = trigger_size(n_total)
    if len(labels) < n_total and longest_run(labels) >= trig:
        text = f"{trig} irrelevant in a row (5% of {n_total} eligible, at least 50)"
        return start_phase(ws, stage, reviewer, seed, trigger=text, seq=seq)
    return None


def serving_phase(
    ws: Workspace,
    stage: str,
    reviewer: str | None,
    seed: int = 0,
    start: str | None = None,
    scoped: tuple[list[tuple[int, int]], int] | None = None,
) -> Phase | None:
    """THE sample phase the screening queue serves (None: ranked screening, or the protocol's
    ``stopping = "ranked"``). Only reads unless ``start`` says otherwise: ``"trigger"`` enters the
    phase when the trigger has been reached (``maybe_start``), ``"now"`` enters it at once when
    there is none (`review screen --sample`; a ScreenError under ``stopping = "ranked"``).
    ``scoped``: ``scope(ws, stage, reviewer)`` when the caller has read it already."""
    if start == "now" and current_phase(ws, stage, reviewer) is None:
        return start_phase(ws, stage, reviewer, seed, trigger="explicit: review screen --sample")
    if rule_of(ws) != "cmh":
        return None
    if start == "trigger":
        return maybe_start(ws, stage, reviewer, seed, scoped=scoped)
    return current_phase(ws, stage, reviewer)


def sample_state(
    ws: Workspace,
    phase: Phase,
    reviewer: str | None,
    seq: list[tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Where the sample stands: draws counted (the decided prefix of the stored order), relevant
    among them, the urn's size now, the prefix itself and ``r_al`` as the test uses it.
    ``seq``: the scope's screening sequence when the caller has it already."""
    if seq is None:
        seq, _ = scope(ws, phase.stage, reviewer)
    decided = dict(seq)
    order = urn_order(ws, phase.id)
    ok = None if _first_stage(ws, phase.stage) else set(_pool(ws, phase.stage))
    # works merged away since (index works_active: no read of 100k work rows)
    inactive = {r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 0")}
    prefix: list[int] = []
    k = gone = 0
    open_ = True
    urn_ids = set(order)
    for wid in order:
        if wid in inactive or (ok is not None and wid not in ok):
            gone += 1
            continue
        if open_ and wid in decided:
            prefix.append(wid)
            k += decided[wid]
        else:
            open_ = False
    # relevant found outside the urn now: a revised earlier decision can only lower r_al
    # (a lower r_al is the conservative side of the test), never raise it
    r_al_now = sum(y for w, y in seq if w not in urn_ids)
    return {
        "prefix": prefix,
        "n": len(prefix),
        "k": k,
        "urn": len(order) - gone,
        "left_urn": gone,
        "r_al": min(phase.r_al, r_al_now),
        "decided_out_of_order": sum(1 for w in urn_ids if w in decided) - len(prefix),
    }


def draws_to_stop(urn: int, n: int, k: int, r_al: int, target: float, confidence: float) -> int:
    """Fewest further draws, none relevant, that make p < 1 - confidence (at most urn - n)."""
    from .stopping import hypergeom_p, smallest

    def stops(m: int) -> bool:
        return hypergeom_p(urn, n + m, k, r_al + k, r_al, target) < 1 - confidence

    hi = max(urn - n, 0)
    if not stops(hi):  # cannot happen (drawing the whole urn rejects H0); be safe
        return hi
    return smallest(stops, hi)


def sample_p(state: dict[str, Any], target: float) -> float:
    from .stopping import hypergeom_p

    if state["n"] == 0:
        return 1.0
    r_al, k = state["r_al"], state["k"]
    return hypergeom_p(state["urn"], state["n"], k, r_al + k, r_al, target)


def evaluate_cmh(
    labels: list[int],
    n_total: int,
    target: float,
    confidence: float,
    phase: Phase | None,
    state: dict[str, Any] | None,
) -> dict[str, Any]:
    """The published rule's status: the ranked phase (no stop before the sample unless every
    record is screened) or the random sample's test. Keys of ``stopping.evaluate`` plus ``rule``,
    ``phase``, ``trigger``, ``to_sample``, ``sample_drawn``, ``sample_relevant``, ``urn``,
    ``r_al``, ``draws_to_stop`` and the phase's ``sample_started_at`` / ``sample_seed``."""
    from .stopping import ASSUMES_CMH, sequence_facts

    facts = sequence_facts(labels, n_total, target, confidence)
    n_screened = facts["n_screened"]
    remaining, cons = facts["n_remaining"], facts["consecutive_irrelevant"]
    trig = trigger_size(n_total)
    out: dict[str, Any] = facts | {"rule": "cmh", "assumes": ASSUMES_CMH, "trigger": trig}
    everything = n_screened > 0 and remaining == 0
    if phase is None or state is None:
        reached = longest_run(labels) >= trig
        if everything:
            msg = "every eligible record is screened"
        elif reached:
            msg = (
                f"ranked phase: {trig} irrelevant in a row reached; the random sample starts with"
                " the next record the screening app serves (or `review screen --sample`)"
            )
        else:
            msg = (
                f"ranked phase: {cons} of {trig} irrelevant in a row before random sampling starts"
            )
        out.update(
            phase="ranked", to_sample=0 if reached else trig - cons, sample_drawn=0,
            sample_relevant=0, urn=None, r_al=None, p_value=None, irrelevant_to_stop=None,
            draws_to_stop=None, should_stop=everything, message=msg,
        )  # fmt: skip
        return out
    n, k, urn, r_al = state["n"], state["k"], state["urn"], state["r_al"]
    p = sample_p(state, target)
    should_stop = everything or n >= urn or p < 1 - confidence
    need = None if should_stop else draws_to_stop(urn, n, k, r_al, target, confidence)
    if everything:
        msg = "every eligible record is screened"
    elif should_stop:
        msg = (
            f"safe to stop: random sample: {n} of {urn} drawn, {k} relevant, p = {p:.3f} <"
            f" {1 - confidence:.2f}: recall >= {target:.0%} at {confidence:.0%} confidence"
        )
    else:
        msg = (
            f"random sample: {n} drawn, {k} relevant, p = {p:.3f}; about {need} more irrelevant"
            " draws would stop"
        )
    if state.get("decided_out_of_order"):
        msg += f" ({state['decided_out_of_order']} decided out of order count once reached)"
    # eligible records nobody drew or decided that were not in the urn (added since it began)
    outside = remaining - (urn - n - state.get("decided_out_of_order", 0))
    if outside > 0:
        msg += (
            f"; {outside} eligible record(s) added since sampling began are outside the sample:"
            " screen them too"
        )
    out.update(
        phase="sample", to_sample=0, sample_drawn=n, sample_relevant=k, urn=urn, r_al=r_al,
        p_value=round(p, 6), irrelevant_to_stop=need, draws_to_stop=need, should_stop=should_stop,
        outside_sample=max(outside, 0),
        message=msg, sample_started_at=phase.started_at, sample_seed=phase.seed,
        sample_phase_id=phase.id,
    )  # fmt: skip
    return out
