"""The coding in a bundle (``review bundle export --coding``): reviewers' codes and the suggestion
runs behind them, exported, validated and merged under the rules of rows.py.

Members::

    coding_runs.jsonl         one suggestion run per line: method, model, threshold, params,
                              versions, created_at, n_works ... and ``group_name`` (NULL = the
                              sender's own run; a run the sender imported names its group)
    coding_suggestions.jsonl  the runs' scores, yes/no and evidence, per ``work_ref`` and option
    coding_log.jsonl          the append-only coding log: drafts, confirmations, retracts (undo),
                              each with its ``id`` (undo notes and ``run_id`` refer to them)

Rules: a code belongs to ``name@group`` of the bundle's group (a row naming another group's
reviewer is relayed and skipped, as for decisions); its origin here is ``bundle:<group>``, a
coder's code; a resolution the group made is ``bundle:<group>:resolution``, which settles a work
only while every code confirmed for it is that group's (coding.store) -- never this workspace's
reviewers' disagreement, nor a local reviewer who confirmed otherwise. Field,
option, country, status and stage are checked against the RECEIVING protocol's codebook exactly
as ``review code`` checks them (``coding.store.check_value``). Suggestion runs travel as
provenance -- which machine output the partner's reviewers saw, and the evidence behind their
codes -- stored with ``group_name`` and ``origin`` = ``<group>/run/<id>``; a run the sender
relays for a third group is skipped (with its suggestions; codes made under it keep no run id).
An imported run never hides this workspace's own runs (``coding.suggest.latest``). Re-imports:
a run is known by its origin, a code by (work, field, reviewer, status, value, created_at).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..coding.store import STATUSES, bundle_origin, check_value
from ..errors import CodingError
from ..store import Workspace
from .rows import Context, _Row, _short

MEMBERS = ("coding_runs.jsonl", "coding_suggestions.jsonl", "coding_log.jsonl")
METHODS = ("zero-shot", "few-shot")
_UNDO = re.compile(r"^undo of #(\d+)$")
_CANON = "COALESCE((SELECT w.merged_into FROM works w WHERE w.id = t.work_id), t.work_id)"


# -- export ----------------------------------------------------------------------------------------
def export_rows(ws: Workspace) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
    """(member, rows) for the three members, streamed from the workspace."""
    q = ws.db.query
    yield "coding_runs.jsonl", q("SELECT * FROM coding_runs ORDER BY id")
    yield (
        "coding_suggestions.jsonl",
        q(
            f"SELECT t.run_id, {_CANON} AS work_ref, t.field, t.value, t.score, t.suggested,"
            " t.evidence, t.page FROM coding_suggestions t ORDER BY t.run_id, t.work_id, t.field, t.value"
        ),
    )

    def log() -> Iterator[dict[str, Any]]:
        for r in q(
            f"SELECT t.id, {_CANON} AS work_ref, t.field, t.reviewer, t.value, t.status, t.origin,"
            " t.run_id, t.stage, t.note, t.created_at FROM coding_log t ORDER BY t.id"
        ):
            r["value"] = None if r["value"] is None else json.loads(r["value"])
            yield r

    yield "coding_log.jsonl", log()


# -- validation (both passes) ----------------------------------------------------------------------
def _field(ctx: Context, r: _Row, required: bool = True) -> Any:
    name = r.row.get("field")
    if name is None and not required:
        return None
    f = ctx.codebook.get(name) if isinstance(name, str) else None
    if f is None:
        have = ", ".join(ctx.codebook) or "none: the protocol has no codebook ([[coding.fields]])"
        raise r.fail("field", f"no coding field {_short(name)} in this workspace's protocol; fields: {have}")  # fmt: skip
    return f


def _run_ref(ctx: Context, r: _Row, required: bool) -> tuple[int | None, bool]:
    """(bundle run id, skipped): the run must be in coding_runs.jsonl."""
    run = r.int_("run_id", required=required)
    if run is None:
        return None, False
    state = ctx.index.run_state(run)
    if state is None:
        raise r.fail("run_id", f"run {run} is not in coding_runs.jsonl")
    return run, state == "skipped"


def clean_run(ctx: Context, line: int, row: dict[str, Any]) -> dict[str, Any] | None:
    """A suggestion run; None when the sender relays another group's run."""
    r = _Row(ctx, "coding_runs.jsonl", line, row)
    rid = r.int_("id", required=True)
    assert rid is not None
    f = _field(ctx, r, required=False)
    out = {
        "id": rid, "field": None if f is None else f.name, "stage": r.text("stage"),
        "method": r.one_of("method", METHODS), "model": r.text("model"),
        "threshold": r.number("threshold", 0, 1), "params": r.text("params"),
        "versions": r.text("versions"), "n_works": r.int_("n_works"),
        "n_training": r.int_("n_training"), "seconds": r.number("seconds", 0),
        "created_at": r.date("created_at"),
    }  # fmt: skip
    owner = r.text("group_name")
    relayed = owner is not None and owner != ctx.group
    if ctx.recording and not ctx.index.add_run(rid, relayed):
        raise r.fail("id", f"run {rid} appears twice")
    return None if relayed else out


def _one_value(f: Any, value: str) -> str:
    """A suggestion's value checked as codes of its field are: one option, country or text."""
    got = check_value(f, value)
    if isinstance(got, list):
        if len(got) != 1:
            raise CodingError(f"{f.name}: a suggestion names one value, got {value!r}")
        return str(got[0])
    if got is None:
        raise CodingError(f"{f.name}: empty value")
    return str(got)


def clean_suggestion(ctx: Context, line: int, row: dict[str, Any]) -> dict[str, Any] | None:
    r = _Row(ctx, "coding_suggestions.jsonl", line, row)
    run, skipped = _run_ref(ctx, r, required=True)
    f = _field(ctx, r)
    value = r.text("value", required=True)
    try:
        if f.kind == "number":
            raise CodingError("a number field has no suggestions")
        checked = _one_value(f, value or "")
    except CodingError as e:
        raise r.fail("value", e.message)
    suggested = row.get("suggested")
    if suggested not in (0, 1) or isinstance(suggested, float):
        raise r.fail("suggested", f"must be 0 or 1, not {_short(suggested)}")
    out = {
        "run_id": run, "work_ref": r.work_ref(), "field": f.name, "value": checked,
        "score": r.number("score", 0, 1), "suggested": int(suggested),
        "evidence": r.text("evidence"), "page": r.int_("page"),
    }  # fmt: skip
    if out["score"] is None:
        raise r.fail("score", "is missing")
    return None if skipped else out


def _plain(v: Any) -> bool:
    """What ``review code`` can store: nothing, a text, a number, or a list of texts."""
    if v is None or isinstance(v, str):
        return True
    if isinstance(v, int | float):
        return not isinstance(v, bool)
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def clean_code(ctx: Context, line: int, row: dict[str, Any]) -> dict[str, Any] | None:
    """A coding log row as ``review code`` writes it; None when it speaks for another group."""
    r = _Row(ctx, "coding_log.jsonl", line, row)
    cid = r.int_("id", required=True)
    assert cid is not None
    if ctx.recording and not ctx.index.add_code(cid):
        raise r.fail("id", f"coding log row {cid} appears twice")
    work = r.work_ref()
    f = _field(ctx, r)
    status = r.one_of("status", STATUSES)
    raw = row.get("value")
    if not _plain(raw):
        raise r.fail("value", f"must be text, a number or a list of texts, not {_short(raw)}")
    try:
        value = None if status == "retract" else check_value(f, raw)
    except CodingError as e:
        raise r.fail("value", e.message)
    run, run_skipped = _run_ref(ctx, r, required=False)
    stage = row.get("stage")
    if stage is not None and stage != "all":
        r.stage()
    out = {
        "id": cid, "work_ref": work, "field": f.name, "status": status, "value": value,
        "run_id": None if run_skipped else run, "stage": stage, "note": r.text("note"),
        "resolution": r.text("origin") == "resolution", "created_at": r.date("created_at"),
    }  # fmt: skip
    reviewer = r.reviewer()
    return None if reviewer is None else {**out, "reviewer": reviewer}


def validate(ctx: Context, rows: Any) -> None:
    """Every coding row, in member order (runs first: the others refer to them)."""
    for member, clean in zip(MEMBERS, (clean_run, clean_suggestion, clean_code), strict=True):
        for i, row in rows(member):
            clean(ctx, i, row)


# -- write pass ------------------------------------------------------------------------------------
def write(ctx: Context, conn: Any, rows: Any, summary: dict[str, Any]) -> None:
    """Insert what is new (inside the import's transaction); ``rows(member)`` streams a member."""
    g, idx = ctx.group, ctx.index
    for i, row in rows("coding_runs.jsonl"):
        d = clean_run(ctx, i, row)
        if d is None:
            summary["relayed_skipped"] += 1
            continue
        key = f"{g}/run/{d['id']}"
        found = conn.execute("SELECT id FROM coding_runs WHERE origin = ?", [key]).fetchone()
        if found:
            idx.set_run(d["id"], int(found[0]), new=False)
            continue
        values = {k: v for k, v in d.items() if k != "id"}
        values.update(group_name=g, origin=key)
        cur = conn.execute(
            f"INSERT INTO coding_runs ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        )
        idx.set_run(d["id"], int(cur.lastrowid), new=True)
        summary["coding_runs_added"] += 1
    for i, row in rows("coding_suggestions.jsonl"):
        s = clean_suggestion(ctx, i, row)
        if s is None or idx.run_state(s["run_id"]) != "new":  # relayed, or known with its rows
            continue
        cur = conn.execute(
            "INSERT OR IGNORE INTO coding_suggestions (run_id, work_id, field, value, score,"
            " suggested, evidence, page) VALUES (?,?,?,?,?,?,?,?)",
            [idx.local_run(s["run_id"]), idx.work(s["work_ref"]), s["field"], s["value"],
             s["score"], s["suggested"], s["evidence"], s["page"]],
        )  # fmt: skip
        summary["suggestions_added"] += cur.rowcount
    for i, row in rows("coding_log.jsonl"):
        c = clean_code(ctx, i, row)
        if c is None:
            summary["relayed_skipped"] += 1
            continue
        summary["codes_added"] += _insert_code(conn, ctx, c)


def _insert_code(conn: Any, ctx: Context, c: dict[str, Any]) -> int:
    idx = ctx.index
    work = idx.work(c["work_ref"])
    value = None if c["value"] is None else json.dumps(c["value"])
    found = conn.execute(
        "SELECT id FROM coding_log WHERE work_id = ? AND field = ? AND reviewer = ?"
        " AND status = ? AND created_at = ? AND value IS ?",
        [work, c["field"], c["reviewer"], c["status"], c["created_at"], value],
    ).fetchone()
    if found:
        idx.set_code(c["id"], int(found[0]))
        return 0
    note = c["note"]
    undo = _UNDO.match(note or "")
    if undo:  # the sender's row id -> the id of its copy here
        local = idx.local_code(int(undo.group(1)))
        note = f"undo of #{local}" if local is not None else f"undo of {ctx.group}#{undo.group(1)}"
    run = None if c["run_id"] is None else idx.local_run(c["run_id"])
    # the group's resolution settles only its own coders' disagreement (coding.store, rule 2)
    origin = bundle_origin(ctx.group, resolution=c["resolution"])
    cur = conn.execute(
        "INSERT INTO coding_log (work_id, field, reviewer, value, status, origin, run_id, stage,"
        " note, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [work, c["field"], c["reviewer"], value, c["status"], origin, run,
         c["stage"], note, c["created_at"]],
    )  # fmt: skip
    idx.set_code(c["id"], int(cur.lastrowid))
    return 1
