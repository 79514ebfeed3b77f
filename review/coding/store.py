"""The coding log: every change a reviewer makes is a new row; nothing is updated or deleted.

A reviewer's current code for a work and field is their latest row (``draft`` while they are
ticking, ``confirmed`` once they press Enter, ``retract`` = cleared). Codes follow a work into
the work it was merged into (``COALESCE(works.merged_into, work_id)``), as decisions do.

Confirmed code of a work and field (what ``best`` and the synthesis use):
1. the latest row with origin ``resolution`` when there is one (a conflict settled);
2. else, when every code confirmed for it came from one other group's bundle (``name@group``) and
   that group resolved it (origin ``bundle:<group>:resolution``), that group's latest resolution:
   a group settles its own coders' disagreement, never this workspace's reviewers';
3. else the value every reviewer who confirmed agrees on;
4. else none: the reviewers disagree -- a conflict (``conflicts``), until someone resolves it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..protocol import Protocol
from ..store.workspace import Workspace, now
from . import CodingError
from .codebook import CodingField

STATUSES = ("draft", "confirmed", "retract")
FINAL = "COALESCE(w.merged_into, c.work_id)"


@dataclass(frozen=True)
class Code:
    id: int
    work_id: int
    field: str
    reviewer: str
    value: Any  # list[str] | str | float | None
    status: str
    origin: str
    created_at: str


@dataclass(frozen=True)
class Confirmed:
    work_id: int
    field: str
    value: Any
    reviewers: tuple[str, ...]
    resolved: bool


def require_field(proto: Protocol | None, name: str) -> CodingField:
    f = proto.coding_field(name) if proto else None
    if f is None:
        have = ", ".join(x.name for x in proto.codebook) if proto else ""
        raise CodingError(
            f"no coding field {name!r} in the protocol"
            + (f"; fields: {have}" if have else "; add [[coding.fields]] to the protocol")
        )
    return f


def check_value(f: CodingField, value: Any) -> Any:
    """The value normalised for ``f``'s kind, or a CodingError naming the field."""
    if value is None:
        return None
    if f.kind in ("multi", "single"):
        vals = [value] if isinstance(value, str) else list(value)
        bad = [v for v in vals if v not in f.codes]
        if bad:
            raise CodingError(f"{f.name}: unknown option {bad[0]!r}; options: {', '.join(f.codes)}")
        if f.kind == "single" and len(vals) > 1:
            raise CodingError(f"{f.name}: a single-choice field takes one option, got {vals}")
        return [c for c in f.codes if c in vals]  # codebook order, once each
    if f.kind == "countries":
        from ..themes.gazetteer import country_code

        vals = [value] if isinstance(value, str) else list(value)
        out = []
        for v in vals:
            v = str(v).strip()
            code = v.upper() if len(v) == 2 and v.isalpha() else country_code(v)
            if not code:
                raise CodingError(f"{f.name}: unknown country {v!r}; use ISO codes like ZA")
            if code not in out:
                out.append(code)
        return sorted(out)
    if f.kind == "number":
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise CodingError(f"{f.name}: {value!r} is not a number")
        if not math.isfinite(x):
            raise CodingError(f"{f.name}: {value!r} is not a finite number")
        return x
    s = str(value).strip()
    return s or None


def record(
    ws: Workspace,
    work_id: int,
    field: str,
    reviewer: str,
    value: Any,
    status: str = "confirmed",
    origin: str = "cli",
    run_id: int | None = None,
    stage: str | None = None,
    note: str | None = None,
    proto: Protocol | None = None,
) -> int:
    """Append one row to the coding log (checked: field, value, work, status). Returns its id."""
    f = require_field(proto or ws.protocol(), field)
    if status not in STATUSES:
        raise CodingError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    if not reviewer or not reviewer.strip():
        raise CodingError("a code needs a reviewer")
    val = None if status == "retract" else check_value(f, value)
    if ws.db.execute("SELECT 1 FROM works WHERE id = ?", [work_id]).fetchone() is None:
        raise CodingError(f"no work with id {work_id}", path=str(ws.path))
    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO coding_log (work_id, field, reviewer, value, status, origin, run_id, stage,"
            " note, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                work_id, field, reviewer.strip(), None if val is None else json.dumps(val),
                status, origin, run_id, stage, note, now(),
            ],
        )  # fmt: skip
    return int(cur.lastrowid)  # type: ignore[arg-type]


def _row(r: Sequence[Any]) -> Code:
    return Code(
        id=r[0], work_id=r[1], field=r[2], reviewer=r[3],
        value=None if r[4] is None else json.loads(r[4]), status=r[5], origin=r[6],
        created_at=r[7],
    )  # fmt: skip


_COLS = f"c.id, {FINAL}, c.field, c.reviewer, c.value, c.status, c.origin, c.created_at"


def _select(ws: Workspace, where: list[str], args: list[Any]) -> list[Code]:
    """The log rows matching every condition of ``where``, oldest first."""
    rows = ws.db.execute(
        f"SELECT {_COLS} FROM coding_log c LEFT JOIN works w ON w.id = c.work_id"
        f" WHERE {' AND '.join(where)} ORDER BY c.id",
        args,
    )
    return [_row(r) for r in rows]


def current(
    ws: Workspace, work_ids: Iterable[int] | None = None, field: str | None = None
) -> dict[tuple[int, str, str], Code]:
    """{(work, field, reviewer): latest row} (retracted ones left out)."""
    where: list[str] = ["1=1"]
    args: list[Any] = []
    if field is not None:
        where.append("c.field = ?")
        args.append(field)
    wanted = set(work_ids) if work_ids is not None else None
    # only the latest row of each (work, field, reviewer) is read and decoded
    latest_ids = (
        "c.id IN (SELECT MAX(c.id) FROM coding_log c LEFT JOIN works w ON w.id = c.work_id"
        f" WHERE {' AND '.join(where)} GROUP BY {FINAL}, c.field, c.reviewer)"
    )
    out: dict[tuple[int, str, str], Code] = {}
    for c in _select(ws, [latest_ids], args):
        if wanted is not None and c.work_id not in wanted:
            continue
        out[(c.work_id, c.field, c.reviewer)] = c
    return {k: v for k, v in out.items() if v.status != "retract"}


def _group(ws: Workspace, work_id: int) -> list[int]:
    """The work and the works merged into it (their codes follow the merge)."""
    return [work_id] + [
        r[0] for r in ws.db.execute("SELECT id FROM works WHERE merged_into = ?", [work_id])
    ]


def work_codes(ws: Workspace, work_id: int, reviewer: str) -> dict[str, Code]:
    """{field: the reviewer's current row} for one work (indexed: the TUI asks per work)."""
    ids = _group(ws, work_id)
    where = [f"c.work_id IN ({','.join('?' * len(ids))})", "c.reviewer = ?"]
    out = {c.field: c for c in _select(ws, where, [*ids, reviewer])}  # the latest row wins
    return {k: v for k, v in out.items() if v.status != "retract"}


def reviewer_progress(ws: Workspace, reviewer: str) -> tuple[set[int], set[int]]:
    """(works where the reviewer confirmed some field, works whose every current code of the
    reviewer is confirmed -- the coding app skips these when it moves on). One aggregate query
    over the reviewer's own rows (index coding_log_reviewer): the latest row of each (work after
    merges, field), retracted ones left out, as ``current`` says."""
    latest = (
        "SELECT MAX(c.id) AS id FROM coding_log c LEFT JOIN works w ON w.id = c.work_id"
        f" WHERE c.reviewer = ? GROUP BY {FINAL}, c.field"
    )
    rows = ws.db.execute(
        f"SELECT {FINAL} AS wid, MAX(c.status = 'confirmed'), MIN(c.status = 'confirmed')"
        f" FROM ({latest}) l JOIN coding_log c ON c.id = l.id"
        " LEFT JOIN works w ON w.id = c.work_id WHERE c.status != 'retract' GROUP BY wid",
        [reviewer],
    ).fetchall()
    return {int(r[0]) for r in rows if r[1]}, {int(r[0]) for r in rows if r[2]}


def bundle_origin(group: str, resolution: bool = False) -> str:
    """The origin of a code a bundle brought: ``bundle:<group>`` (one of the group's coders) or
    ``bundle:<group>:resolution`` (a conflict the group settled); ``resolution_group`` parses it."""
    return f"bundle:{group}" + (":resolution" if resolution else "")


def resolution_group(origin: str) -> str | None:
    """The group of a ``bundle:<group>:resolution`` origin (``bundle_origin``), else None."""
    parts = origin.split(":")  # a group name holds no ':' (share.valid_group)
    if len(parts) == 3 and parts[0] == "bundle" and parts[1] and parts[2] == "resolution":
        return parts[1]
    return None


def is_resolution(c: Code) -> bool:
    """A resolver's code (ours, or a bundle group's), not a coder's vote."""
    return c.origin == "resolution" or resolution_group(c.origin) is not None


def _settled(codes: list[Code]) -> Code | None:
    """The resolution that settles these confirmed codes of one work and field (rules 1-2)."""
    ours = [c for c in codes if c.origin == "resolution"]
    if ours:
        return max(ours, key=lambda c: c.id)
    theirs = [c for c in codes if is_resolution(c)]
    if not theirs:
        return None
    last = max(theirs, key=lambda c: c.id)
    group = resolution_group(last.origin)
    return last if all(c.reviewer.endswith(f"@{group}") for c in codes) else None


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def confirmed(
    ws: Workspace,
    field: str | None = None,
    work_ids: Iterable[int] | None = None,
    cur: dict[tuple[int, str, str], Code] | None = None,
) -> dict[tuple[int, str], Confirmed]:
    """{(work, field): the confirmed code} by the rule in the module docstring (``cur``: the
    result of ``current(ws, work_ids, field)`` when the caller has it already)."""
    by: dict[tuple[int, str], list[Code]] = {}
    for (wid, f, _), c in (current(ws, work_ids, field) if cur is None else cur).items():
        if c.status == "confirmed":
            by.setdefault((wid, f), []).append(c)
    out: dict[tuple[int, str], Confirmed] = {}
    for key, codes in by.items():
        last = _settled(codes)
        if last is not None:
            out[key] = Confirmed(key[0], key[1], last.value, (last.reviewer,), True)
            continue
        first = codes[0].value
        if all(_same(c.value, first) for c in codes):
            out[key] = Confirmed(
                key[0], key[1], first, tuple(sorted(c.reviewer for c in codes)), False
            )
    return out


def conflicts(
    ws: Workspace, field: str | None = None, cur: dict[tuple[int, str, str], Code] | None = None
) -> list[dict[str, Any]]:
    """Works and fields where reviewers confirmed different codes and nobody resolved it."""
    by: dict[tuple[int, str], list[Code]] = {}
    for (wid, f, _), c in (current(ws, None, field) if cur is None else cur).items():
        if c.status == "confirmed":
            by.setdefault((wid, f), []).append(c)
    open_ = [
        (wid, f, codes)
        for (wid, f), codes in sorted(by.items())
        if _settled(codes) is None
        and len(codes) >= 2
        and any(not _same(c.value, codes[0].value) for c in codes)
    ]
    ids = json.dumps(sorted({wid for wid, _, _ in open_}))  # every title in one query
    titles: dict[int, str | None] = dict(
        ws.db.execute(
            "SELECT id, title FROM works WHERE id IN (SELECT value FROM json_each(?))", [ids]
        ).fetchall()
    )
    return [
        {
            "work_id": wid,
            "field": f,
            "title": titles.get(wid),
            "codes": {c.reviewer: c.value for c in sorted(codes, key=lambda c: c.reviewer)},
        }
        for wid, f, codes in open_
    ]


def resolve(ws: Workspace, work_id: int, field: str, value: Any, resolver: str) -> int:
    """Settle a conflict: a confirmed row by the resolver with origin 'resolution'."""
    return record(ws, work_id, field, resolver, value, "confirmed", origin="resolution")


def history(ws: Workspace, work_id: int | None = None, reviewer: str | None = None) -> list[Code]:
    """Every row of the log (oldest first), optionally for one work and/or reviewer."""
    where: list[str] = ["1=1"]
    args: list[Any] = []
    if work_id is not None:  # the IN list makes it an indexed look-up (the TUI asks per work)
        ids = _group(ws, work_id)
        where.append(f"c.work_id IN ({','.join('?' * len(ids))}) AND {FINAL} = ?")
        args += [*ids, work_id]
    if reviewer is not None:
        where.append("c.reviewer = ?")
        args.append(reviewer)
    return _select(ws, where, args)


def undo(ws: Workspace, row_id: int | None = None, reviewer: str | None = None) -> Code | None:
    """Undo one change (row ``row_id``, default: the reviewer's latest): append a row that puts
    back what was there before it (or a ``retract`` when it was the first). None: nothing to undo."""
    if row_id is None:
        if reviewer is None:
            raise CodingError("undo needs a row id or a reviewer")
        r = ws.db.execute(  # the undo notes are read once, not once per candidate row
            "SELECT id FROM coding_log WHERE +reviewer = ?"  # + : newest first, stop at the first
            " AND (note IS NULL OR note NOT LIKE 'undo of #%') AND 'undo of #' || id NOT IN"
            " (SELECT note FROM coding_log WHERE reviewer = ? AND note LIKE 'undo of #%')"
            " ORDER BY id DESC LIMIT 1",
            [reviewer, reviewer],
        ).fetchone()
        if r is None:
            return None
        row_id = int(r[0])
    row = ws.db.execute(
        "SELECT work_id, field, reviewer FROM coding_log WHERE id = ?", [row_id]
    ).fetchone()
    if row is None:
        raise CodingError(f"no coding log row {row_id}")
    wid, field, who = row
    prev = ws.db.execute(
        "SELECT value, status, origin FROM coding_log WHERE work_id = ? AND field = ?"
        " AND reviewer = ? AND id < ? ORDER BY id DESC LIMIT 1",
        [wid, field, who, row_id],
    ).fetchone()
    with ws.transaction():
        ws.db.conn.execute(
            "INSERT INTO coding_log (work_id, field, reviewer, value, status, origin, note,"
            " created_at) VALUES (?,?,?,?,?,?,?,?)",
            [
                wid, field, who, prev[0] if prev else None, prev[1] if prev else "retract",
                prev[2] if prev else "undo", f"undo of #{row_id}", now(),
            ],
        )  # fmt: skip
    latest = work_codes(ws, wid, who)
    return latest.get(field)
