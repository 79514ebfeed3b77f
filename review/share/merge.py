"""Importing a bundle: verify, validate every row, then merge in ONE transaction, with provenance.

Order: open and verify the bundle (bundle.open_bundle: sizes, manifest, signature, checksums);
refuse it under ``[sharing] require_signed`` unless a trusted key signed it; validate every row of
every member (rows.py) streaming, writing nothing; then one transaction inserts everything and,
last, copies the PDFs it references into ``<db>.files/bundles/``. Any failure rolls the
transaction back and removes every file and folder the import created: a refused import leaves
the workspace and its file store byte-identical. Memory stays bounded: members are streamed from
disk twice (validate, write) and only ids are kept between the passes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from ..dedup.merges import recompute_works
from ..errors import BundleError
from ..store import Workspace, now
from . import coding
from .bundle import _RECORD_SKIP, Bundle, open_bundle, valid_group
from .index import Index
from .keys import trusted_groups
from .rows import (
    Context,
    clean_decision,
    clean_document,
    clean_note,
    clean_record,
    clean_search,
    clean_tag,
)
from .safezip import Limits

_SEARCH_COLS = (
    "source", "arm", "kind", "query", "file_name", "started_at", "finished_at", "tool",
    "tool_version", "api_version", "records_found", "status", "cursor", "params",
)  # fmt: skip
_LOGS = (
    ("decisions.jsonl", clean_decision, "decisions_added"),
    ("notes.jsonl", clean_note, "notes_added"),
    ("tags.jsonl", clean_tag, "tags_added"),
)


def import_bundle(
    ws: Workspace, path: str | Path, *, group: str | None = None, limits: Limits = Limits()
) -> dict[str, Any]:
    """Merge a bundle into the workspace. Idempotent; all-or-nothing; returns what was added."""
    with open_bundle(path, ws, limits) as b:  # hashes the file once (b.sha256)
        if ws.db.execute("SELECT 1 FROM bundles WHERE sha256 = ?", [b.sha256]).fetchone():
            # still verified, still says who signed it
            return {**_summary(b, b.manifest["group"]), "already_imported": True}
        g = _group(ws, b, group)
        summary = _summary(b, g)
        ctx = _validate(ws, b, g)
        summary["dates_clamped"] = ctx.clamped
        created: list[Path] = []
        try:
            with ws.transaction():
                _write(ws, b, ctx, summary, created)
        except BaseException:
            for f in reversed(created):  # files first, then the folders made for them
                if f.is_dir():
                    shutil.rmtree(f, ignore_errors=True)
                else:
                    f.unlink(missing_ok=True)
            raise
        finally:
            ctx.index.close()
    return summary


def _summary(b: Bundle, g: str) -> dict[str, Any]:
    return {
        "bundle": b.path, "sha256": b.sha256, "group": g, "signature": b.signature.as_dict(),
        "already_imported": False, "searches_added": 0, "records_added": 0,
        "records_skipped": 0, "works_added": 0, "decisions_added": 0, "notes_added": 0,
        "tags_added": 0, "files_added": 0, "relayed_skipped": 0, "dates_clamped": 0,
        "coding_runs_added": 0, "suggestions_added": 0, "codes_added": 0,
    }  # fmt: skip


def _group(ws: Workspace, b: Bundle, override: str | None) -> str:
    """The group the bundle's rows belong to; never ours; a trusted signer's name is final."""
    g = b.manifest["group"]
    sig = b.signature
    proto = ws.protocol()
    if proto is not None and getattr(proto, "require_signed", False) and sig.status != "trusted":
        why = (
            "unsigned"
            if sig.status == "unsigned"
            else f"signed by an unknown key ({sig.fingerprint})"
        )
        raise BundleError(
            f"bundle is {why}; the protocol sets [sharing] require_signed = true: trust the "
            f"sender's key first (review keys trust {g}.pub)",
            path=b.path,
        )
    if override and override != g:
        if sig.status == "trusted":
            raise BundleError(f"bundle is signed by {g!r}'s trusted key: --group cannot rename it", path=b.path)  # fmt: skip
        if not valid_group(override):
            raise BundleError(f"group name {override!r} is not a valid group name", path=b.path)
        if override in trusted_groups(ws):
            raise BundleError(f"--group {override!r}: only {override!r}'s trusted key can sign for it", path=b.path)  # fmt: skip
        g = override
    local = ws.get_meta("group_name")
    if local and g == local:
        raise BundleError(
            f"bundle claims to come from group {g!r}, which is this workspace's own group",
            path=b.path,
        )
    return g


def _validate(ws: Workspace, b: Bundle, g: str) -> Context:
    """Every row of every member, checked as local commands check their input. Writes nothing."""
    from ..screen.queue import stages_of

    proto = ws.protocol()
    ctx = Context(
        path=b.path, group=g, ts=now(), stages=stages_of(ws),
        reasons=tuple(c.code for c in proto.exclusion) if proto else None,
        index=Index(b.dir / ".import-index.sqlite"), listed=set(b.sizes),
        codebook={f.name: f for f in proto.codebook} if proto else {},
    )  # fmt: skip
    try:
        _validate_rows(ws, b, ctx)
    except BaseException:
        ctx.index.close()
        raise
    return ctx


def _validate_rows(ws: Workspace, b: Bundle, ctx: Context) -> None:
    cols = {c.name for c in ws.db["records"].columns}
    for i, row in b.rows("documents.jsonl"):
        clean_document(ctx, i, row)
    for i, row in b.rows("searches.jsonl"):
        clean_search(ctx, i, row)
    local = ws.get_meta("group_name")
    for i, row in b.rows("records.jsonl"):
        r = clean_record(ctx, i, row, cols)
        if (
            local
            and r["origin"].startswith(f"{local}/")
            and not ws.db.execute(
                "SELECT 1 FROM records WHERE origin = ? LIMIT 1", [r["origin"]]
            ).fetchone()
        ):
            raise ctx.fail(
                "records.jsonl", i, "origin",
                f"{r['origin']!r} claims to be a record of this workspace's group, which has none such",
            )  # fmt: skip
    for member, clean, _ in _LOGS:
        for i, row in b.rows(member):
            clean(ctx, i, row)
    coding.validate(ctx, b.rows)


def _write(
    ws: Workspace, b: Bundle, ctx: Context, summary: dict[str, Any], created: list[Path]
) -> None:
    g, ts, idx = ctx.group, ctx.ts, ctx.index
    ctx.recording = False  # ids were recorded by the validation pass
    conn = ws.db.conn
    local_group = ws.get_meta("group_name")
    for i, row in b.rows("searches.jsonl"):
        s = clean_search(ctx, i, row)
        key = f"origin={g}/search/{s['id']}"
        found = conn.execute("SELECT id FROM searches WHERE notes = ?", [key]).fetchone()
        own = re.fullmatch(r"origin=(.+)/search/(\d+)", s["notes"] or "")
        if not found and own and own.group(1) == local_group:  # our own search, relayed back
            found = conn.execute(
                "SELECT id FROM searches WHERE id = ? AND (notes IS NULL OR notes NOT LIKE 'origin=%')",
                [int(own.group(2))],
            ).fetchone()
        if found:
            idx.set_search(s["id"], found[0])
            continue
        values = {c: s[c] for c in _SEARCH_COLS}
        values.update(group_name=_provenance(s["group_name"], g, local_group), notes=key, records_stored=0)  # fmt: skip
        cur = conn.execute(
            f"INSERT INTO searches ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        )
        idx.set_search(s["id"], int(cur.lastrowid))  # type: ignore[arg-type]
        summary["searches_added"] += 1

    # records, grouped by the exporting group's work: first find the works some record of each
    # group already belongs to here (by origin), then insert the new ones, streaming both times
    cols = {c.name for c in ws.db["records"].columns}
    for _, row in b.rows("records.jsonl"):  # validated already: only origin and work_ref read
        found = conn.execute("SELECT work_id FROM records WHERE origin = ? LIMIT 1", [row["origin"]]).fetchone()  # fmt: skip
        if found and idx.work(row["work_ref"]) is None:
            idx.set_work(row["work_ref"], _canonical(conn, found[0]))
    for i, row in b.rows("records.jsonl"):
        r = clean_record(ctx, i, row, cols)
        if idx.has_docs:
            idx.doc_origin(r["id"], r["origin"])  # kept only for records a document points at
        if conn.execute("SELECT 1 FROM records WHERE origin = ? LIMIT 1", [r["origin"]]).fetchone():
            summary["records_skipped"] += 1
            continue
        ref = r["work_ref"]
        work = idx.work(ref)
        if work is None:  # its fields are filled from its records below
            cur = conn.execute("INSERT INTO works (active, created_at, updated_at) VALUES (1, ?, ?)", [ts, ts])  # fmt: skip
            work = int(cur.lastrowid)  # type: ignore[arg-type]
            idx.set_work(ref, work)
            summary["works_added"] += 1
        values = {k: v for k, v in r.items() if k in cols and k not in _RECORD_SKIP}
        values.update(
            search_id=idx.local_search(r["search_id"]), work_id=work, origin=r["origin"],
            group_name=_provenance(str(row.get("group_name") or ""), g, local_group, r["origin"]),
        )  # fmt: skip
        cur = conn.execute(
            f"INSERT INTO records ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        )
        idx.added(ref, int(cur.lastrowid))  # type: ignore[arg-type]
        idx.stored(r["search_id"])
    summary["records_added"] = idx.records_added()
    for work, ids in idx.merged_groups():
        conn.execute(
            "INSERT INTO merges (created_at, action, work_id, record_ids, rule, actor, group_name)"
            " VALUES (?, 'merge', ?, ?, 'bundle', ?, ?)",
            [ts, work, ids, f"bundle:{g}", g],
        )
    # every work that gained records takes the best fields of all its records (dedup's rule)
    for chunk in idx.gained_works():
        recompute_works(ws, chunk)
    for sid, n in idx.stored_per_search():
        conn.execute("UPDATE searches SET records_stored = records_stored + ? WHERE id = ?", [n, sid])  # fmt: skip

    for member, clean, key in _LOGS:
        table = member.removesuffix(".jsonl")
        for i, row in b.rows(member):
            d = clean(ctx, i, row)
            if d is None:
                summary["relayed_skipped"] += 1
                continue
            summary[key] += _insert_log_row(conn, table, d, idx.work(d["work_ref"]), g)  # type: ignore[arg-type]

    coding.write(ctx, conn, b.rows, summary)

    files: dict[str, str] = {}
    for i, row in b.rows("documents.jsonl"):
        d = clean_document(ctx, i, row)
        origin = idx.origin_of(d["record_id"])
        rec = conn.execute("SELECT id, work_id FROM records WHERE origin = ?", [origin]).fetchone()
        if rec is None or conn.execute("SELECT 1 FROM documents WHERE sha256 = ? AND record_id = ?", [d["sha256"], rec[0]]).fetchone():  # fmt: skip
            continue
        bfile = d["bundle_file"]
        stored = f"bundles/{Path(bfile).name}" if bfile else None
        if bfile and stored:
            files[bfile] = stored
        conn.execute(
            "INSERT INTO documents (record_id, work_id, kind, path, original_name, sha256, pages,"
            " language, meta, text, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [rec[0], rec[1], d["kind"], stored, d["original_name"], d["sha256"], d["pages"],
             d["language"], d["meta"], d["text"], ts],
        )  # fmt: skip
    summary["files_added"] = _place_files(ws, b, files, created)
    conn.execute(
        "INSERT INTO bundles (sha256, group_name, manifest, imported_at, records_added, decisions_added)"
        " VALUES (?,?,?,?,?,?)",
        [b.sha256, g, json.dumps({**b.manifest, "signature": b.signature.as_dict()}), ts,
         summary["records_added"], summary["decisions_added"]],
    )  # fmt: skip


def _provenance(claimed: str | None, g: str, local: str | None, origin: str | None = None) -> str:
    """A row's group: the sender's, unless it relays another group's row consistently
    (a record whose origin is that group's); never this workspace's own group."""
    if not claimed or claimed == local or not valid_group(claimed):
        return g
    if origin is not None and not origin.startswith(f"{claimed}/"):
        return g
    return claimed


def _place_files(ws: Workspace, b: Bundle, files: dict[str, str], created: list[Path]) -> int:
    """Copy the referenced files into the file store; every path made goes into ``created``."""
    added = 0
    for member, rel in sorted(files.items()):
        target = ws.files_dir / rel
        if target.exists():
            continue
        for parent in reversed(target.parents):
            if not parent.exists() and ws.files_dir in (parent, *parent.parents):
                parent.mkdir()
                created.append(parent)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        created.append(tmp)
        shutil.copyfile(b.dir / member, tmp)
        os.replace(tmp, target)
        created.append(target)
        added += 1
    return added


def _canonical(conn: Any, work_id: int) -> int:
    row = conn.execute("SELECT merged_into FROM works WHERE id = ?", [work_id]).fetchone()
    return int(row[0]) if row and row[0] else int(work_id)


def _insert_log_row(conn: Any, table: str, d: dict[str, Any], work: int, group: str) -> int:
    """One decision, note or tag row of the bundle's group; 0 when it is already here."""
    reviewer, created = d["reviewer"], d["created_at"]
    if table == "decisions":
        if conn.execute(
            "SELECT 1 FROM decisions WHERE work_id = ? AND stage = ? AND reviewer = ? AND decision = ?"
            " AND created_at = ?",
            [work, d["stage"], reviewer, d["decision"], created],
        ).fetchone():
            return 0
        conn.execute(
            "INSERT INTO decisions (work_id, stage, reviewer, decision, reason, note, origin,"
            " group_name, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [work, d["stage"], reviewer, d["decision"], d["reason"], d["note"],
             f"bundle:{group}", group, created],
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
            [work, d["stage"], reviewer, d["text"], created],
        )
        return 1
    if conn.execute(
        "SELECT 1 FROM tags WHERE work_id = ? AND reviewer = ? AND tag = ? AND created_at = ?",
        [work, reviewer, d["tag"], created],
    ).fetchone():
        return 0
    conn.execute(
        "INSERT INTO tags (work_id, tag, action, reviewer, created_at) VALUES (?,?,?,?,?)",
        [work, d["tag"], d["action"], reviewer, created],
    )
    return 1
