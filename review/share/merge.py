"""Importing a bundle: verify first, then merge everything in ONE transaction, with provenance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..dedup.merges import recompute_works
from ..errors import BundleError
from ..store import Workspace, now
from .bundle import _RECORD_SKIP, _rows, read_bundle
from .safezip import Limits, sha256

_SEARCH_COLS = (
    "source", "arm", "kind", "query", "file_name", "started_at", "finished_at", "tool",
    "tool_version", "api_version", "records_found", "status", "cursor", "params",
)  # fmt: skip


def _reviewer(name: str, group: str, local_group: str | None = None) -> str:
    """Imported reviewers are qualified by their group; our own names come back unqualified."""
    if local_group and name.endswith(f"@{local_group}"):
        return name[: -len(local_group) - 1]
    return name if "@" in name else f"{name}@{group}"


def import_bundle(
    ws: Workspace, path: str | Path, *, group: str | None = None, limits: Limits = Limits()
) -> dict[str, Any]:
    """Merge a bundle into the workspace. Idempotent; all-or-nothing; returns what was added."""
    p = str(path)
    digest = sha256(Path(path).read_bytes())
    manifest, members = read_bundle(path, limits)
    g = group or manifest["group"]
    summary: dict[str, Any] = {
        "bundle": p, "sha256": digest, "group": g, "already_imported": False,
        "searches_added": 0, "records_added": 0, "records_skipped": 0, "works_added": 0,
        "decisions_added": 0, "notes_added": 0, "tags_added": 0, "files_added": 0,
    }  # fmt: skip
    if ws.db.execute("SELECT 1 FROM bundles WHERE sha256 = ?", [digest]).fetchone():
        summary["already_imported"] = True
        return summary
    searches = _rows(members, "searches.jsonl", p)
    records = _rows(members, "records.jsonl", p)
    decisions = _rows(members, "decisions.jsonl", p)
    notes = _rows(members, "notes.jsonl", p)
    tags = _rows(members, "tags.jsonl", p)
    documents = _rows(members, "documents.jsonl", p)
    for i, r in enumerate(records, 1):
        if not r.get("origin") or r.get("search_id") is None or r.get("work_ref") is None:
            raise BundleError(
                f"records.jsonl line {i}: missing origin, search_id or work_ref", path=p
            )
    search_ids = {s.get("id") for s in searches}
    for i, r in enumerate(records, 1):
        if r["search_id"] not in search_ids:
            raise BundleError(f"records.jsonl line {i}: unknown search_id {r['search_id']}", path=p)

    # files are content-addressed: writing them first is harmless even if the merge fails
    files_dir = ws.files_dir
    for name, data in members.items():
        if name.startswith("files/"):
            target = files_dir / "bundles" / Path(name).name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                summary["files_added"] += 1

    ts = now()
    db = ws.db
    conn = db.conn
    with ws.transaction():
        search_map: dict[Any, int] = {}
        for s in searches:
            key = f"origin={g}/search/{s['id']}"
            row = conn.execute("SELECT id FROM searches WHERE notes = ?", [key]).fetchone()
            if row:
                search_map[s["id"]] = row[0]
                continue
            values = {c: s.get(c) for c in _SEARCH_COLS}
            if values["arm"] not in ("databases", "registers", "other"):
                raise BundleError(
                    f"searches.jsonl: search {s['id']} has unknown arm {values['arm']!r}", path=p
                )
            values.update(group_name=s.get("group_name") or g, notes=key, records_stored=0)
            values["status"] = values["status"] or "complete"
            cols = ", ".join(values)
            cur = conn.execute(
                f"INSERT INTO searches ({cols}) VALUES ({', '.join('?' * len(values))})",
                list(values.values()),
            )
            search_map[s["id"]] = int(cur.lastrowid)  # type: ignore[arg-type]
            summary["searches_added"] += 1

        # records, grouped by the exporting group's work
        local_cols = {c.name for c in db["records"].columns}
        by_work: dict[Any, list[dict[str, Any]]] = {}
        for r in records:
            by_work.setdefault(r["work_ref"], []).append(r)
        work_map: dict[Any, int] = {}
        stored_per_search: dict[int, int] = {}
        for ref, recs in by_work.items():
            existing_work = None
            new_recs = []
            for r in recs:
                row = conn.execute(
                    "SELECT work_id FROM records WHERE origin = ? LIMIT 1", [r["origin"]]
                ).fetchone()
                if row:
                    existing_work = existing_work or row[0]
                    summary["records_skipped"] += 1
                else:
                    new_recs.append(r)
            if existing_work is not None:
                existing_work = _canonical(conn, existing_work)
            if not new_recs:
                if existing_work is not None:
                    work_map[ref] = existing_work
                continue
            if existing_work is None:  # its fields are filled from its records below
                cur = conn.execute(
                    "INSERT INTO works (active, created_at, updated_at) VALUES (1, ?, ?)", [ts, ts]
                )
                existing_work = int(cur.lastrowid)  # type: ignore[arg-type]
                summary["works_added"] += 1
            work_map[ref] = existing_work
            new_ids = []
            for r in new_recs:
                row = {k: v for k, v in r.items() if k in local_cols and k not in _RECORD_SKIP}
                row.update(
                    search_id=search_map[r["search_id"]], work_id=existing_work, origin=r["origin"],
                    group_name=r.get("group_name") or g,
                )  # fmt: skip
                row["created_at"] = row.get("created_at") or ts
                cur = conn.execute(
                    f"INSERT INTO records ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()),
                )
                new_ids.append(int(cur.lastrowid))  # type: ignore[arg-type]
                stored_per_search[row["search_id"]] = stored_per_search.get(row["search_id"], 0) + 1
            summary["records_added"] += len(new_ids)
            if len(recs) > 1:
                conn.execute(
                    "INSERT INTO merges (created_at, action, work_id, record_ids, rule, actor, group_name)"
                    " VALUES (?, 'merge', ?, ?, 'bundle', ?, ?)",
                    [ts, existing_work, json.dumps(new_ids), f"bundle:{g}", g],
                )
        # every work that gained records takes the best fields of all its records (dedup's rule)
        recompute_works(ws, {w for ref, w in work_map.items() if ref in by_work})
        for sid, n in stored_per_search.items():
            conn.execute(
                "UPDATE searches SET records_stored = records_stored + ? WHERE id = ?", [n, sid]
            )

        for table, rows, key in (("decisions", decisions, "decisions_added"), ("notes", notes, "notes_added"), ("tags", tags, "tags_added")):  # fmt: skip
            for d in rows:
                work = work_map.get(d.get("work_ref"))
                if work is None:
                    continue
                summary[key] += _insert_log_row(conn, table, d, work, g, ws.get_meta("group_name"))

        for d in documents:
            bfile = d.get("bundle_file")
            rec = conn.execute(
                "SELECT id, work_id FROM records WHERE origin = ?",
                [f"{g}/{d.get('record_id')}"],
            ).fetchone()
            if rec is None or conn.execute("SELECT 1 FROM documents WHERE sha256 = ? AND record_id = ?", [d.get("sha256"), rec[0]]).fetchone():  # fmt: skip
                continue
            conn.execute(
                "INSERT INTO documents (record_id, work_id, kind, path, original_name, sha256, pages,"
                " language, meta, text, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [rec[0], rec[1], d.get("kind") or "pdf", f"bundles/{Path(bfile).name}" if bfile else None,
                 d.get("original_name"), d.get("sha256"), d.get("pages"), d.get("language"),
                 d.get("meta"), d.get("text"), ts],
            )  # fmt: skip
        conn.execute(
            "INSERT INTO bundles (sha256, group_name, manifest, imported_at, records_added, decisions_added)"
            " VALUES (?,?,?,?,?,?)",
            [
                digest,
                g,
                json.dumps(manifest),
                ts,
                summary["records_added"],
                summary["decisions_added"],
            ],
        )
    return summary


def _canonical(conn: Any, work_id: int) -> int:
    row = conn.execute("SELECT merged_into FROM works WHERE id = ?", [work_id]).fetchone()
    return int(row[0]) if row and row[0] else int(work_id)


def _insert_log_row(
    conn: Any, table: str, d: dict[str, Any], work: int, group: str, local_group: str | None
) -> int:
    reviewer = _reviewer(str(d.get("reviewer") or "unknown"), group, local_group)
    created = d.get("created_at")
    if table == "decisions":
        exists = conn.execute(
            "SELECT 1 FROM decisions WHERE work_id = ? AND stage = ? AND reviewer = ? AND decision = ?"
            " AND created_at = ?",
            [work, d.get("stage"), reviewer, d.get("decision"), created],
        ).fetchone()
        if exists:
            return 0
        if d.get("decision") not in ("include", "exclude", "maybe", "retract"):
            raise BundleError(f"decisions.jsonl: unknown decision {d.get('decision')!r}")
        origin = d.get("origin") or "local"
        conn.execute(
            "INSERT INTO decisions (work_id, stage, reviewer, decision, reason, note, origin,"
            " group_name, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [work, d.get("stage"), reviewer, d.get("decision"), d.get("reason"), d.get("note"),
             origin if origin == "resolution" else f"bundle:{group}", d.get("group_name") or group, created],
        )  # fmt: skip
        return 1
    if table == "notes":
        if conn.execute(
            "SELECT 1 FROM notes WHERE work_id = ? AND reviewer = ? AND created_at = ?",
            [work, reviewer, created],
        ).fetchone():
            return 0
        conn.execute(
            "INSERT INTO notes (work_id, stage, reviewer, text, created_at) VALUES (?,?,?,?,?)",
            [work, d.get("stage"), reviewer, d.get("text") or "", created],
        )
        return 1
    if conn.execute(
        "SELECT 1 FROM tags WHERE work_id = ? AND reviewer = ? AND tag = ? AND created_at = ?",
        [work, reviewer, d.get("tag"), created],
    ).fetchone():
        return 0
    conn.execute(
        "INSERT INTO tags (work_id, tag, action, reviewer, created_at) VALUES (?,?,?,?,?)",
        [work, d.get("tag"), d.get("action") or "add", reviewer, created],
    )
    return 1
