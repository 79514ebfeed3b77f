"""The append-only decision log and the current decisions derived from it.

The current decision of a reviewer on a work at a stage is the latest row for
(work, stage, reviewer); a 'retract' row clears it (undo). Nothing is ever updated or deleted.
"""

from __future__ import annotations

from typing import Any

from ..errors import ScreenError
from ..models import OUTCOMES
from .workspace import Workspace, now

# Decisions follow merged works: a decision on a work later merged into another counts for the
# surviving work (works.merged_into; dedup keeps it pointing at the final survivor).
CANONICAL = "COALESCE((SELECT w.merged_into FROM works w WHERE w.id = decisions.work_id), decisions.work_id)"
CURRENT_SQL = f"""
SELECT d.id, c.canonical AS work_id, d.work_id AS decided_work_id, d.stage, d.reviewer, d.decision,
       d.reason, d.note, d.origin, d.group_name, d.created_at
FROM decisions d
JOIN (SELECT MAX(id) AS id, {CANONICAL} AS canonical FROM decisions {{where}}
      GROUP BY canonical, stage, reviewer) c
  ON d.id = c.id
WHERE d.decision != 'retract'
"""


def record_decision(
    ws: Workspace,
    *,
    work_id: int,
    stage: str,
    reviewer: str,
    decision: str,
    reason: str | None = None,
    note: str | None = None,
    origin: str = "local",
    group_name: str | None = None,
) -> int:
    """Append one decision row and commit it. Returns its id."""
    if decision not in (*OUTCOMES, "retract"):
        raise ScreenError(f"unknown decision {decision!r}; expected include, exclude, maybe")
    if decision == "exclude" and not reason:
        raise ScreenError("an exclusion needs a reason code from the protocol")
    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO decisions (work_id, stage, reviewer, decision, reason, note, origin,"
            " group_name, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [work_id, stage, reviewer, decision, reason, note, origin, group_name, now()],
        )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def current_decisions(
    ws: Workspace,
    stage: str | None = None,
    reviewer: str | None = None,
    work_id: int | None = None,
) -> list[dict[str, Any]]:
    """Latest non-retracted decision per (work, stage, reviewer); ``work_id`` limits it to one
    work (decisions on works merged into it included) with indexed lookups."""
    clauses: list[str] = []
    params: list[Any] = []
    if work_id is not None:
        clauses.append("(work_id = ? OR work_id IN (SELECT id FROM works WHERE merged_into = ?))")
        params += [work_id, work_id]
    if stage is not None:
        clauses.append("stage = ?")
        params.append(stage)
    if reviewer is not None:
        clauses.append("reviewer = ?")
        params.append(reviewer)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    return list(ws.db.query(CURRENT_SQL.format(where=where) + " ORDER BY d.id", params))


def resolved_decisions(ws: Workspace, stage: str) -> dict[int, dict[str, Any]]:
    """One decision per work at a stage: a 'resolution' if any, else the reviewers' agreed one.

    Works where reviewers disagree and nobody resolved the conflict are left out (they are
    conflicts, not decisions). A single reviewer's decision is the work's decision.
    """
    rows = current_decisions(ws, stage=stage)
    by_work: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_work.setdefault(r["work_id"], []).append(r)
    out: dict[int, dict[str, Any]] = {}
    for work_id, ds in by_work.items():
        res = [d for d in ds if d["origin"] == "resolution"]
        if res:
            out[work_id] = max(res, key=lambda d: d["id"])
            continue
        outcomes = {d["decision"] for d in ds}
        if len(outcomes) == 1:
            out[work_id] = max(ds, key=lambda d: d["id"])
        elif outcomes == {"include", "maybe"}:
            # maybe counts as include (as Covidence does): both reviewers advance the record
            out[work_id] = max((d for d in ds if d["decision"] == "include"), key=lambda d: d["id"])
    return out


def decision_counts(ws: Workspace) -> dict[str, dict[str, int]]:
    """{stage: {include, exclude, maybe}} over resolved decisions, for every stage with any."""
    stages = [r[0] for r in ws.db.execute("SELECT DISTINCT stage FROM decisions ORDER BY stage")]
    out: dict[str, dict[str, int]] = {}
    for stage in stages:
        counts = dict.fromkeys(OUTCOMES, 0)
        for d in resolved_decisions(ws, stage).values():
            counts[d["decision"]] += 1
        out[stage] = counts
    return out
