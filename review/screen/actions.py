"""Screening actions on one work: decide, undo, note, tag, attach a PDF, mark not retrieved, history.

Every action is one committed transaction on append-only tables (``decisions``, ``notes``,
``tags``, ``retrieval``), so a crash right after a call loses nothing. Undo never deletes: it
appends a row restoring the value the work had before the decision being undone (or a
'retract' when it had none); that row's note reads ``undo of #<id>``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import ScreenError
from ..models import OUTCOMES
from ..store import Workspace, now
from ..store.decisions import cached_protocol, final_work, group_ids, record_decision
from .queue import check_stage

UNDO_PREFIX = "undo of #"


def _work_exists(ws: Workspace, work_id: int) -> None:
    if ws.db.execute("SELECT 1 FROM works WHERE id = ?", [work_id]).fetchone() is None:
        raise ScreenError(f"no work with id {work_id}", where=f"work {work_id}")


def survivor(ws: Workspace, work_id: int) -> int:
    """The work a decision on ``work_id`` is recorded on: itself, or the final work it was merged
    into. A work removed without a merge cannot be decided (ScreenError)."""
    _work_exists(ws, work_id)
    final = final_work(ws, work_id)
    active = ws.db.execute("SELECT active FROM works WHERE id = ?", [final]).fetchone()[0]
    if not active:
        raise ScreenError(
            f"work {final} is not active (removed from the review)", where=f"work {work_id}"
        )
    return final


def get_work(ws: Workspace, work_id: int) -> dict[str, Any]:
    """One work with its sources, current tags, notes and retrieval status (indexed reads)."""
    rows = list(ws.db.query("SELECT * FROM works WHERE id = ?", [work_id]))
    if not rows:
        raise ScreenError(f"no work with id {work_id}", where=f"work {work_id}")
    w = dict(rows[0])
    try:
        w["authors"] = json.loads(w["authors"]) if w["authors"] else []
    except (TypeError, ValueError):
        w["authors"] = [w["authors"]]
    w["sources"] = [
        r[0]
        for r in ws.db.execute(
            "SELECT DISTINCT source FROM records WHERE work_id = ? ORDER BY source", [work_id]
        )
    ]
    w["tags"] = current_tags(ws, work_id)
    w["notes"] = list(ws.db.query("SELECT * FROM notes WHERE work_id = ? ORDER BY id", [work_id]))
    w["retrieval"] = retrieval_status(ws, work_id)
    return w


# -- decisions --------------------------------------------------------------------------------


def decide(
    ws: Workspace,
    work_id: int,
    stage: str,
    reviewer: str,
    decision: str,
    reason: str | None = None,
    note: str | None = None,
    origin: str = "local",
) -> int:
    """Record include / exclude (with a protocol reason code) / maybe; committed on return.

    A decision on a work merged into another is recorded on the final survivor (see
    ``survivor``; the CLI says so)."""
    check_stage(ws, stage)
    work_id = survivor(ws, work_id)
    if decision not in OUTCOMES:
        raise ScreenError(f"unknown decision {decision!r}; expected include, exclude or maybe")
    if decision == "exclude":
        proto = cached_protocol(ws)
        if not reason:
            raise ScreenError("an exclusion needs a reason code from the protocol")
        if proto is not None and proto.reason(reason) is None:
            codes = ", ".join(c.code for c in proto.exclusion)
            raise ScreenError(f"unknown exclusion reason {reason!r}; the protocol's are {codes}")
    elif reason:
        raise ScreenError(f"a reason is only given with an exclusion, not with {decision!r}")
    return record_decision(
        ws,
        work_id=work_id,
        stage=stage,
        reviewer=reviewer,
        decision=decision,
        reason=reason,
        note=note,
        origin=origin,
    )


def undo(ws: Workspace, decision_id: int, origin: str = "local") -> int:
    """Undo one decision row: append the value its work had before it. Returns the new row id."""
    row = ws.db.execute(
        "SELECT work_id, stage, reviewer FROM decisions WHERE id = ?", [decision_id]
    ).fetchone()
    if row is None:
        raise ScreenError(f"no decision with id {decision_id}")
    work_id, stage, reviewer = row
    # the value before it, among the rows of the whole merged group (decisions follow merges);
    # the undo row goes on the final work, where the reviewer's current vote now lives
    work_id = final_work(ws, work_id)
    ids = group_ids(ws, work_id)
    prev = ws.db.execute(
        f"SELECT decision, reason FROM decisions WHERE work_id IN ({','.join('?' * len(ids))})"
        " AND stage = ? AND reviewer = ? AND id < ? ORDER BY id DESC LIMIT 1",
        [*ids, stage, reviewer, decision_id],
    ).fetchone()
    decision, reason = prev if prev else ("retract", None)
    return record_decision(
        ws,
        work_id=work_id,
        stage=stage,
        reviewer=reviewer,
        decision=decision,
        reason=reason,
        note=f"{UNDO_PREFIX}{decision_id}",
        origin=origin,
    )


def undo_last(
    ws: Workspace, stage: str, reviewer: str, origin: str = "local", work_id: int | None = None
) -> dict[str, Any] | None:
    """Undo the reviewer's latest not-yet-undone decision at ``stage`` (on ``work_id`` if given).

    Repeatable: each call goes one decision further back. Returns ``{"work_id", "undone", "id"}``
    or None when there is nothing to undo.
    """
    undone: set[int] = set()
    sql = "SELECT id, work_id, note FROM decisions WHERE stage = ? AND reviewer = ?"
    params: list[Any] = [stage, reviewer]
    if work_id is not None:
        ids = group_ids(ws, final_work(ws, work_id))
        sql += f" AND work_id IN ({','.join('?' * len(ids))})"
        params += ids
    cur = ws.db.execute(sql + " ORDER BY id DESC", params)
    for did, wid, note in cur:
        if note and note.startswith(UNDO_PREFIX):
            ref = note[len(UNDO_PREFIX) :]
            if ref.isdigit():
                undone.add(int(ref))
            continue
        if did in undone:
            continue
        cur.close()
        return {"work_id": final_work(ws, wid), "undone": did, "id": undo(ws, did, origin=origin)}
    return None


# -- notes, tags, retrieval ------------------------------------------------------------------


def add_note(
    ws: Workspace, work_id: int, text: str, reviewer: str, stage: str | None = None
) -> int:
    if not text.strip():
        raise ScreenError("a note cannot be empty")
    _work_exists(ws, work_id)
    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO notes (work_id, stage, reviewer, text, created_at) VALUES (?,?,?,?,?)",
            [work_id, stage, reviewer, text.strip(), now()],
        )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def tag(ws: Workspace, work_id: int, name: str, reviewer: str, action: str = "add") -> int:
    """Add (or with action='remove', remove) a tag; the log keeps both."""
    name = name.strip()
    if not name:
        raise ScreenError("a tag cannot be empty")
    if action not in ("add", "remove"):
        raise ScreenError(f"unknown tag action {action!r}")
    _work_exists(ws, work_id)
    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO tags (work_id, tag, action, reviewer, created_at) VALUES (?,?,?,?,?)",
            [work_id, name, action, reviewer, now()],
        )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def current_tags(ws: Workspace, work_id: int) -> list[str]:
    rows = ws.db.execute(
        "SELECT tag, action, MAX(id) FROM tags WHERE work_id = ? GROUP BY tag ORDER BY tag",
        [work_id],
    )
    return [r[0] for r in rows if r[1] == "add"]


def retrieval_status(ws: Workspace, work_id: int) -> str | None:
    row = ws.db.execute(
        "SELECT status FROM retrieval WHERE work_id = ? ORDER BY id DESC LIMIT 1", [work_id]
    ).fetchone()
    return row[0] if row else None


def mark_not_retrieved(ws: Workspace, work_id: int, reviewer: str) -> int:
    """Full-text stage: the report could not be obtained (PRISMA 'reports not retrieved')."""
    _work_exists(ws, work_id)
    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO retrieval (work_id, status, reviewer, created_at) VALUES (?,?,?,?)",
            [work_id, "not-retrieved", reviewer, now()],
        )
    return int(cur.lastrowid)  # type: ignore[arg-type]


# -- full text --------------------------------------------------------------------------------


def attach_pdf(ws: Workspace, work_id: int, pdf: str | Path, reviewer: str) -> int:
    """Store a copy of ``pdf`` (by sha256) with its text per page and mark the work retrieved.

    Uses the gray-literature helpers (``review.harvest.pdf.read_pdf``, ``documents.store_file``,
    ``insert_document``): a bad file raises a ``FormatError`` naming it, and nothing is written.
    The rows are one transaction; the copy is content-addressed, so a retry after a crash is
    harmless. Returns the document id.
    """
    from ..harvest import documents as docs
    from ..harvest.pdf import read_pdf

    _work_exists(ws, work_id)
    doc = read_pdf(pdf)
    rel = docs.store_file(ws, doc.path, doc.sha256, ".pdf")
    row = ws.db.execute(
        "SELECT id FROM records WHERE work_id = ? ORDER BY id LIMIT 1", [work_id]
    ).fetchone()
    if row is None:
        raise ScreenError(f"work {work_id} has no record to attach a document to")
    with ws.transaction():
        doc_id = docs.insert_document(
            ws,
            record_id=row[0],
            kind="pdf",
            path=rel,
            original_name=doc.path.name,
            sha256=doc.sha256,
            text=doc.text,
            pages=doc.pages,
            language=doc.language,
            meta={"attached_by": reviewer, "work_id": work_id},
        )
        ws.db.conn.execute(
            "INSERT INTO retrieval (work_id, status, reviewer, document_id, created_at)"
            " VALUES (?,?,?,?,?)",
            [work_id, "retrieved", reviewer, doc_id, now()],
        )
    return doc_id


# a work's latest document (params: work id twice): a UNION of two indexed look-ups
# (documents_work, records_work + documents_record); an OR across the two columns made SQLite
# scan documents (tests/test_tui_sql.py explains this statement)
LATEST_DOCUMENT_SQL = (
    "SELECT id, kind, original_name, text FROM documents WHERE id = ("
    "SELECT MAX(id) FROM (SELECT id FROM documents WHERE work_id = ?"
    " UNION ALL SELECT d.id FROM records r JOIN documents d ON d.record_id = r.id"
    " WHERE r.work_id = ?))"
)


def full_text_pages(ws: Workspace, work_id: int) -> list[dict[str, Any]]:
    """Pages of the work's latest document (attached, or a PDF/web page it was harvested from)."""
    row = ws.db.execute(LATEST_DOCUMENT_SQL, [work_id, work_id]).fetchone()
    if row is None:
        return []
    doc_id, kind, name, text = row
    pages = [
        {"document_id": doc_id, "page": p, "text": t or "", "name": name, "kind": kind}
        for p, t in ws.db.execute(
            "SELECT page, text FROM document_pages WHERE document_id = ? ORDER BY page", [doc_id]
        )
    ]
    if not pages and text:
        pages = [{"document_id": doc_id, "page": None, "text": text, "name": name, "kind": kind}]
    return pages


# -- search and history ----------------------------------------------------------------------


def search(ws: Workspace, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Active works matching ``query`` in title/abstract (FTS5, best first)."""
    terms = re.findall(r"\w+", query)
    if not terms:
        return []
    match = " ".join(f'"{t}"' for t in terms)
    return list(
        ws.db.query(
            "SELECT w.id, w.title, w.year FROM works_fts f JOIN works w ON w.rowid = f.rowid"
            " WHERE works_fts MATCH ? AND w.active = 1 ORDER BY f.rank LIMIT ?",
            [match, limit],
        )
    )


def history(ws: Workspace, work_id: int, reviewer: str | None = None) -> list[dict[str, Any]]:
    """Every logged event on a work (decisions, notes, tags, retrieval), oldest first.

    Events logged on works later merged into it are included (``absorbed`` True, ``work_id``
    the work they were logged on): their decisions count for this work. With ``reviewer`` only
    that reviewer's events (blind screening shows nobody else's).
    """
    _work_exists(ws, work_id)
    ids = group_ids(ws, work_id)
    marks = ",".join("?" * len(ids))
    who = " AND reviewer = ?" if reviewer else ""
    params: list[Any] = [*ids, reviewer] if reviewer else ids
    events: list[dict[str, Any]] = []

    def add(r: dict[str, Any], kind: str, stage: str | None, value: str, **extra: Any) -> None:
        events.append(
            {"at": r["created_at"], "kind": kind, "id": r["id"], "stage": stage,
             "reviewer": r["reviewer"], "value": value, "note": extra.get("note"),
             "origin": extra.get("origin"), "work_id": r["work_id"],
             "absorbed": r["work_id"] != work_id}
        )  # fmt: skip

    for r in ws.db.query(f"SELECT * FROM decisions WHERE work_id IN ({marks}){who}", params):
        value = r["decision"] + (f" {r['reason']}" if r["reason"] else "")
        add(r, "decision", r["stage"], value, note=r["note"], origin=r["origin"])
    for r in ws.db.query(f"SELECT * FROM notes WHERE work_id IN ({marks}){who}", params):
        add(r, "note", r["stage"], r["text"])
    for r in ws.db.query(f"SELECT * FROM tags WHERE work_id IN ({marks}){who}", params):
        add(r, "tag", None, f"{r['action']} {r['tag']}")
    for r in ws.db.query(f"SELECT * FROM retrieval WHERE work_id IN ({marks}){who}", params):
        add(r, "retrieval", None, r["status"])
    events.sort(key=lambda e: (e["at"], e["kind"], e["id"]))
    return events
