"""The append-only decision log and THE rule that turns it into one decision per work.

Every command that counts decisions (status, PRISMA, the screening queues, export, history,
agreement, bundles) goes through this module, so they cannot disagree.

The rule, in full (README "How decisions are counted"):

1. A decision follows its work to the FINAL surviving work: ``works.merged_into`` of an absorbed
   work names the final survivor (dedup keeps it path-compressed; a split clears it), so the
   work a vote counts for is ``COALESCE(merged_into, work_id)``.
2. A reviewer's current vote on a work at a stage is their latest row (highest id) among the
   rows on that work and on every work merged into it; a ``retract`` row (undo) clears it.
3. The work's outcome at a stage: the latest current vote with origin ``resolution`` when there
   is one; else, with the protocol's default ``[screening] maybe = "advance"`` (Covidence):
   all votes exclude -> exclude; any exclude beside include/maybe -> conflict (no outcome);
   else include if anyone included, else maybe. With ``maybe = "undecided"``: unanimous votes
   give their value, any disagreement is a conflict.
4. A work moves on to the next stage (and is a report sought for retrieval) when its outcome
   is include, or maybe under ``advance``. At the last stage only include is an inclusion.
5. Votes at a later stage count only while the work has reached it: moved on at the stage
   before, or (other-methods reports, which PRISMA sends straight to retrieval) no vote there at
   all. A full-text vote on a work whose title/abstract outcome later changed stays in the log
   and in history but is not counted (``review prisma --check`` lists such works).

The rule is one SQL text (``resolution_sql``) run over a set of current votes: the whole stage
(``stage_outcomes``, PRISMA's views) or one work's votes found through the indexes
(``resolve_work``: ``works(merged_into)`` and ``decisions(work_id, stage, reviewer, id)``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..errors import ScreenError
from ..models import OUTCOMES
from ..protocol import DEFAULT_STAGES
from .workspace import Workspace, now

MAYBE_RULES = ("advance", "undecided")
DEFAULT_MAYBE = "advance"

# the work a decision counts for (merged_into is kept pointing at the FINAL survivor)
FINAL = "COALESCE({w}.merged_into, {d}.work_id)"


def _votes_sql(where: str) -> str:
    """Current votes (latest non-retracted row per final work, stage and reviewer) among the
    decision rows ``dl`` matching ``where``."""
    return f"""
SELECT d.id, {FINAL.format(w="w", d="d")} AS work_id, d.work_id AS decided_work_id, d.stage,
       d.reviewer, d.decision, d.reason, d.note, d.origin, d.group_name, d.created_at
FROM (SELECT MAX(dl.id) AS id FROM decisions dl LEFT JOIN works wl ON wl.id = dl.work_id
      WHERE {where} GROUP BY {FINAL.format(w="wl", d="dl")}, dl.stage, dl.reviewer) latest
JOIN decisions d ON d.id = latest.id LEFT JOIN works w ON w.id = d.work_id
WHERE d.decision != 'retract'"""


def votes_sql(stage_literal: str) -> str:
    """Current votes at one stage (a quoted SQL literal), for PRISMA's shared views."""
    return _votes_sql(f"dl.stage = {stage_literal}")


def resolution_sql(votes: str, maybe: str = DEFAULT_MAYBE) -> str:
    """THE rule: one row per work of ``votes`` (a table name or a parenthesised SELECT of
    current votes) with its outcome (``decision``: include/exclude/maybe, NULL = conflict) and
    the row that carries it (``id``, ``reason``, ``origin``)."""
    if maybe not in MAYBE_RULES:
        raise ValueError(f"unknown maybe rule {maybe!r}")
    if maybe == "advance":
        mixed = """WHEN n_exclude = n_votes THEN 'exclude' WHEN n_exclude > 0 THEN NULL
                   WHEN n_include > 0 THEN 'include' ELSE 'maybe'"""
    else:
        mixed = """WHEN n_exclude = n_votes THEN 'exclude' WHEN n_include = n_votes THEN 'include'
                   WHEN n_maybe = n_votes THEN 'maybe' ELSE NULL"""
    return f"""
SELECT o.work_id, o.decision, r.id, r.reason, r.origin, r.reviewer, r.note, r.stage,
       r.created_at, o.n_votes, o.n_include, o.n_exclude, o.n_maybe
FROM (
  SELECT g.*, CASE WHEN res_id IS NOT NULL THEN (SELECT x.decision FROM decisions x WHERE x.id = res_id)
                   {mixed} END AS decision
  FROM (
    SELECT work_id, COUNT(*) AS n_votes, SUM(decision = 'include') AS n_include,
           SUM(decision = 'exclude') AS n_exclude, SUM(decision = 'maybe') AS n_maybe,
           MAX(CASE WHEN origin = 'resolution' THEN id END) AS res_id,
           MAX(CASE WHEN decision = 'include' THEN id END) AS inc_id,
           MAX(CASE WHEN decision = 'exclude' THEN id END) AS exc_id,
           MAX(CASE WHEN decision = 'maybe' THEN id END) AS may_id
    FROM {votes} AS v GROUP BY work_id) g
) o
LEFT JOIN decisions r ON r.id = COALESCE(o.res_id, CASE o.decision WHEN 'include' THEN o.inc_id
  WHEN 'exclude' THEN o.exc_id WHEN 'maybe' THEN o.may_id END)"""


def advancing(maybe: str = DEFAULT_MAYBE) -> tuple[str, ...]:
    """Outcomes that move a work on to the next stage."""
    return ("include", "maybe") if maybe == "advance" else ("include",)


_PROTOCOLS: dict[tuple[str, int, str], Any] = {}


def cached_protocol(ws: Workspace) -> Any:
    """``ws.protocol()`` parsed once per stored protocol version (one indexed read per call),
    so the per-key path of the screening app does not parse TOML."""
    row = ws.db.execute(
        "SELECT id, sha256 FROM protocols WHERE id = (SELECT MAX(id) FROM protocols)"
    ).fetchone()
    key = (str(ws.path), int(row[0]), str(row[1])) if row else (str(ws.path), 0, "")
    if key not in _PROTOCOLS:
        _PROTOCOLS[key] = ws.protocol()
    return _PROTOCOLS[key]


def maybe_rule(ws: Workspace) -> str:
    """The protocol's ``[screening] maybe``: "advance" (default) or "undecided"."""
    proto = cached_protocol(ws)
    return str(getattr(proto, "maybe", DEFAULT_MAYBE)) if proto else DEFAULT_MAYBE


# -- merged works ---------------------------------------------------------------------------------


def final_work(ws: Workspace, work_id: int) -> int:
    """The work whose decisions ``work_id``'s count for (itself unless it was merged away)."""
    seen = {work_id}
    while True:
        row = ws.db.execute("SELECT merged_into FROM works WHERE id = ?", [work_id]).fetchone()
        if not row or row[0] is None or row[0] in seen:
            return work_id
        work_id = int(row[0])
        seen.add(work_id)


def group_ids(ws: Workspace, work_id: int) -> list[int]:
    """``work_id`` and the works merged into it (index ``works_merged_into``)."""
    rows = ws.db.execute("SELECT id FROM works WHERE merged_into = ? ORDER BY id", [work_id])
    return [work_id, *(int(r[0]) for r in rows)]


# -- the log ------------------------------------------------------------------------------------


def record_decision(
    ws: Workspace,
    *,
    work_id: int,
    stage: str,
    reviewer: str,
    decision: str,
    reason: str | None = None,
    note: str | None = None,
    origin: str = "local",
    group_name: str | None = None,
) -> int:
    """Append one decision row and commit it. Returns its id."""
    if decision not in (*OUTCOMES, "retract"):
        raise ScreenError(f"unknown decision {decision!r}; expected include, exclude, maybe")
    if decision == "exclude" and not reason:
        raise ScreenError("an exclusion needs a reason code from the protocol")
    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO decisions (work_id, stage, reviewer, decision, reason, note, origin,"
            " group_name, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [work_id, stage, reviewer, decision, reason, note, origin, group_name, now()],
        )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def _where(stage: str | None, reviewer: str | None, ids: list[int] | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if ids is not None:
        clauses.append(f"dl.work_id IN ({','.join('?' * len(ids))})")
        params += ids
    if stage is not None:
        clauses.append("dl.stage = ?")
        params.append(stage)
    if reviewer is not None:
        clauses.append("dl.reviewer = ?")
        params.append(reviewer)
    return (" AND ".join(clauses) or "1"), params


def current_decisions(
    ws: Workspace,
    stage: str | None = None,
    reviewer: str | None = None,
    work_id: int | None = None,
) -> list[dict[str, Any]]:
    """Current votes: the latest non-retracted row per (final work, stage, reviewer).

    ``work_id`` limits it to that work's final survivor and the works merged into it, read
    through indexes only. Each row's ``work_id`` is the final work, ``decided_work_id`` the
    work the decision was made on.
    """
    ids = group_ids(ws, final_work(ws, work_id)) if work_id is not None else None
    where, params = _where(stage, reviewer, ids)
    return list(ws.db.query(_votes_sql(where) + " ORDER BY d.id", params))


def previous_stage(ws: Workspace, stage: str) -> str | None:
    """The protocol stage before ``stage`` (None for the first, or a stage it does not name)."""
    proto = cached_protocol(ws)
    stages = tuple(proto.stages) if proto else DEFAULT_STAGES
    if stage not in stages or stages.index(stage) == 0:
        return None
    return stages[stages.index(stage) - 1]


def resolve_work(ws: Workspace, work_id: int, stage: str) -> dict[str, Any] | None:
    """The outcome of one work at ``stage`` by THE rule (None when nobody voted or the work has
    not reached the stage; ``decision`` None for a conflict). Indexed lookups only: the per-key
    path of the screening app."""
    if not has_reached(ws, work_id, stage):
        return None
    ids = group_ids(ws, final_work(ws, work_id))
    where, params = _where(stage, None, ids)
    sql = resolution_sql(f"({_votes_sql(where)})", maybe_rule(ws))
    rows = list(ws.db.query(sql, params))
    return rows[0] if rows else None


def stage_outcomes(ws: Workspace, stage: str) -> dict[int, dict[str, Any]]:
    """Every active work that reached ``stage`` and has a current vote there -> its outcome row
    (conflicts included, with ``decision`` None). The same SQL as ``resolve_work`` over the whole
    stage; a later stage counts only works that reached it (``reached_ids``)."""
    where, params = _where(stage, None, None)
    sql = resolution_sql(f"({_votes_sql(where)})", maybe_rule(ws))
    # active works by a join: at the first stage reached_ids(among=...) would give the same set
    # through a JSON list of every decided work (~220 ms more at 100k works)
    sql = f"SELECT z.* FROM ({sql}) z JOIN works aw ON aw.id = z.work_id AND aw.active = 1"
    out = {r["work_id"]: r for r in ws.db.query(sql, params)}
    if previous_stage(ws, stage) is None:
        return out
    reached = reached_ids(ws, stage, among=out)
    return {w: r for w, r in out.items() if w in reached}


# -- which works reached a stage (THE eligibility rule: point 5 of the module docstring) -----------


# THE other-methods rule: a work none of whose records came from a databases/registers search
# (PRISMA sends its reports straight to retrieval). ``work`` is a SQL expression naming works.id;
# qualify it (``f.work_id``), or it would bind to ``records`` inside the subquery.
DBR_ARMS = "('databases', 'registers')"


def other_methods_sql(work: str) -> str:
    """SQL condition: ``work`` is an other-methods work (PRISMA's ``work_arm`` and this module)."""
    return f"NOT EXISTS (SELECT 1 FROM records r WHERE r.work_id = {work} AND r.arm IN {DBR_ARMS})"


def reached_sql(work: str, moved_on: str, voted_before: str) -> str:
    """SQL condition: ``work`` reached a later stage (point 5): it is in ``moved_on`` (a SELECT of
    the works that moved on at the stage before), or it is an other-methods work not in
    ``voted_before`` (a SELECT of the works with a counted vote at the stage before). PRISMA's
    ``FT_REACHED`` and ``reached_ids`` use it; ``has_reached`` is the same rule for one work."""
    return (
        f"({work} IN ({moved_on})"
        f" OR ({work} NOT IN ({voted_before}) AND {other_methods_sql(work)}))"
    )


_REACHED_PARAMS = reached_sql(
    "{work}", "SELECT value FROM json_each(:moved)", "SELECT value FROM json_each(:voted)"
)


def has_reached(ws: Workspace, work_id: int, stage: str) -> bool:
    """True when the work has reached ``stage``: it is the first stage; or the work moved on at
    the stage before; or it is an other-methods report with no counted vote at the stage before
    (PRISMA sends those straight to retrieval). Indexed look-ups only (the per-key path)."""
    prev = previous_stage(ws, stage)
    if prev is None:
        return True
    before = resolve_work(ws, work_id, prev)
    if before is not None:  # a counted vote before: it reached the stage iff it moved on
        return before["decision"] in advancing(maybe_rule(ws))
    sql = "SELECT " + other_methods_sql("?")
    return bool(ws.db.execute(sql, [final_work(ws, work_id)]).fetchone()[0])


def reached_ids(ws: Workspace, stage: str, among: Iterable[int] | None = None) -> set[int]:
    """The active works (of ``among``, when given) that reached ``stage``: ``has_reached`` over a
    whole stage, in one query. The screening queue's eligible works, and the works whose votes
    count."""
    sql = "SELECT w.id FROM works w WHERE w.active = 1"
    params: dict[str, str] = {}
    prev = previous_stage(ws, stage)
    if prev is not None:
        before = stage_outcomes(ws, prev)
        ok = advancing(maybe_rule(ws))
        moved = [w for w, r in before.items() if r["decision"] in ok]
        params = {"moved": json.dumps(moved), "voted": json.dumps(list(before))}
        sql += " AND " + _REACHED_PARAMS.format(work="w.id")
    if among is not None:
        sql += " AND w.id IN (SELECT value FROM json_each(:among))"
        params["among"] = json.dumps(list(among))
    return {int(r[0]) for r in ws.db.execute(sql, params)}


def resolved_decisions(ws: Workspace, stage: str) -> dict[int, dict[str, Any]]:
    """One decision per active work at a stage (conflicts left out: they are not decisions)."""
    return {w: r for w, r in stage_outcomes(ws, stage).items() if r["decision"] is not None}


def advanced_ids(ws: Workspace, stage: str) -> set[int]:
    """Active works whose outcome at ``stage`` moves them on to the next stage."""
    ok = advancing(maybe_rule(ws))
    return {w for w, r in stage_outcomes(ws, stage).items() if r["decision"] in ok}


def decision_counts(ws: Workspace) -> dict[str, dict[str, int]]:
    """{stage: {include, exclude, maybe, conflict}} over active works, by THE rule."""
    stages = [r[0] for r in ws.db.execute("SELECT DISTINCT stage FROM decisions ORDER BY stage")]
    out: dict[str, dict[str, int]] = {}
    for stage in stages:
        counts = dict.fromkeys((*OUTCOMES, "conflict"), 0)
        for d in stage_outcomes(ws, stage).values():
            counts[d["decision"] or "conflict"] += 1
        out[stage] = counts
    return out
