"""Apply and undo merges. Never destructive: records stay, absorbed works become ``active = 0``,
every change appends a row to the ``merges`` log, and an undo (``split``) is itself logged.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import DedupError
from ..models import text_hash
from ..store import Workspace
from ..store.workspace import now


def works_with_decisions(ws: Workspace, work_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(work_ids))
    if not ids:
        return set()
    out: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        out.update(
            r[0]
            for r in ws.db.execute(
                f"SELECT DISTINCT work_id FROM decisions WHERE work_id IN ({marks})", chunk
            )
        )
    return out


def choose_survivor(work_ids: Sequence[int], decided: set[int]) -> tuple[int, str | None]:
    """The work with screening decisions (lowest id if several), else the lowest id."""
    with_dec = sorted(w for w in work_ids if w in decided)
    if not with_dec:
        return min(work_ids), None
    note = f"survivor {with_dec[0]} kept: it carries screening decisions"
    if len(with_dec) > 1:
        others = ", ".join(str(w) for w in with_dec[1:])
        note += (
            f"; works {others} also had decisions, still stored under their own (now inactive) ids"
        )
    return with_dec[0], note


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def merge_works(
    ws: Workspace,
    survivor: int,
    absorbed: Sequence[tuple[int, str, float | None]],
    *,
    actor: str,
    note: str | None = None,
) -> int:
    """Move every record of each absorbed work to ``survivor``; one ``merges`` row per work.

    ``absorbed`` holds (work_id, rule, score). Returns the number of records moved.
    """
    return merge_groups(ws, [(survivor, absorbed, note)], actor=actor)


def merge_groups(
    ws: Workspace,
    groups: Sequence[tuple[int, Sequence[tuple[int, str, float | None]], str | None]],
    *,
    actor: str,
    run_id: int | None = None,
    evidence: dict[int, Any] | None = None,
) -> int:
    """``merge_works`` for many (survivor, absorbed, note) groups at once, with bulk statements.

    ``run_id`` ties the rows to a ``dedup_runs`` row; ``evidence`` (absorbed work id -> JSON-able)
    is the record pair and path that justified each merge. The groups must not share works.
    ``merges`` rows are appended in the order given. Returns the
    number of records moved.
    """
    moves = [
        (survivor, work_id, rule, score, note)
        for survivor, absorbed, note in groups
        for work_id, rule, score in absorbed
        if work_id != survivor
    ]
    ts = now()
    conn = ws.db.conn
    with ws.transaction():
        rids: dict[int, list[int]] = {w: [] for _, w, _, _, _ in moves}
        for chunk in _chunks(sorted(rids)):
            marks = ",".join("?" * len(chunk))
            for work_id, rid in conn.execute(
                f"SELECT work_id, id FROM records WHERE work_id IN ({marks}) ORDER BY id", chunk
            ):
                rids[work_id].append(rid)
        conn.executemany(
            "UPDATE records SET work_id = ? WHERE work_id = ?", [(s, w) for s, w, _, _, _ in moves]
        )
        conn.executemany(
            "UPDATE works SET active = 0, merged_into = ?, updated_at = ? WHERE id = ?",
            [(s, ts, w) for s, w, _, _, _ in moves],
        )
        # path compression: works merged earlier into an absorbed work now name the final survivor
        conn.executemany(
            "UPDATE works SET merged_into = ? WHERE merged_into = ?",
            [(s, w) for s, w, _, _, _ in moves],
        )
        ev = evidence or {}
        conn.executemany(
            "INSERT INTO merges (created_at, action, work_id, record_ids, from_work_ids, rule, score,"
            " actor, note, run_id, evidence) VALUES (?, 'merge', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    ts,
                    s,
                    json.dumps(rids[w]),
                    json.dumps([w]),
                    rule,
                    score,
                    actor,
                    note,
                    run_id,
                    json.dumps(ev[w]) if w in ev else None,
                )
                for s, w, rule, score, note in moves
            ],
        )
        recompute_works(ws, [survivor for survivor, _, _ in groups])
    return sum(len(v) for v in rids.values())


def _best(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The best field values of a group of records: longest abstract, a DOI if any, ..."""

    def first(key: str) -> Any:
        return next((r[key] for r in rows if r[key]), None)

    titled = [r for r in rows if r["title"]]
    # prefer a title that is not ALL CAPS, then the record with the most metadata
    titled.sort(key=lambda r: (r["title"].isupper(), -sum(1 for v in r.values() if v), r["id"]))
    title = titled[0]["title"] if titled else None
    abstract = max((r["abstract"] for r in rows if r["abstract"]), key=len, default=None)
    authors = max(
        (r["authors"] for r in rows if r["authors"] and r["authors"] != "[]"),
        key=lambda a: len(json.loads(a)),
        default="[]",
    )
    years = Counter(r["year"] for r in rows if r["year"])
    year = min(years, key=lambda y: (-years[y], y)) if years else None
    venue = max((r["venue"] for r in rows if r["venue"]), key=len, default=None)
    return {
        "title": title,
        "abstract": abstract,
        "authors": authors,
        "year": year,
        "doi": first("doi"),
        "venue": venue,
        "language": first("language"),
        "record_type": first("record_type"),
        "url": first("url"),
        "content_hash": text_hash(f"{title or ''}\n{abstract or ''}"),
    }


_WORK_FIELDS = "id, title, abstract, authors, year, doi, venue, language, record_type, url"


def recompute_work(ws: Workspace, work_id: int) -> None:
    """Set a work's fields to the best of its records (call inside a transaction)."""
    recompute_works(ws, [work_id])


def recompute_works(ws: Workspace, work_ids: Iterable[int]) -> None:
    """``recompute_work`` for many works: one read per 500 works, bulk updates.

    Title and abstract are only written when they change, so the full-text index is not
    rebuilt for the (many) survivors that already had the best ones.
    """
    full: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(set(work_ids))):
        marks = ",".join("?" * len(chunk))
        current = {
            wid: (title, abstract)
            for wid, title, abstract in ws.db.execute(
                f"SELECT id, title, abstract FROM works WHERE id IN ({marks})", chunk
            )
        }
        by_work: dict[int, list[dict[str, Any]]] = {}
        for row in ws.db.query(
            f"SELECT work_id AS _work, {_WORK_FIELDS} FROM records WHERE work_id IN ({marks})"
            " ORDER BY work_id, id",
            chunk,
        ):
            by_work.setdefault(row.pop("_work"), []).append(row)
        for work_id, rows in by_work.items():
            best = _best(rows)
            best["updated_at"] = now()
            best["id"] = work_id
            same = current.get(work_id) == (best["title"], best["abstract"])
            (rest if same else full).append(best)
    for updates, skip in ((full, {"id"}), (rest, {"id", "title", "abstract"})):
        if updates:
            sets = ", ".join(f"{k} = :{k}" for k in updates[0] if k not in skip)
            ws.db.conn.executemany(f"UPDATE works SET {sets} WHERE id = :id", updates)


def original_works(ws: Workspace, record_ids: Iterable[int]) -> dict[int, int]:
    """Record id -> the work it was first stored with (from the first merge row that moved it)."""
    wanted = set(record_ids)
    origin: dict[int, int] = {}
    for rids, from_ids in ws.db.execute(
        "SELECT record_ids, from_work_ids FROM merges WHERE action = 'merge' ORDER BY id"
    ):
        froms = json.loads(from_ids or "[]")
        if len(froms) != 1:
            continue
        for rid in json.loads(rids):
            if rid in wanted and rid not in origin:
                origin[rid] = froms[0]
    return origin


def split_work(ws: Workspace, work_id: int, *, actor: str) -> dict[str, Any]:
    """Undo the merges of a group: each record goes back to the work it came with.

    The original works are reactivated (or a new work is created if one is missing); the pairs
    split apart are marked 'distinct' in ``dedup_candidates`` so the next run does not re-merge
    them; a 'split' row is appended to ``merges``.
    """
    row = ws.db.execute("SELECT active FROM works WHERE id = ?", [work_id]).fetchone()
    if row is None:
        raise DedupError(f"no work with id {work_id}", where=f"work {work_id}")
    if not row[0]:
        raise DedupError(
            f"work {work_id} is not active (it was merged into another); undo that group"
        )
    rids = [
        r[0]
        for r in ws.db.execute("SELECT id FROM records WHERE work_id = ? ORDER BY id", [work_id])
    ]
    if len(rids) < 2:
        raise DedupError(f"work {work_id} is not a merged group (it has {len(rids)} record)")
    origin = original_works(ws, rids)
    ts = now()
    conn = ws.db.conn
    moved: list[int] = []
    targets: dict[int, int] = {}
    with ws.transaction():
        for rid in rids:
            target = origin.get(rid, work_id)
            if target != work_id:
                exists = conn.execute("SELECT id FROM works WHERE id = ?", [target]).fetchone()
                if exists is None:
                    cur = conn.execute(
                        "INSERT INTO works (active, created_at, updated_at) VALUES (1, ?, ?)",
                        [ts, ts],
                    )
                    target = int(cur.lastrowid)  # type: ignore[arg-type]
                conn.execute(
                    "UPDATE works SET active = 1, merged_into = NULL, updated_at = ? WHERE id = ?",
                    [ts, target],
                )
                conn.execute("UPDATE records SET work_id = ? WHERE id = ?", [target, rid])
                moved.append(rid)
            targets[rid] = target
        for target in set(targets.values()):
            recompute_work(ws, target)
        for i, a in enumerate(rids):
            for b in rids[i + 1 :]:
                if targets[a] == targets[b]:
                    continue
                conn.execute(
                    "INSERT INTO dedup_candidates (created_at, record_a, record_b, score, rule, status,"
                    " decided_at, decided_by) VALUES (?, ?, ?, NULL, 'undo', 'distinct', ?, ?)"
                    " ON CONFLICT(record_a, record_b) DO UPDATE SET status = 'distinct',"
                    " decided_at = excluded.decided_at, decided_by = excluded.decided_by",
                    [ts, a, b, ts, actor],
                )
        conn.execute(
            "INSERT INTO merges (created_at, action, work_id, record_ids, from_work_ids, rule, score, actor,"
            " note) VALUES (?, 'split', ?, ?, ?, 'undo', NULL, ?, ?)",
            [
                ts,
                work_id,
                json.dumps(moved),
                json.dumps([work_id]),
                actor,
                "restored works " + ", ".join(str(w) for w in sorted(set(targets.values()))),
            ],
        )
    return {"work_id": work_id, "records": len(rids), "works": sorted(set(targets.values()))}


def record_merges(ws: Workspace) -> dict[int, dict[str, Any]]:
    """Record id -> rule, score, run and justifying pair of the merge that put it in its group."""
    out: dict[int, dict[str, Any]] = {}
    for action, rids, rule, score, run_id, evidence in ws.db.execute(
        "SELECT action, record_ids, rule, score, run_id, evidence FROM merges ORDER BY id"
    ):  # run_id, evidence: migration m010; every open migrates
        pair = (json.loads(evidence) or {}).get("pair") if evidence else None
        for rid in json.loads(rids):
            if action == "merge":
                out[rid] = {"rule": rule or "", "score": score, "run_id": run_id, "pair": pair}
            else:
                out.pop(rid, None)
    return out


def duplicate_groups(ws: Workspace) -> list[dict[str, Any]]:
    """Every active work with more than one record, one row per record (the survivor's own first).

    ``pair`` names the two records whose comparison justified the merge ("12+15"), ``run_id``
    the dedup run that made it (empty for a reviewer's merge or an older workspace)."""
    reasons = record_merges(ws)
    rows = ws.db.execute(
        "SELECT r.work_id, r.id, r.source, r.source_record_id, r.title FROM records r"
        " JOIN works w ON w.id = r.work_id"
        " WHERE w.active = 1 AND r.work_id IN (SELECT work_id FROM records GROUP BY work_id HAVING COUNT(*) > 1)"
        " ORDER BY r.work_id, r.id"
    ).fetchall()
    out = []
    kept = {"rule": "kept", "score": None, "run_id": None, "pair": None}
    for work_id, rid, source, srid, title in rows:
        m = reasons.get(rid, kept)
        out.append(
            {
                "work_id": work_id,
                "record_id": rid,
                "source": source,
                "source_record_id": srid,
                "title": title,
                "rule": m["rule"],
                "score": None if m["score"] is None else round(m["score"], 3),
                "pair": "+".join(str(x) for x in m["pair"]) if m["pair"] else None,
                "run_id": m["run_id"],
            }
        )
    return out
