"""Where the coding stands, for ``review status``: per codebook field, of the works in scope (see
scope.py), how many have machine suggestions, how many a reviewer confirmed, how many two or more
reviewers confirmed (dual-coded; a resolver is not a coder), how many coders disagree on with
nobody resolving it (open conflicts), and the last suggestion run that covered the field.

Pure reads; no model code is imported (``review status`` starts fast). Codes and suggestions
follow a work into the work it was merged into, as everywhere else.
"""

from __future__ import annotations

from typing import Any

from ..store.workspace import Workspace
from . import store
from .scope import select

_RUN_COLS = ("id", "method", "model", "created_at", "group_name")


def _last_run(ws: Workspace, field: str | None = None) -> dict[str, Any] | None:
    """The latest run (ours before imported ones) that scored ``field`` (any field: None)."""
    where = "" if field is None else "WHERE r.field = ? OR r.field IS NULL"
    row = ws.db.execute(
        f"SELECT {', '.join('r.' + c for c in _RUN_COLS)} FROM coding_runs r {where}"
        " ORDER BY r.group_name IS NULL DESC, r.id DESC LIMIT 1",
        [] if field is None else [field],
    ).fetchone()
    return None if row is None else dict(zip(_RUN_COLS, row, strict=True))


def _suggested_works(ws: Workspace, field: str) -> set[int]:
    return {
        r[0]
        for r in ws.db.execute(
            "SELECT DISTINCT COALESCE(w.merged_into, s.work_id) FROM coding_suggestions s"
            " LEFT JOIN works w ON w.id = s.work_id WHERE s.field = ?",
            [field],
        )
    }


def coding_summary(ws: Workspace) -> dict[str, Any] | None:
    """The coding section of ``review status`` (JSON-ready); None without a codebook."""
    proto = ws.protocol()
    if proto is None or not proto.codebook:
        return None
    scope = select(ws)
    in_scope = set(scope.work_ids)
    confirmed_by: dict[tuple[int, str], set[str]] = {}
    cur = store.current(ws)  # one read of the log for the three counts below
    for (wid, name, who), code in cur.items():
        if code.status == "confirmed" and not store.is_resolution(code) and wid in in_scope:
            confirmed_by.setdefault((wid, name), set()).add(who)
    resolved = {k for k, c in store.confirmed(ws, cur=cur).items() if c.resolved}
    for wid, name in resolved:  # a resolved work counts as confirmed even if its coders withdrew
        if wid in in_scope:
            confirmed_by.setdefault((wid, name), set())
    open_conflicts: dict[str, int] = {}
    for conflict in store.conflicts(ws, cur=cur):
        if conflict["work_id"] in in_scope:
            name = conflict["field"]
            open_conflicts[name] = open_conflicts.get(name, 0) + 1
    fields: dict[str, Any] = {}
    for f in proto.codebook:
        mine = {wid: who for (wid, name), who in confirmed_by.items() if name == f.name}
        fields[f.name] = {
            "label": f.label,
            "kind": f.kind,
            "in_scope": len(in_scope),
            "suggested": len(_suggested_works(ws, f.name) & in_scope),
            "confirmed": len(mine),
            "dual_coded": sum(len(who) >= 2 for who in mine.values()),
            "conflicts": open_conflicts.get(f.name, 0),
            "last_run": _last_run(ws, f.name),
        }
    return {
        "scope": scope.description,
        "stage": scope.stage,
        "fields": fields,
        "last_run": _last_run(ws),
    }


def format_coding(s: dict[str, Any] | None) -> list[str]:
    """Lines for ``review status`` (none without a codebook)."""
    if not s:
        return []
    lines = [f"Coding    {s['scope']}"]
    lines.append(
        f"  {'field':<24} {'suggested':>9} {'confirmed':>9} {'dual-coded':>10} {'conflicts':>9}"
        "  last suggestion run"
    )
    for name, f in s["fields"].items():
        run = f["last_run"]
        rtxt = "none" if run is None else f"#{run['id']} {run['method']}"
        if run is not None and run.get("group_name"):
            rtxt += f" (from {run['group_name']})"
        lines.append(
            f"  {name:<24} {f['suggested']:>9} {f['confirmed']:>9} {f['dual_coded']:>10}"
            f" {f['conflicts']:>9}  {rtxt}"
        )
    run = s.get("last_run")
    if run is not None:
        lines.append(
            f"  latest run #{run['id']}: {run['method']}, {run['model']},"
            f" {str(run['created_at'])[:10]}"
            + (f", from {run['group_name']}" if run.get("group_name") else "")
        )
    return lines
