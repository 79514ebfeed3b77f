"""Searches (the PRISMA-S log), records and works: the writes every harvester uses."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..errors import WorkspaceError
from ..models import ARMS, Record
from .workspace import Workspace, now

SEARCH_KINDS = ("openalex", "file", "pdf", "web", "bundle", "manual")


def start_search(
    ws: Workspace,
    *,
    source: str,
    arm: str,
    kind: str,
    query: str | None = None,
    file_name: str | None = None,
    tool: str | None = None,
    tool_version: str | None = None,
    api_version: str | None = None,
    params: dict[str, Any] | None = None,
    group_name: str | None = None,
) -> int:
    """Log the start of a search and return its id (status 'running')."""
    if arm not in ARMS:
        raise WorkspaceError(f"unknown arm {arm!r}; expected one of {', '.join(ARMS)}")
    if kind not in SEARCH_KINDS:
        raise WorkspaceError(f"unknown search kind {kind!r}")
    from .. import __version__

    row = {
        "source": source,
        "arm": arm,
        "kind": kind,
        "query": query,
        "file_name": file_name,
        "started_at": now(),
        "tool": tool or "review",
        "tool_version": tool_version or __version__,
        "api_version": api_version,
        "status": "running",
        "params": json.dumps(params, ensure_ascii=False, default=str) if params else None,
        "group_name": group_name,
    }
    return int(ws.db.table("searches").insert(row).last_pk)  # type: ignore[arg-type]


def update_search(ws: Workspace, search_id: int, **fields: Any) -> None:
    ws.db.table("searches").update(search_id, fields)


def finish_search(
    ws: Workspace,
    search_id: int,
    *,
    records_found: int | None,
    records_stored: int,
    status: str = "complete",
) -> None:
    ws.db.table("searches").update(
        search_id,
        {
            "records_found": records_found,
            "records_stored": records_stored,
            "status": status,
            "finished_at": now(),
        },
    )


_WORK_COLS = (
    "title", "abstract", "authors", "year", "doi", "venue", "language", "record_type", "url",
    "content_hash",
)  # fmt: skip


def _stored_ids(ws: Workspace, source: str, sids: list[str]) -> set[str]:
    """Which of these source ids are already stored for ``source`` (indexed lookups)."""
    seen: set[str] = set()
    for i in range(0, len(sids), 500):
        chunk = sids[i : i + 500]
        seen.update(
            x
            for (x,) in ws.db.execute(
                "SELECT source_record_id FROM records WHERE source = ? AND source_record_id IN"
                f" ({','.join('?' * len(chunk))})",
                [source, *chunk],
            )
        )
    return seen


def add_records(
    ws: Workspace,
    search_id: int,
    records: Iterable[Record],
    *,
    skip_existing: bool = True,
    group_name: str | None = None,
) -> list[int]:
    """Store records of one search, each with a new work of its own (dedup merges later).

    Records whose ``source_record_id`` is already stored for this source are skipped when
    ``skip_existing`` (re-runs and resumed harvests add no duplicates). Runs inside the caller's
    transaction if there is one; all or nothing. Returns the ids of the records stored.
    """
    srow = ws.db.execute("SELECT source, arm FROM searches WHERE id = ?", [search_id]).fetchone()
    if srow is None:
        raise WorkspaceError(f"no search with id {search_id}")
    source, arm = srow
    ids: list[int] = []
    ts = now()
    with ws.transaction():
        batch = list(records)  # inside the transaction: a failing generator leaves nothing
        seen: set[str] = set()
        if skip_existing:
            seen = _stored_ids(
                ws, source, [r.source_record_id for r in batch if r.source_record_id]
            )
        conn = ws.db.conn
        for rec in batch:
            sid = rec.source_record_id
            if sid is not None and sid in seen:
                continue
            row = rec.to_row()
            work = {k: row[k] for k in _WORK_COLS}
            work.update(active=1, created_at=ts, updated_at=ts)
            cur = conn.execute(
                f"INSERT INTO works ({', '.join(work)}) VALUES ({', '.join('?' * len(work))})",
                list(work.values()),
            )
            row.update(
                search_id=search_id,
                source=source,
                arm=arm,
                work_id=cur.lastrowid,
                group_name=group_name,
                created_at=ts,
            )
            cur = conn.execute(
                f"INSERT INTO records ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )
            ids.append(int(cur.lastrowid))  # type: ignore[arg-type]
            if sid is not None:
                seen.add(sid)
    return ids


def record_counts_by_source(ws: Workspace) -> dict[str, int]:
    return {
        r[0]: r[1]
        for r in ws.db.execute(
            "SELECT source, COUNT(*) FROM records GROUP BY source ORDER BY source"
        )
    }


def record_counts_by_arm(ws: Workspace) -> dict[str, int]:
    counts = dict.fromkeys(ARMS, 0)
    for arm, n in ws.db.execute("SELECT arm, COUNT(*) FROM records GROUP BY arm"):
        counts[arm] = n
    return counts


def count_records(ws: Workspace) -> int:
    return int(ws.db.execute("SELECT COUNT(*) FROM records").fetchone()[0])


def count_works(ws: Workspace) -> int:
    return int(ws.db.execute("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0])


def searches(ws: Workspace) -> list[dict[str, Any]]:
    return list(ws.db.query("SELECT * FROM searches ORDER BY id"))
