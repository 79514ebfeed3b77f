"""The shared WITH clause of the PRISMA queries: views derived from the workspace logs.

``definitions_sql`` builds them; the decision views are THE rule of ``review.store.decisions``
(``votes_sql`` + ``resolution_sql``), not a copy. How each view maps onto the diagram: the
docstring of ``queries.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store.decisions import (
    DBR_ARMS,
    DEFAULT_MAYBE,
    advancing,
    other_methods_sql,
    reached_sql,
    resolution_sql,
    votes_sql,
)

DBR = DBR_ARMS
# full-text votes that count: those on works that reached full text by THE rule of
# store.decisions (moved on at title/abstract, or an other-methods report with no vote there)
FT_REACHED = (
    "(SELECT f.* FROM ft_cur f WHERE "
    + reached_sql("f.work_id", "SELECT work_id FROM ta_adv", "SELECT work_id FROM ta_cur")
    + ")"
)


@dataclass(frozen=True)
class Query:
    """One number of the diagram. A count is the number of rows of ``items_sql``: the ids
    (``id``, and the ``work_id`` it belongs to) that ``review prisma --explain NAME`` lists."""

    name: str
    description: str
    sql: str
    kind: str = "count"  # count -> one integer; rows -> (label, n) rows
    items_sql: str | None = None  # count queries: the items counted (id, work_id)
    unit: str = "works"  # what the items are: works or records


def quote(value: str | None) -> str:
    """A SQL string literal (or NULL)."""
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def definitions_sql(
    ta_stage: str | None,
    ft_stage: str | None,
    source_kinds: dict[str, str],
    maybe: str = DEFAULT_MAYBE,
) -> str:
    """The shared WITH clause: views every query below builds on. The decision views are THE
    rule of ``review.store.decisions`` (``votes_sql`` + ``resolution_sql``), not a copy."""
    if source_kinds:
        values = ", ".join(f"({quote(n)}, {quote(k)})" for n, k in sorted(source_kinds.items()))
        kinds = f"SELECT column1 AS name, column2 AS kind FROM (VALUES {values})"
    else:
        kinds = "SELECT NULL AS name, NULL AS kind WHERE 0"
    adv = ", ".join(quote(a) for a in advancing(maybe))
    cats = "('website', 'organisation', 'citations')"

    return f"""WITH
  -- arm of each active work: 'dbr' if any of its records came from databases/registers
  work_arm AS MATERIALIZED (
    SELECT w.id AS work_id, CASE WHEN {other_methods_sql("w.id")} THEN 'other' ELSE 'dbr' END
      AS arm
    FROM works w WHERE w.active = 1),
  dbr AS (SELECT work_id FROM work_arm WHERE arm = 'dbr'),
  oth AS (SELECT work_id FROM work_arm WHERE arm = 'other'),
  -- current votes per final work and reviewer, and the outcome per work (store.decisions)
  ta_cur AS MATERIALIZED ({votes_sql(quote(ta_stage))}),
  ft_cur AS MATERIALIZED ({votes_sql(quote(ft_stage))}),
  ta AS MATERIALIZED ({resolution_sql("ta_cur", maybe)}),
  -- works whose title/abstract outcome moves them on (maybe = {maybe!r})
  ta_adv AS MATERIALIZED (SELECT work_id FROM ta WHERE decision IN ({adv})),
  -- full-text outcomes of the works that reached full text
  ft AS MATERIALIZED ({resolution_sql(FT_REACHED, maybe)}),
  -- latest retrieval mark per final work (marks follow merges like decisions)
  retrieval_latest AS MATERIALIZED (
    SELECT fw AS work_id, status FROM (SELECT COALESCE(w.merged_into, r.work_id) AS fw, r.status,
      MAX(r.id) FROM retrieval r LEFT JOIN works w ON w.id = r.work_id GROUP BY fw)),
  not_retrieved AS (SELECT work_id FROM retrieval_latest WHERE status = 'not-retrieved'),
  -- other-methods records: the batch's --kind (searches.params), else the protocol source
  -- kind, else web -> website, anything else -> organisation
  source_kind AS ({kinds}),
  other_records AS MATERIALIZED (
    SELECT r.id, r.work_id,
      CASE WHEN json_valid(s.params) AND json_extract(s.params, '$.source_kind') IN {cats}
             THEN json_extract(s.params, '$.source_kind')
           WHEN sk.kind IN {cats} THEN sk.kind
           WHEN s.kind = 'web' THEN 'website' ELSE 'organisation' END AS category
    FROM records r LEFT JOIN searches s ON s.id = r.search_id
    LEFT JOIN source_kind sk ON sk.name = r.source
    WHERE r.arm = 'other'),
  -- databases/registers: reports sought, and those with any current full-text vote
  sought AS MATERIALIZED (SELECT work_id FROM dbr WHERE work_id IN (SELECT work_id FROM ta_adv)),
  ft_assessed AS MATERIALIZED (
    SELECT work_id FROM sought WHERE work_id IN (SELECT work_id FROM ft_cur)),
  -- other methods: assessed = any current vote at either stage; outcome = a title/abstract
  -- exclusion, else the full-text outcome
  oth_voted AS MATERIALIZED (
    SELECT work_id FROM oth WHERE work_id IN (SELECT work_id FROM ta_cur)
      OR work_id IN (SELECT work_id FROM ft)),
  oth_outcome AS MATERIALIZED (
    SELECT work_id, decision, reason FROM ta WHERE decision = 'exclude'
      AND work_id IN (SELECT work_id FROM oth)
    UNION ALL
    SELECT work_id, decision, reason FROM ft WHERE work_id IN (SELECT work_id FROM oth)
      AND work_id NOT IN (SELECT work_id FROM ta WHERE decision = 'exclude')),
  included AS MATERIALIZED (
    SELECT work_id FROM ft WHERE decision = 'include' AND work_id IN (SELECT work_id FROM sought)
    UNION SELECT work_id FROM oth_outcome WHERE decision = 'include'),
  study_tag AS MATERIALIZED (
    SELECT t.work_id, t.tag FROM tags t JOIN (SELECT MAX(id) AS id FROM tags
      WHERE tag LIKE 'study:%' GROUP BY work_id, tag) last ON t.id = last.id
    WHERE t.action = 'add')
"""
