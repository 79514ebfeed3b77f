"""What another process changed while the app is open: works absorbed or re-activated by a dedup.

``review dedup`` (or ``review dedup --undo``) may run in another terminal while a reviewer
screens. Before each next record the app asks :class:`MergeWatch` (one primary-key look-up while
nothing changed) and skips works merged into another; works a split re-activated come back to
the front of the queue. A decision on a work absorbed meanwhile is recorded on its survivor
(``actions.survivor``), as ``review decide`` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ...store import Workspace
from .. import actions


def absorbed_into(ws: Workspace, work_id: int) -> int | None:
    """The survivor if ``work_id`` is no longer active, else None (a primary-key look-up)."""
    row = ws.db.execute("SELECT active, merged_into FROM works WHERE id = ?", [work_id]).fetchone()
    if row is None or row[0]:
        return None
    return int(row[1]) if row[1] else 0


def decide_on_survivor(
    ws: Workspace,
    work_id: int,
    stage: str,
    reviewer: str,
    decision: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """``actions.decide`` (which records on the work's final survivor, ``actions.survivor``);
    ``{"work_id", "decided_on", "id"}`` so the app can say where the decision went."""
    target = work_id if absorbed_into(ws, work_id) is None else actions.survivor(ws, work_id)
    did = actions.decide(ws, work_id, stage, reviewer, decision, reason, origin="tui")
    return {"work_id": work_id, "decided_on": target, "id": did}


@dataclass
class MergeWatch:
    """Follows the append-only ``merges`` log from the id seen at start."""

    seen: int = 0
    absorbed: set[int] = field(default_factory=set)

    @classmethod
    def start(cls, ws: Workspace) -> MergeWatch:
        return cls(seen=_last(ws))

    def changes(self, ws: Workspace) -> tuple[int, list[int]]:
        """(number of new merges, works re-activated by new splits) since the last call."""
        last = _last(ws)
        if last == self.seen:
            return 0, []
        rows = ws.db.execute(
            "SELECT action, record_ids FROM merges WHERE id > ? ORDER BY id", [self.seen]
        ).fetchall()
        self.seen = last
        merged = sum(1 for action, _ in rows if action == "merge")
        rids = sorted(
            {int(r) for action, ids in rows if action == "split" for r in json.loads(ids or "[]")}
        )
        back: list[int] = []
        for i in range(0, len(rids), 500):
            chunk = rids[i : i + 500]
            back += [
                r[0]
                for r in ws.db.execute(
                    "SELECT DISTINCT w.id FROM records r JOIN works w ON w.id = r.work_id"
                    f" WHERE r.id IN ({','.join('?' * len(chunk))}) AND w.active = 1",
                    chunk,
                )
            ]
        return merged, sorted(set(back))


def _last(ws: Workspace) -> int:
    return int(ws.db.execute("SELECT COALESCE(MAX(id), 0) FROM merges").fetchone()[0])
