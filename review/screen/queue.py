"""What to screen next: the eligible works of a stage, what a reviewer has screened, progress.

- title-abstract (the protocol's first stage): every active work.
- any later stage: the active works that reached it by THE rule of ``review.store.decisions``
  (``reached_ids``): moved on at the previous stage (include, or maybe unless the protocol says
  maybe = "undecided"), or other-methods reports with no vote there (PRISMA sends them straight
  to retrieval). The votes status and PRISMA count are exactly the votes on these works.

A work is *screened* by a reviewer at a stage when the reviewer's latest decision row for it (or
for a work merged into it) is not a 'retract'. Queries use the ``decisions_work`` /
``decisions_stage`` / ``works_merged_into`` indexes; nothing here loads whole tables of text. ``ScreenQueue`` keeps the ranked order in memory so the next record is
one indexed lookup away (the TUI refreshes the ranking in a worker).

Once the stage is in the random-sample phase of the stopping rule (``sampling.py``; the protocol's
default ``[screening] stopping = "cmh"``), the queue serves the urn in its stored random order
instead of the ranking, and a new ranking no longer replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ScreenError
from ..store import Workspace
from ..store.decisions import (
    DEFAULT_STAGES,
    FINAL,
    cached_protocol,
    final_work,
    group_ids,
    reached_ids,
)
from ..store.decisions import previous_stage as _previous_stage

ORDERS = ("relevance", "random", "oldest")

# latest row per final work (decisions follow merges), per reviewer when grouped so
_LATEST_SQL = f"""
SELECT {FINAL.format(w="w", d="d")} AS fw, d.decision, d.reason, MAX(d.id) AS id
FROM decisions d LEFT JOIN works w ON w.id = d.work_id
WHERE d.stage = ? {{reviewer}} GROUP BY fw{{by_reviewer}}
"""


def stages_of(ws: Workspace) -> tuple[str, ...]:
    proto = cached_protocol(ws)  # parsed once per protocol version, not per key press
    return proto.stages if proto else DEFAULT_STAGES


def check_stage(ws: Workspace, stage: str) -> str:
    stages = stages_of(ws)
    if stage not in stages:
        raise ScreenError(f"unknown stage {stage!r}; the protocol's stages are {', '.join(stages)}")
    return stage


def previous_stage(ws: Workspace, stage: str) -> str | None:
    """``store.decisions.previous_stage`` of a stage the protocol must name (ScreenError)."""
    return _previous_stage(ws, check_stage(ws, stage))


def eligible_work_ids(ws: Workspace, stage: str) -> list[int]:
    """Work ids eligible for screening at ``stage`` (THE rule's ``reached_ids``), ascending."""
    if previous_stage(ws, stage) is None:  # also checks that the protocol has the stage
        return [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]
    return sorted(reached_ids(ws, stage))


def _latest(ws: Workspace, stage: str, reviewer: str | None) -> list[tuple[int, str, str | None]]:
    """(work_id, decision, reason) of the latest row per work (per reviewer when given)."""
    if reviewer is not None:
        sql = _LATEST_SQL.format(reviewer="AND d.reviewer = ?", by_reviewer="")
        params: list[Any] = [stage, reviewer]
    else:
        sql = _LATEST_SQL.format(reviewer="", by_reviewer=", d.reviewer")
        params = [stage]
    return [(r[0], r[1], r[2]) for r in ws.db.execute(sql, params)]


def screened_work_ids(ws: Workspace, stage: str, reviewer: str | None = None) -> set[int]:
    """Works with a current (non-retracted) decision at ``stage`` by ``reviewer`` (by anyone if None)."""
    return {wid for wid, decision, _ in _latest(ws, stage, reviewer) if decision != "retract"}


def not_retrieved_ids(ws: Workspace) -> set[int]:
    """Works whose latest retrieval status is 'not-retrieved' (left out of the full-text queue);
    like decisions, a mark follows its work to the final survivor."""
    rows = ws.db.execute(
        f"SELECT {FINAL.format(w='w', d='r')} AS fw, r.status, MAX(r.id) FROM retrieval r"
        " LEFT JOIN works w ON w.id = r.work_id GROUP BY fw"
    )
    return {r[0] for r in rows if r[1] == "not-retrieved"}


def current_decision(
    ws: Workspace, work_id: int, stage: str, reviewer: str
) -> dict[str, Any] | None:
    """The reviewer's current decision row on a work or the works merged into it (None if none
    or retracted). Indexed lookups only."""
    ids = group_ids(ws, final_work(ws, work_id))
    rows = list(
        ws.db.query(
            f"SELECT * FROM decisions WHERE work_id IN ({','.join('?' * len(ids))})"
            " AND stage = ? AND reviewer = ? ORDER BY id DESC LIMIT 1",
            [*ids, stage, reviewer],
        )
    )
    if not rows or rows[0]["decision"] == "retract":
        return None
    return rows[0]


def is_screened(ws: Workspace, work_id: int, stage: str, reviewer: str) -> bool:
    return current_decision(ws, work_id, stage, reviewer) is not None


def screened_history(ws: Workspace, stage: str, reviewer: str) -> list[int]:
    """Works the reviewer has decided at this stage, in the order of their latest decision."""
    rows = ws.db.execute(
        _LATEST_SQL.format(reviewer="AND d.reviewer = ?", by_reviewer="") + " ORDER BY id",
        [stage, reviewer],
    )
    return [r[0] for r in rows if r[1] != "retract"]


def progress(ws: Workspace, stage: str, reviewer: str) -> dict[str, Any]:
    """Screened / remaining in the stage for a reviewer, includes, maybes, excludes per reason.

    The first stage is counted in SQL (no id lists: ~100k works stay cheap); later stages are
    small (what passed the stage before) and use the eligible set.
    """
    if previous_stage(ws, stage) is None:
        n_eligible = int(ws.db.execute("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0])
        rows = ws.db.execute(
            "SELECT l.decision, l.reason, COUNT(*) FROM ("
            + _LATEST_SQL.format(reviewer="AND d.reviewer = ?", by_reviewer="")
            + ") l JOIN works aw ON aw.id = l.fw WHERE aw.active = 1 AND l.decision != 'retract'"
            " GROUP BY l.decision, l.reason",
            [stage, reviewer],
        ).fetchall()
        skipped = 0
    else:
        eligible = set(eligible_work_ids(ws, stage))
        n_eligible = len(eligible)
        skipped_ids = not_retrieved_ids(ws) & eligible
        tally: dict[tuple[str, str | None], int] = {}
        for wid, decision, reason in _latest(ws, stage, reviewer):
            if decision != "retract" and wid in eligible:
                skipped_ids.discard(wid)  # decided anyway: counts as screened
                tally[(decision, reason)] = tally.get((decision, reason), 0) + 1
        rows = [(d, r, n) for (d, r), n in tally.items()]
        skipped = len(skipped_ids)
    counts = {"include": 0, "exclude": 0, "maybe": 0}
    by_reason: dict[str, int] = {}
    for decision, reason, n in rows:
        counts[decision] += n
        if decision == "exclude":
            by_reason[reason or "?"] = by_reason.get(reason or "?", 0) + n
    screened = sum(counts.values())
    return {
        "stage": stage,
        "reviewer": reviewer,
        "eligible": n_eligible,
        "screened": screened,
        "remaining": n_eligible - screened - skipped,
        "not_retrieved": skipped,
        **counts,
        "excluded_by_reason": dict(sorted(by_reason.items())),
    }


def ranked_ids(
    ws: Workspace, stage: str, reviewer: str | None, order: str = "relevance", seed: int = 0
) -> list[int]:
    """Unscreened eligible works, best first (the prioritisation module when available; "oldest"
    needs no model, so the screening app's first order imports none)."""
    if order not in ORDERS:
        raise ScreenError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
    if order != "oldest":
        try:
            from .priority import rank_unscreened
        except ImportError:  # prioritisation not installed: oldest first
            pass
        else:
            return list(rank_unscreened(ws, stage, reviewer=reviewer, order=order, seed=seed))
    done = screened_work_ids(ws, stage, reviewer)
    return [w for w in eligible_work_ids(ws, stage) if w not in done]


@dataclass
class ScreenQueue:
    """The ranked order of unscreened works, kept in memory; ``next_work`` walks it.

    Each step is one indexed query per skipped id (works decided elsewhere since the ranking
    was computed are skipped), so the next record never costs a full-table read. In the
    random-sample phase (``phase_id`` set) ``order`` is the urn's stored random order.
    """

    stage: str
    reviewer: str
    order: list[int] = field(default_factory=list)
    pos: int = 0
    skip: set[int] = field(default_factory=set)
    phase_id: int | None = None

    @classmethod
    def build(
        cls,
        ws: Workspace,
        stage: str,
        reviewer: str,
        order: str = "relevance",
        seed: int = 0,
        sampling: bool = False,
        sample_now: bool = False,
    ) -> ScreenQueue:
        """The queue now: the urn of the stage's random-sample phase when there is one
        (``sampling.serving_phase``), else the ranking. Only reads by default; ``sampling``:
        enter the phase when the stopping rule's trigger has been reached, ``sample_now``:
        enter it at once (both write: the urn's order is stored)."""
        from .sampling import queue_order, serving_phase

        check_stage(ws, stage)
        skip = not_retrieved_ids(ws) if previous_stage(ws, stage) else set()
        start = "now" if sample_now else ("trigger" if sampling else None)
        phase = serving_phase(ws, stage, reviewer, seed, start)
        if phase is not None:
            return cls(stage, reviewer, queue_order(ws, phase, reviewer), 0, skip, phase.id)
        return cls(stage, reviewer, ranked_ids(ws, stage, reviewer, order, seed), 0, skip)

    def replace_order(self, order: list[int]) -> None:
        """A new ranking; ignored in the random-sample phase (the urn's order stands)."""
        if self.phase_id is None:
            self.order, self.pos = list(order), 0

    def enter_sample(self, phase_id: int, urn: list[int]) -> None:
        """Switch to the random-sample phase: serve ``urn`` (its stored order) from now on, then
        what the old order held beyond it (works added after the urn was drawn)."""
        in_urn = set(urn)
        rest = [w for w in self.order[self.pos :] if w not in in_urn]
        self.order, self.pos, self.phase_id = list(urn) + rest, 0, phase_id

    def put_first(self, ids: list[int]) -> None:
        """Serve ``ids`` next, before the rest of the order (works an undone merge brought back)."""
        self.skip.difference_update(ids)
        self.order[self.pos : self.pos] = ids

    def next_work(self, ws: Workspace, exclude: set[int] | None = None) -> int | None:
        """The first unscreened work in the ranking (not in ``exclude``), or None when done."""
        while self.pos < len(self.order):
            wid = self.order[self.pos]
            if (
                wid not in self.skip
                and not (exclude and wid in exclude)
                and not is_screened(ws, wid, self.stage, self.reviewer)
            ):
                return wid
            self.pos += 1
        return None


def next_work(
    ws: Workspace,
    stage: str,
    reviewer: str,
    order: str = "relevance",
    seed: int = 0,
    sampling: bool = False,
) -> int | None:
    """The next work to screen (one-off; the TUI keeps a ``ScreenQueue`` instead). Only reads
    unless ``sampling``: then the random-sample phase starts if its trigger has been reached."""
    return ScreenQueue.build(ws, stage, reviewer, order, seed, sampling).next_work(ws)
