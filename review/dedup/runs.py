"""A dedup run: plan, then show it (``--dry-run``) or apply it in one transaction; undo a run.

Planning 100k records takes seconds, too long to hold the write lock (the screening app of
another process would wait). So the plan is made outside the transaction and re-checked inside
it: if records, works, merges, reviewer decisions on pairs or screening decisions changed
meanwhile, the plan is made again under the lock before anything is written.

Every merge row names the pair of records that justified it (``evidence.pair``: a record
already in the group, then the absorbed one), the rule and score of that pair, and the path of
pairs from the kept work (a chained group: A-B by DOI, B-C by title). Each run is a
``dedup_runs`` row; ``undo_run`` splits everything that run merged.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Sequence
from typing import Any

from ..errors import DedupError
from ..store import Workspace
from ..store.workspace import now
from . import merges

Edges = dict[int, list[tuple[int, str, float]]]


def fingerprint(ws: Workspace) -> tuple[Any, ...]:
    """Cheap summary of everything a plan depends on."""
    q = ws.db.execute
    return (
        *q(
            "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(work_id), 0) FROM records"
        ).fetchone(),
        q("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0],
        q("SELECT COALESCE(MAX(id), 0) FROM merges").fetchone()[0],
        *q(
            "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM dedup_candidates WHERE status != 'pending'"
        ).fetchone(),
        q("SELECT COALESCE(MAX(id), 0) FROM decisions").fetchone()[0],
    )


def evidence(
    group: Sequence[int], survivor: int, work_of: dict[int, int], edges: Edges
) -> dict[int, dict[str, Any]]:
    """For each absorbed work: the path of record pairs from the survivor's records to it.

    ``pair`` is the last step (a record already in the group, then the absorbed work's record);
    ``rule`` and ``score`` are that pair's. 'existing' steps (records already one work) are left
    out of the path.
    """
    start = [r for r in group if work_of[r] == survivor]
    parent: dict[int, tuple[int, str, float] | None] = {r: None for r in start}
    queue = deque(start)
    out: dict[int, dict[str, Any]] = {}
    while queue:
        r = queue.popleft()
        for other, rule, score in edges.get(r, ()):
            if other in parent:
                continue
            parent[other] = (r, rule, score)
            queue.append(other)
            w = work_of[other]
            if w == survivor or w in out or rule == "existing":
                continue
            path: list[list[Any]] = []
            node = other
            while parent[node] is not None:
                prev, rl, sc = parent[node]  # type: ignore[misc]
                if rl != "existing":
                    path.append([prev, node, rl, sc])
                node = prev
            path.reverse()
            out[w] = {"pair": [r, other], "rule": rule, "score": score, "path": path}
    for r in group:  # reached only through records already in one work: nothing better to say
        w = work_of[r]
        if w != survivor and w not in out:
            out[w] = {"pair": None, "rule": "existing", "score": 1.0, "path": []}
    return out


def prepare(ws: Workspace, rows: list[dict[str, Any]], plan: Any) -> list[dict[str, Any]]:
    """The merges a plan makes: survivor, absorbed works with their evidence, survivor note."""
    work_of = {r["id"]: r["work_id"] for r in rows}
    title = {r["id"]: r.get("title") for r in rows}
    decided = merges.works_with_decisions(ws, work_of.values())
    out = []
    for group in plan.groups:
        works = sorted({work_of[r] for r in group})
        survivor, note = merges.choose_survivor(works, decided)
        ev = evidence(group, survivor, work_of, plan.edges)
        for e in ev.values():
            if e["pair"]:
                e["titles"] = [title[e["pair"][0]], title[e["pair"][1]]]
        out.append(
            {
                "work_id": survivor,
                "absorbed": [w for w in works if w != survivor],
                "note": note,
                "reasons": {w: ev[w] for w in works if w != survivor},
            }
        )
    return out


def run(
    ws: Workspace, *, threshold: float | None = None, actor: str, dry_run: bool = False
) -> dict[str, Any]:
    """Plan; then return the plan (dry run) or merge and queue it in one checked transaction."""
    from .engine import DEFAULT_THRESHOLD, cannot_links, load_rows, pending_count, plan

    thr = DEFAULT_THRESHOLD if threshold is None else threshold
    before = fingerprint(ws)
    rows = load_rows(ws)
    p = plan(rows, cannot=cannot_links(ws), threshold=thr)
    groups = prepare(ws, rows, p)
    replanned = False
    result: dict[str, Any] = {}
    if dry_run:
        return _summary(ws, rows, p, groups, dry_run=True, replanned=False)
    with ws.transaction():
        if fingerprint(ws) != before:  # another process wrote meanwhile: plan again, locked
            rows = load_rows(ws)
            p = plan(rows, cannot=cannot_links(ws), threshold=thr)
            groups = prepare(ws, rows, p)
            replanned = True
        ts = now()
        run_id = int(
            ws.db.conn.execute(
                "INSERT INTO dedup_runs (created_at, actor, threshold) VALUES (?, ?, ?)",
                [ts, actor, thr],
            ).lastrowid
            or 0
        )
        to_merge = [
            (
                g["work_id"],
                [(w, e["rule"], e["score"]) for w, e in g["reasons"].items()],
                g["note"],
            )
            for g in groups
        ]
        ev = {w: e for g in groups for w, e in g["reasons"].items()}
        moved = (
            merges.merge_groups(ws, to_merge, actor=actor, run_id=run_id, evidence=ev)
            if to_merge
            else 0
        )
        cur = ws.db.conn.executemany(
            "INSERT OR IGNORE INTO dedup_candidates (created_at, record_a, record_b, score, rule,"
            " status) VALUES (?, ?, ?, ?, ?, 'pending')",
            [(ts, a, b, score, rule) for a, b, score, rule in p.candidates],
        )
        result = _summary(ws, rows, p, groups, dry_run=False, replanned=replanned)
        result.update(
            run_id=run_id,
            records_moved=moved,
            candidates_new=max(cur.rowcount, 0) if p.candidates else 0,
            candidates_pending=pending_count(ws),
        )
        ws.db.conn.execute(
            "UPDATE dedup_runs SET summary = ? WHERE id = ?",
            [json.dumps({k: result[k] for k in _LOGGED}), run_id],
        )
    return result


_LOGGED = ("records", "groups_merged", "works_absorbed", "merged_by_rule", "candidates_new")


def _summary(
    ws: Workspace,
    rows: list[dict[str, Any]],
    p: Any,
    groups: list[dict[str, Any]],
    *,
    dry_run: bool,
    replanned: bool,
) -> dict[str, Any]:
    by_rule: Counter[str] = Counter(e["rule"] for g in groups for e in g["reasons"].values())
    active = ws.db.execute("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0]
    absorbed = sum(by_rule.values())
    return {
        "dry_run": dry_run,
        "replanned": replanned,
        "records": len(rows),
        "groups_merged": len(groups),
        "works_absorbed": absorbed,
        "records_moved": 0,
        "merged_by_rule": dict(by_rule),
        "candidates_new": len(p.candidates) if dry_run else 0,
        "candidates_pending": 0,
        "containers": p.containers,
        "groups": [
            {
                "work_id": g["work_id"],
                "absorbed": g["absorbed"],
                "note": g["note"],
                "reasons": {str(w): e for w, e in g["reasons"].items()},
            }
            for g in groups
        ],
        "active_works": active if not dry_run else active - absorbed,
    }


def list_runs(ws: Workspace) -> list[dict[str, Any]]:
    return list(ws.db.query("SELECT * FROM dedup_runs ORDER BY id"))


def undo_run(ws: Workspace, run_id: int, *, actor: str) -> dict[str, Any]:
    """Split every merge of run ``run_id``: each absorbed work gets its records back and is
    active again. Refused when a later merge or split touched those works (undo that first).
    The pairs are not marked distinct: a new run may merge them again (``--undo GROUP`` marks
    one group distinct)."""
    row = ws.db.execute("SELECT undone_at FROM dedup_runs WHERE id = ?", [run_id]).fetchone()
    where = f"dedup run {run_id}"
    if row is None:
        raise DedupError(f"no dedup run {run_id} (see `review dedup --runs`)", where=where)
    if row[0]:
        raise DedupError(f"dedup run {run_id} was already undone ({row[0]})", where=where)
    rows = list(
        ws.db.query(
            "SELECT id, work_id, record_ids, from_work_ids FROM merges"
            " WHERE run_id = ? AND action = 'merge' ORDER BY id",
            [run_id],
        )
    )
    works = {r["work_id"] for r in rows} | {
        w for r in rows for w in json.loads(r["from_work_ids"] or "[]")
    }
    last = max((r["id"] for r in rows), default=0)
    for later in ws.db.query(  # rows of runs undone since (their merges and splits) do not count
        "SELECT id, work_id, from_work_ids, run_id FROM merges WHERE id > ? AND (run_id IS NULL"
        " OR run_id NOT IN (SELECT id FROM dedup_runs WHERE undone_at IS NOT NULL))",
        [last],
    ):
        touched = {later["work_id"], *json.loads(later["from_work_ids"] or "[]")}
        if touched & works:
            raise DedupError(
                f"dedup run {run_id} cannot be undone: merge log row {later['id']}"
                f" (run {later['run_id'] or '-'}) changed its works since; undo that first",
                where=where,
            )
    ts = now()
    conn = ws.db.conn
    restored: list[int] = []
    with ws.transaction():
        for r in reversed(rows):
            (absorbed,) = json.loads(r["from_work_ids"])
            rids = json.loads(r["record_ids"])
            marks = ",".join("?" * len(rids))
            conn.execute(
                f"UPDATE records SET work_id = ? WHERE work_id = ? AND id IN ({marks})",
                [absorbed, r["work_id"], *rids],
            )
            conn.execute(
                "UPDATE works SET active = 1, merged_into = NULL, updated_at = ? WHERE id = ?",
                [ts, absorbed],
            )
            restored.append(absorbed)
            conn.execute(
                "INSERT INTO merges (created_at, action, work_id, record_ids, from_work_ids, rule,"
                " score, actor, note, run_id) VALUES (?, 'split', ?, ?, ?, 'undo-run', NULL, ?, ?, ?)",
                [
                    ts,
                    r["work_id"],
                    json.dumps(rids),
                    json.dumps([r["work_id"]]),
                    actor,
                    f"undo of dedup run {run_id}: records back in work {absorbed}",
                    run_id,
                ],
            )
        _repoint_merged_into(ws, restored)
        merges.recompute_works(ws, works)
        conn.execute(
            "UPDATE dedup_runs SET undone_at = ?, undone_by = ? WHERE id = ?", [ts, actor, run_id]
        )
    return {"run_id": run_id, "works_restored": len(restored), "works": sorted(restored)}


def _repoint_merged_into(ws: Workspace, restored: Sequence[int]) -> None:
    """Works merged (before the undone run) into a work that is active again point at it again.

    ``merged_into`` names the final survivor; an inactive work's own last merge row says which
    work absorbed it, so follow those rows until an active work.
    """
    if not restored:
        return
    last_into: dict[int, int] = {}
    for work_id, from_ids in ws.db.execute(
        "SELECT work_id, from_work_ids FROM merges WHERE action = 'merge' ORDER BY id"
    ):
        for w in json.loads(from_ids or "[]"):
            last_into[w] = work_id
    active = {w for (w,) in ws.db.execute("SELECT id FROM works WHERE active = 1")}
    updates = []
    for (w,) in ws.db.execute("SELECT id FROM works WHERE active = 0").fetchall():
        target, seen = last_into.get(w), {w}
        while target is not None and target not in active and target not in seen:
            seen.add(target)
            target = last_into.get(target)
        if target is not None and target in active:
            updates.append((target, w))
    ws.db.conn.executemany(
        "UPDATE works SET merged_into = ? WHERE id = ? AND merged_into IS NOT ?",
        [(t, w, t) for t, w in updates],
    )
