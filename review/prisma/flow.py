"""Run the named queries over a workspace and hold the numbers of one PRISMA 2020 diagram."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from ..errors import PrismaError
from ..protocol import DEFAULT_STAGES
from ..store import Workspace
from ..store.decisions import maybe_rule
from .queries import BY_NAME, QUERIES, Query, definitions_sql

# the numeric keys of the PRISMA2020 template (what `review status` shows)
COUNT_KEYS: tuple[str, ...] = (
    "database_results",
    "register_results",
    "website_results",
    "organisation_results",
    "citations_results",
    "duplicates",
    "excluded_automatic",
    "excluded_other",
    "records_screened",
    "records_excluded",
    "dbr_sought_reports",
    "dbr_notretrieved_reports",
    "dbr_assessed",
    "dbr_excluded",
    "other_sought_reports",
    "other_notretrieved_reports",
    "other_assessed",
    "other_excluded",
    "new_studies",
    "new_reports",
)


@dataclass(frozen=True)
class Flow:
    """Every number of the diagram (``values``), the per-source/per-reason lists (``rows``) and
    the SQL that produced each (``sql``: name -> full statement)."""

    values: dict[str, int]
    rows: dict[str, list[tuple[str, int]]]
    sql: dict[str, str]
    definitions: str
    stages: tuple[str | None, str | None]
    reason_text: dict[str, str] = field(default_factory=dict)
    reasons_at_screening: bool = False

    def __getitem__(self, name: str) -> int:
        return self.values[name]

    def reasons(self, name: str) -> list[tuple[str, int]]:
        return self.rows.get(name, [])

    @property
    def has_other_arm(self) -> bool:
        v = self.values
        return bool(
            v["website_results"]
            + v["organisation_results"]
            + v["citations_results"]
            + v["other_sought_reports"]
        )

    @property
    def has_dbr_arm(self) -> bool:
        v = self.values
        return bool(v["database_results"] + v["register_results"] + v["records_screened"])

    def other_sources(self) -> dict[str, list[tuple[str, int]]]:
        """Other-methods category (website, organisation, citations) -> [(source, n)]."""
        out: dict[str, list[tuple[str, int]]] = {}
        for label, n in self.rows.get("other_specific_results", []):
            category, source = label.split("\t", 1)
            out.setdefault(category, []).append((source, n))
        return out

    def description(self, name: str) -> str:
        return BY_NAME[name].description


def _setup(
    ws: Workspace,
) -> tuple[str, tuple[str | None, str | None], dict[str, str], dict[str, str]]:
    proto = ws.protocol()
    stages = proto.stages if proto else DEFAULT_STAGES
    ta = stages[0] if stages else None
    ft = stages[1] if len(stages) > 1 else None
    kinds = {s.name: s.kind for s in proto.sources} if proto else {}
    reason_text = {c.code: c.text for c in proto.exclusion} if proto else {}
    return definitions_sql(ta, ft, kinds, maybe_rule(ws)), (ta, ft), kinds, reason_text


def _rows_column(q: Query) -> str:
    """A rows query as one JSON column, so it runs in the same statement as the counts."""
    cols = "a, b, c" if q.name == "other_specific_results" else "a, b"
    return f"(WITH t({cols}) AS ({q.sql}) SELECT json_group_array(json_array({cols})) FROM t)"


def _parse_rows(q: Query, text: str | None) -> list[tuple[str, int]]:
    data = json.loads(text or "[]")
    if q.name == "other_specific_results":  # (category, source, n)
        return [(f"{r[0]}\t{r[1]}", int(r[2])) for r in data]
    return [(str(r[0]), int(r[1])) for r in data]


def _check_names(ws: Workspace, name: str, rows: list[tuple[str, int]]) -> None:
    for label, _ in rows:
        if "," in label or ";" in label:
            raise PrismaError(
                f"exclusion reason {label!r} contains ',' or ';', which the PRISMA2020 template cannot carry"
                f" (query {name}); rename it",
                path=str(ws.path),
            )


def _counts(ws: Workspace, definitions: str, names: list[str]) -> dict[str, int]:
    """Run many count queries as one statement, so the shared views are built once."""
    cols = ", ".join(f"({BY_NAME[n].sql})" for n in names)
    try:
        row = ws.db.execute(f"{definitions}SELECT {cols}").fetchone()
    except sqlite3.Error as e:
        raise PrismaError(f"PRISMA queries failed: {e}", path=str(ws.path)) from e
    return {n: int(v or 0) for n, v in zip(names, row, strict=True)}


def compute(ws: Workspace, *, reasons_at_screening: bool = False) -> Flow:
    """All numbers of the diagram. Raises ``PrismaError`` for reason/source names with ',' or ';'.

    Every query runs in ONE statement after the shared WITH clause (the views are built once;
    the per-source and per-reason lists come back as JSON columns)."""
    definitions, stages, _, reason_text = _setup(ws)
    count_qs = [q for q in QUERIES if q.kind == "count"]
    rows_qs = [q for q in QUERIES if q.kind == "rows"]
    cols = [f"({q.sql})" for q in count_qs] + [_rows_column(q) for q in rows_qs]
    try:
        row = ws.db.execute(f"{definitions}SELECT {', '.join(cols)}").fetchone()
    except sqlite3.Error as e:  # a workspace too old/new for these queries
        raise PrismaError(f"PRISMA queries failed: {e}", path=str(ws.path)) from e
    values = {q.name: int(v or 0) for q, v in zip(count_qs, row, strict=False)}
    rows: dict[str, list[tuple[str, int]]] = {}
    for q, text in zip(rows_qs, row[len(count_qs) :], strict=True):
        out = _parse_rows(q, text)
        if q.name.endswith("_reasons"):
            _check_names(ws, q.name, out)
        rows[q.name] = out
    return Flow(
        values=values,
        rows=rows,
        sql={q.name: q.sql for q in QUERIES},
        definitions=definitions,
        stages=stages,
        reason_text=reason_text,
        reasons_at_screening=reasons_at_screening,
    )


def counts(ws: Workspace) -> dict[str, int]:
    """PRISMA2020 template keys -> numbers, each from a named query over the workspace's logs."""
    return _counts(ws, _setup(ws)[0], list(COUNT_KEYS))


def _counted(name: str) -> tuple[Query, str]:
    """The count query ``name`` and the SQL of the items it counts (PrismaError naming the
    valid numbers)."""
    q = BY_NAME.get(name)
    if q is None or q.items_sql is None:
        names = ", ".join(x.name for x in QUERIES if x.items_sql)
        raise PrismaError(f"unknown PRISMA number {name!r}; the numbers are: {names}")
    return q, q.items_sql


def items(ws: Workspace, flow: Flow, name: str) -> list[tuple[int, int]]:
    """The (id, work_id) rows a count query counts: work ids, or record ids with their work."""
    _, sql = _counted(name)
    try:
        rows = ws.db.execute(flow.definitions + sql + " ORDER BY 2, 1").fetchall()
    except sqlite3.Error as e:
        raise PrismaError(f"query {name} failed: {e}", path=str(ws.path)) from e
    return [(int(a), int(b)) for a, b in rows]


def _listing(q: Query, rows: list[tuple[int, int]], limit: int | None) -> str:
    shown = rows if limit is None else rows[:limit]
    if q.unit == "records":
        text = ", ".join(f"{rid} (work {wid})" for rid, wid in shown)
    else:
        text = ", ".join(str(wid) for _, wid in shown)
    more = len(rows) - len(shown)
    if more:
        text += f", … {more} more (review prisma --explain {q.name})"
    return f"  {q.unit}: {text or '(none)'}"


def explain(
    flow: Flow, ws: Workspace | None = None, box: str | None = None, limit: int | None = 20
) -> str:
    """Each number with the SQL behind it (runs as is after the shared WITH clause) and, given
    the workspace, the ids it counts (``limit`` per number; all of them for one ``box``)."""
    ta, ft = flow.stages
    if box is not None:
        q, _ = _counted(box)
        lines = [f"{q.name} = {flow.values[q.name]}", f"  -- {q.description}", f"  {q.sql};"]
        if ws is not None:
            lines.append(_listing(q, items(ws, flow, q.name), None))
        return "\n".join(lines)
    lines = [
        f"-- PRISMA 2020 numbers; screening stage {ta!r}, eligibility stage {ft!r}.",
        "-- Every query below runs after this shared WITH clause:",
        flow.definitions.strip(),
        "",
    ]
    for q in QUERIES:
        if q.kind == "count":
            shown = str(flow.values[q.name])
        else:
            shown = "; ".join(
                f"{label.replace(chr(9), ': ')}, {n}" for label, n in flow.rows[q.name]
            )
            shown = shown or "(none)"
        lines += [f"{q.name} = {shown}", f"  -- {q.description}", f"  {q.sql};"]
        if ws is not None and q.items_sql is not None:
            lines.append(_listing(q, items(ws, flow, q.name), limit))
        lines.append("")
    return "\n".join(lines)
