"""Searches (the PRISMA-S log), records and works: the writes every harvester uses."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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


FINGERPRINT_FIELDS: tuple[str, ...] = (
    "title", "abstract", "authors", "year", "doi", "pmid", "openalex_id", "isbn", "issn", "venue",
    "volume", "issue", "pages", "language", "record_type", "url", "keywords", "published_date",
    "file_sha256",
)  # fmt: skip


def row_fingerprint(row: Mapping[str, Any]) -> str:
    """Content hash of a mapped record (its ``records`` row): the identity of a record that has
    no source id. Whitespace runs, empty strings and empty lists count as missing."""
    parts: list[str | None] = []
    for key in FINGERPRINT_FIELDS:
        value = row.get(key)
        text = None if value is None else " ".join(str(value).split())
        parts.append(text if text and text != "[]" else None)
    blob = json.dumps(parts, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


@dataclass
class StoreResult:
    """What ``store_records`` did with one batch."""

    ids: list[int] = field(default_factory=list)  # records stored
    already_stored: list[str] = field(default_factory=list)  # skipped: ids (or "content") in store
    repeated_ids: dict[str, int] = field(default_factory=dict)  # id -> copies in this batch (>1)
    repeated_content: int = 0  # extra exact copies of records without an id in this batch

    @property
    def repeats(self) -> int:
        """Records in the batch that repeat another one (stored; dedup removes them)."""
        return sum(n - 1 for n in self.repeated_ids.values()) + self.repeated_content


def _stored_counts(ws: Workspace, source: str, column: str, keys: list[str]) -> Counter[str]:
    """How many records of ``source`` already carry each of these ids/fingerprints (indexed)."""
    counts: Counter[str] = Counter()
    uniq = sorted(set(keys))
    for i in range(0, len(uniq), 500):
        chunk = uniq[i : i + 500]
        for key, n in ws.db.execute(
            f"SELECT {column}, COUNT(*) FROM records WHERE source = ? AND {column} IN"
            f" ({','.join('?' * len(chunk))}) GROUP BY {column}",
            [source, *chunk],
        ):
            counts[key] = n
    return counts


def add_records(
    ws: Workspace,
    search_id: int,
    records: Iterable[Record],
    *,
    skip_existing: bool = True,
    group_name: str | None = None,
    match_content: bool = False,
) -> list[int]:
    """Store records of one search; returns the ids of the records stored (see ``store_records``)."""
    return store_records(
        ws,
        search_id,
        records,
        skip_existing=skip_existing,
        group_name=group_name,
        match_content=match_content,
    ).ids


def store_records(
    ws: Workspace,
    search_id: int,
    records: Iterable[Record],
    *,
    skip_existing: bool = True,
    group_name: str | None = None,
    match_content: bool = False,
) -> StoreResult:
    """Store records of one search, each with a new work of its own (dedup merges later).

    The rule (README "Importing twice"): every record of the batch is stored, repeats included:
    a file that lists one accession number three times identified three records, and dedup
    removes two as duplicates. With ``skip_existing``, records already stored for this source by
    earlier batches are not stored again, copy for copy: a key (the ``source_record_id``, or with
    ``match_content`` the content fingerprint of a record without one) stored n times already
    skips its first n copies in the batch. Re-runs, resumed harvests and re-imports add nothing.
    Runs inside the caller's transaction if there is one; all or nothing.
    """
    srow = ws.db.execute("SELECT source, arm FROM searches WHERE id = ?", [search_id]).fetchone()
    if srow is None:
        raise WorkspaceError(f"no search with id {search_id}")
    source, arm = srow
    result = StoreResult()
    ts = now()
    with ws.transaction():
        batch = list(records)  # inside the transaction: a failing generator leaves nothing
        rows = [rec.to_row() for rec in batch]
        keys: list[tuple[str, str] | None] = []
        for row in rows:
            sid = row.get("source_record_id")
            if sid not in (None, ""):
                keys.append(("source_record_id", str(sid)))
            else:
                row["fingerprint"] = row_fingerprint(row)
                keys.append(("fingerprint", row["fingerprint"]) if match_content else None)
        in_store: dict[str, Counter[str]] = {
            "source_record_id": Counter(),
            "fingerprint": Counter(),
        }
        if skip_existing:
            for column in in_store:
                wanted = [k for c, k in filter(None, keys) if c == column]
                if wanted:
                    in_store[column] = _stored_counts(ws, source, column, wanted)
        conn = ws.db.conn
        for row, key in zip(rows, keys, strict=True):
            if key is not None and in_store[key[0]][key[1]] > 0:
                in_store[key[0]][key[1]] -= 1
                result.already_stored.append(key[1] if key[0] == "source_record_id" else "content")
                continue
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
            result.ids.append(int(cur.lastrowid))  # type: ignore[arg-type]
        ids = Counter(k for c, k in filter(None, keys) if c == "source_record_id")
        result.repeated_ids = {k: n for k, n in ids.items() if n > 1}
        prints = Counter(row["fingerprint"] for row in rows if "fingerprint" in row)
        result.repeated_content = sum(n - 1 for n in prints.values())
    return result


def previous_file_search(
    ws: Workspace, content_sha256: str, sources: list[str] | None
) -> dict[str, Any] | None:
    """The first complete file import of this content into one of ``sources`` (None: any)."""
    where = "" if sources is None else f" AND source IN ({','.join('?' * len(sources))})"
    row = ws.db.execute(
        "SELECT id, file_name, started_at, source FROM searches WHERE kind = 'file'"
        " AND status = 'complete' AND json_extract(params, '$.content_sha256') = ?"
        f"{where} ORDER BY id LIMIT 1",
        [content_sha256, *(sources or [])],
    ).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "file_name", "started_at", "source"), row, strict=True))


RESUME_COMMANDS = {
    "openalex": "review harvest openalex --source {source}",
    "file": "review import {file} --source {source}",
    "pdf": "review add-pdf FILES --source {source}",
    "web": "review add-web FILES --source {source}",
    "bundle": "review bundle import {file}",
}


def unfinished_searches(ws: Workspace) -> list[dict[str, Any]]:
    """Searches that did not complete (running, interrupted, failed), each with ``running``
    (a live process holds its harvest lock right now) and the command that resumes it."""
    import shlex

    from .locks import harvest_lock, live_locks

    live = {h.name for h in live_locks(ws)}
    out = []
    for row in ws.db.query(
        "SELECT id, source, kind, status, file_name, started_at, finished_at, notes FROM searches"
        " WHERE status != 'complete' ORDER BY id"
    ):
        running = harvest_lock(row["kind"], row["source"]) in live
        template = RESUME_COMMANDS.get(row["kind"], "run the command that made it again")
        row["running"] = running and row["status"] == "running"
        row["resume"] = template.format(
            source=shlex.quote(row["source"]), file=shlex.quote(row["file_name"] or "FILE")
        )
        out.append(row)
    return out


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
