"""The review queue: uncertain pairs a human decides (duplicate / distinct)."""

from __future__ import annotations

from typing import Any

from ..errors import DedupError
from ..store import Workspace
from ..store.workspace import now
from . import merges


def pending(ws: Workspace) -> list[dict[str, Any]]:
    """Pending pairs whose records are still in different active works, best score first.

    Each pair carries both records' title, authors, year, venue, volume, issue, pages, DOI,
    type, source and abstract (keys ``<field>_a`` / ``<field>_b``): what tells a conference
    abstract from the paper, or one editorial from the next issue's."""
    rows = ws.db.query(
        "SELECT c.id, c.record_a, c.record_b, c.score, c.rule, ra.work_id AS work_a, rb.work_id AS work_b,"
        " ra.title AS title_a, rb.title AS title_b, ra.year AS year_a, rb.year AS year_b,"
        " ra.authors AS authors_a, rb.authors AS authors_b, ra.venue AS venue_a, rb.venue AS venue_b,"
        " ra.source AS source_a, rb.source AS source_b, ra.doi AS doi_a, rb.doi AS doi_b,"
        " ra.volume AS volume_a, rb.volume AS volume_b, ra.issue AS issue_a, rb.issue AS issue_b,"
        " ra.pages AS pages_a, rb.pages AS pages_b, ra.abstract AS abstract_a,"
        " rb.abstract AS abstract_b, ra.record_type AS type_a, rb.record_type AS type_b"
        " FROM dedup_candidates c JOIN records ra ON ra.id = c.record_a JOIN records rb ON rb.id = c.record_b"
        " WHERE c.status = 'pending' ORDER BY c.score DESC, c.id"
    )
    return [r for r in rows if r["work_a"] != r["work_b"]]


def decide(ws: Workspace, candidate_id: int, duplicate: bool, *, actor: str) -> dict[str, Any]:
    """Mark a pair; a duplicate merges the two works (rule 'review')."""
    row = ws.db.execute(
        "SELECT c.record_a, c.record_b, c.score, ra.work_id, rb.work_id FROM dedup_candidates c"
        " JOIN records ra ON ra.id = c.record_a JOIN records rb ON rb.id = c.record_b WHERE c.id = ?",
        [candidate_id],
    ).fetchone()
    if row is None:
        raise DedupError(f"no candidate pair with id {candidate_id}")
    _, _, score, work_a, work_b = row
    ts = now()
    result: dict[str, Any] = {"candidate": candidate_id, "duplicate": duplicate}
    with ws.transaction():
        ws.db.conn.execute(
            "UPDATE dedup_candidates SET status = ?, decided_at = ?, decided_by = ? WHERE id = ?",
            ["duplicate" if duplicate else "distinct", ts, actor, candidate_id],
        )
        if duplicate and work_a != work_b:
            decided = merges.works_with_decisions(ws, [work_a, work_b])
            survivor, note = merges.choose_survivor([work_a, work_b], decided)
            other = work_b if survivor == work_a else work_a
            rec_a, rec_b = row[0], row[1]
            kept, moved = (rec_a, rec_b) if work_a == survivor else (rec_b, rec_a)
            merges.merge_groups(
                ws,
                [(survivor, [(other, "review", score)], note)],
                actor=actor,
                evidence={
                    other: {
                        "pair": [kept, moved],
                        "rule": "review",
                        "score": score,
                        "path": [[kept, moved, "review", score]],
                        "candidate": candidate_id,
                    }
                },
            )
            result["work_id"] = survivor
    return result
