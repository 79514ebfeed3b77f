"""Every PRISMA 2020 number as a named SQL query over the workspace logs.

Each number is one ``Query`` (name, description, SQL). The SQL runs after a shared ``WITH``
clause (``definitions_sql``) whose views derive, from the append-only logs, the arm of every
active work, the resolved decision per work at each stage (the same rule as
``review.store.decisions.resolved_decisions``), the latest retrieval status per work and the
other-methods category of every record. Stage names and protocol source kinds are inlined as
quoted literals so ``review prisma --explain`` prints SQL that runs as is in ``sqlite3``.

How the log maps onto the diagram (both arms):

* A work (after dedup) belongs to the databases/registers arm when any of its records came
  from a ``databases`` or ``registers`` search, else to the other-methods arm.
* Databases/registers arm: records identified = records of those arms; records removed for
  other reasons = such records whose work is inactive but was not merged (no surviving work);
  duplicates = such records in active works minus the arm's works; records marked ineligible by
  automation tools = works whose resolved title/abstract exclusion has ``origin = 'automation'``;
  records screened = the arm's remaining works. Screening is the first protocol stage, eligibility
  (full text) the second. Reports sought = works included at title/abstract; not retrieved =
  works whose latest ``retrieval`` row is ``not-retrieved``; assessed = works with any current
  full-text decision; excluded/included = resolved full-text decisions.
* Other methods (websites, organisations, citation searching): PRISMA 2020 sends these records
  straight to "reports sought for retrieval", because a saved web page or PDF already is the
  report. So every other-methods work (after dedup) is a report sought; other-methods records
  merged into another work are the arm's duplicates (shown in the sought box). Their screening
  in the app counts as the eligibility assessment: assessed = works with any current decision
  at either stage; the outcome is the resolved full-text decision when there is one, else a
  resolved title/abstract exclusion (its reason is reported like a full-text reason).
* Pending work (records awaiting screening, reports awaiting retrieval or assessment, undecided
  conflicts) is counted by its own query so the identities hold on a review in progress.
* Studies vs reports: reports are included works; works sharing a current ``study:<id>`` tag
  are reports of one study.
"""

from __future__ import annotations

from dataclasses import dataclass

DBR = "('databases', 'registers')"


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    sql: str
    kind: str = "count"  # count -> one integer; rows -> (label, n) rows


def quote(value: str | None) -> str:
    """A SQL string literal (or NULL)."""
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def _resolved(cur: str) -> str:
    """One decision per work: the latest 'resolution' row, else the latest row if all agree."""
    return f"""
    SELECT d.work_id, d.decision, d.reason, d.origin FROM (
      SELECT COALESCE(MAX(CASE WHEN origin = 'resolution' THEN id END),
        CASE WHEN COUNT(DISTINCT decision) = 1 THEN MAX(id) END) AS id
      FROM {cur} GROUP BY work_id) g
    JOIN decisions d ON d.id = g.id"""


def definitions_sql(
    ta_stage: str | None, ft_stage: str | None, source_kinds: dict[str, str]
) -> str:
    """The shared WITH clause: views every query below builds on."""
    if source_kinds:
        values = ", ".join(f"({quote(n)}, {quote(k)})" for n, k in sorted(source_kinds.items()))
        kinds = f"SELECT column1 AS name, column2 AS kind FROM (VALUES {values})"
    else:
        kinds = "SELECT NULL AS name, NULL AS kind WHERE 0"

    def cur(stage: str | None) -> str:
        return (
            "SELECT d.* FROM decisions d JOIN (SELECT MAX(id) AS id FROM decisions"
            f" WHERE stage = {quote(stage)} GROUP BY work_id, reviewer) last ON d.id = last.id"
            " WHERE d.decision != 'retract'"
        )

    return f"""WITH
  -- arm of each active work: 'dbr' if any of its records came from databases/registers
  work_arm AS MATERIALIZED (
    SELECT w.id AS work_id, CASE WHEN EXISTS (SELECT 1 FROM records r WHERE r.work_id = w.id
      AND r.arm IN {DBR}) THEN 'dbr' ELSE 'other' END AS arm
    FROM works w WHERE w.active = 1),
  dbr AS (SELECT work_id FROM work_arm WHERE arm = 'dbr'),
  oth AS (SELECT work_id FROM work_arm WHERE arm = 'other'),
  -- current decisions (latest non-retracted row per work and reviewer) and resolved ones
  ta_cur AS MATERIALIZED ({cur(ta_stage)}),
  ft_cur AS MATERIALIZED ({cur(ft_stage)}),
  ta AS MATERIALIZED ({_resolved("ta_cur")}),
  ft AS MATERIALIZED ({_resolved("ft_cur")}),
  retrieval_latest AS MATERIALIZED (
    SELECT r.work_id, r.status FROM retrieval r
    JOIN (SELECT MAX(id) AS id FROM retrieval GROUP BY work_id) last ON r.id = last.id),
  -- other-methods records: protocol source kind, else web -> website, anything else -> organisation
  source_kind AS ({kinds}),
  other_records AS MATERIALIZED (
    SELECT r.id, r.work_id,
      CASE WHEN sk.kind IN ('website', 'organisation', 'citations') THEN sk.kind
           WHEN s.kind = 'web' THEN 'website' ELSE 'organisation' END AS category
    FROM records r LEFT JOIN searches s ON s.id = r.search_id
    LEFT JOIN source_kind sk ON sk.name = r.source
    WHERE r.arm = 'other'),
  -- final outcome of an other-methods work: resolved full text, else a title/abstract exclusion
  oth_outcome AS MATERIALIZED (
    SELECT work_id, decision, reason FROM ft WHERE work_id IN (SELECT work_id FROM oth)
    UNION ALL
    SELECT work_id, decision, reason FROM ta WHERE decision = 'exclude'
      AND work_id IN (SELECT work_id FROM oth) AND work_id NOT IN (SELECT work_id FROM ft)),
  included AS MATERIALIZED (
    SELECT work_id FROM ft WHERE decision = 'include' AND work_id IN (SELECT work_id FROM dbr)
    UNION SELECT work_id FROM oth_outcome WHERE decision = 'include'),
  study_tag AS MATERIALIZED (
    SELECT t.work_id, t.tag FROM tags t JOIN (SELECT MAX(id) AS id FROM tags
      WHERE tag LIKE 'study:%' GROUP BY work_id, tag) last ON t.id = last.id
    WHERE t.action = 'add')
"""


def _count(name: str, description: str, sql: str) -> Query:
    return Query(name, description, " ".join(sql.split()))


def _rows(name: str, description: str, sql: str) -> Query:
    return Query(name, description, " ".join(sql.split()), kind="rows")


QUERIES: tuple[Query, ...] = (
    # -- identification: databases and registers ----------------------------------------------
    _count(
        "database_results",
        "Records identified from databases",
        "SELECT COUNT(*) FROM records WHERE arm = 'databases'",
    ),
    _rows(
        "database_specific_results",
        "Records identified per database (search log source names)",
        "SELECT source, COUNT(*) FROM records WHERE arm = 'databases' GROUP BY source ORDER BY source",
    ),
    _count(
        "register_results",
        "Records identified from registers",
        "SELECT COUNT(*) FROM records WHERE arm = 'registers'",
    ),
    _rows(
        "register_specific_results",
        "Records identified per register",
        "SELECT source, COUNT(*) FROM records WHERE arm = 'registers' GROUP BY source ORDER BY source",
    ),
    _count(
        "duplicates",
        "Duplicate records removed (databases and registers)",
        f"""SELECT (SELECT COUNT(*) FROM records r JOIN works w ON w.id = r.work_id AND w.active = 1
        WHERE r.arm IN {DBR}) - (SELECT COUNT(*) FROM dbr)""",
    ),
    _count(
        "excluded_automatic",
        "Records marked as ineligible by automation tools (title/abstract exclusions logged"
        " with origin 'automation')",
        "SELECT COUNT(*) FROM ta WHERE decision = 'exclude' AND origin = 'automation'"
        " AND work_id IN (SELECT work_id FROM dbr)",
    ),
    _count(
        "excluded_other",
        "Records removed for other reasons (their work was deactivated without being merged)",
        f"""SELECT COUNT(*) FROM records r LEFT JOIN works w ON w.id = r.work_id
        WHERE r.arm IN {DBR} AND (w.id IS NULL OR w.active = 0)""",
    ),
    # -- screening ---------------------------------------------------------------------------
    _count(
        "records_screened",
        "Records screened: databases/registers works after dedup and automation",
        "SELECT COUNT(*) FROM dbr WHERE work_id NOT IN"
        " (SELECT work_id FROM ta WHERE decision = 'exclude' AND origin = 'automation')",
    ),
    _count(
        "records_excluded",
        "Records excluded at title/abstract (resolved decisions)",
        "SELECT COUNT(*) FROM ta WHERE decision = 'exclude' AND origin IS NOT 'automation'"
        " AND work_id IN (SELECT work_id FROM dbr)",
    ),
    _rows(
        "records_excluded_reasons",
        "Title/abstract exclusion reasons",
        """SELECT COALESCE(reason, 'unspecified'), COUNT(*) FROM ta WHERE decision = 'exclude'
        AND origin IS NOT 'automation' AND work_id IN (SELECT work_id FROM dbr) GROUP BY 1 ORDER BY 2 DESC, 1""",
    ),
    _count(
        "records_awaiting",
        "Records not yet screened or undecided (no resolved include/exclude; maybe, conflicts)",
        """SELECT COUNT(*) FROM dbr
        WHERE work_id NOT IN (SELECT work_id FROM ta WHERE decision IN ('include', 'exclude'))""",
    ),
    _count(
        "dbr_sought_reports",
        "Reports sought for retrieval: works included at title/abstract",
        "SELECT COUNT(*) FROM ta WHERE decision = 'include' AND work_id IN (SELECT work_id FROM dbr)",
    ),
    _count(
        "dbr_notretrieved_reports",
        "Reports not retrieved: latest retrieval status 'not-retrieved'",
        "SELECT COUNT(*) FROM retrieval_latest WHERE status = 'not-retrieved' AND work_id IN (SELECT work_id FROM dbr)",
    ),
    _count(
        "dbr_awaiting",
        "Reports sought, not marked not-retrieved, with no full-text decision yet",
        """SELECT COUNT(*) FROM ta WHERE decision = 'include' AND work_id IN (SELECT work_id FROM dbr)
        AND work_id NOT IN (SELECT work_id FROM ft_cur)
        AND work_id NOT IN (SELECT work_id FROM retrieval_latest WHERE status = 'not-retrieved')""",
    ),
    _count(
        "dbr_assessed",
        "Reports assessed for eligibility: works with any current full-text decision",
        "SELECT COUNT(DISTINCT work_id) FROM ft_cur WHERE work_id IN (SELECT work_id FROM dbr)",
    ),
    _count(
        "dbr_fulltext_not_sought",
        "Full-text decisions on works never included at title/abstract (should be 0)",
        """SELECT COUNT(DISTINCT work_id) FROM ft_cur WHERE work_id IN (SELECT work_id FROM dbr)
        AND work_id NOT IN (SELECT work_id FROM ta WHERE decision = 'include')""",
    ),
    _count(
        "dbr_excluded",
        "Reports excluded at full text (resolved decisions)",
        "SELECT COUNT(*) FROM ft WHERE decision = 'exclude' AND work_id IN (SELECT work_id FROM dbr)",
    ),
    _rows(
        "dbr_excluded_reasons",
        "Full-text exclusion reasons",
        """SELECT COALESCE(reason, 'unspecified'), COUNT(*) FROM ft
        WHERE decision = 'exclude' AND work_id IN (SELECT work_id FROM dbr) GROUP BY 1 ORDER BY 2 DESC, 1""",
    ),
    _count(
        "dbr_undecided",
        "Reports assessed without a resolved include/exclude (maybe, conflicts)",
        """SELECT COUNT(DISTINCT work_id) FROM ft_cur WHERE work_id IN (SELECT work_id FROM dbr)
        AND work_id NOT IN (SELECT work_id FROM ft WHERE decision IN ('include', 'exclude'))""",
    ),
    _count(
        "dbr_included",
        "Reports included at full text (databases and registers)",
        "SELECT COUNT(*) FROM ft WHERE decision = 'include' AND work_id IN (SELECT work_id FROM dbr)",
    ),
    # -- other methods -----------------------------------------------------------------------
    _count(
        "website_results",
        "Records identified from websites",
        "SELECT COUNT(*) FROM other_records WHERE category = 'website'",
    ),
    _count(
        "organisation_results",
        "Records identified from organisations",
        "SELECT COUNT(*) FROM other_records WHERE category = 'organisation'",
    ),
    _count(
        "citations_results",
        "Records identified from citation searching",
        "SELECT COUNT(*) FROM other_records WHERE category = 'citations'",
    ),
    _rows(
        "other_specific_results",
        "Records identified per other-methods source (category, source, n)",
        """SELECT o.category, r.source, COUNT(*) FROM other_records o JOIN records r ON r.id = o.id
        GROUP BY o.category, r.source ORDER BY o.category, r.source""",
    ),
    _count(
        "other_duplicates",
        "Other-methods records merged into another work (duplicates)",
        """SELECT (SELECT COUNT(*) FROM other_records o JOIN works w ON w.id = o.work_id
        AND w.active = 1) - (SELECT COUNT(*) FROM oth)""",
    ),
    _count(
        "other_removed",
        "Other-methods records removed for other reasons (work deactivated without merge)",
        """SELECT COUNT(*) FROM other_records o LEFT JOIN works w ON w.id = o.work_id
        WHERE w.id IS NULL OR w.active = 0""",
    ),
    _count(
        "other_sought_reports",
        "Reports sought for retrieval (other methods): other-methods works after dedup",
        "SELECT COUNT(*) FROM oth",
    ),
    _count(
        "other_notretrieved_reports",
        "Reports not retrieved (other methods)",
        "SELECT COUNT(*) FROM retrieval_latest WHERE status = 'not-retrieved' AND work_id IN (SELECT work_id FROM oth)",
    ),
    _count(
        "other_awaiting",
        "Other-methods reports with no decision yet and not marked not-retrieved",
        """SELECT COUNT(*) FROM oth WHERE work_id NOT IN (SELECT work_id FROM ta_cur)
        AND work_id NOT IN (SELECT work_id FROM ft_cur)
        AND work_id NOT IN (SELECT work_id FROM retrieval_latest WHERE status = 'not-retrieved')""",
    ),
    _count(
        "other_assessed",
        "Reports assessed (other methods): works with any current decision at either stage",
        """SELECT COUNT(*) FROM oth WHERE work_id IN (SELECT work_id FROM ta_cur)
        OR work_id IN (SELECT work_id FROM ft_cur)""",
    ),
    _count(
        "other_excluded",
        "Reports excluded (other methods): resolved full-text exclusion, else title/abstract",
        "SELECT COUNT(*) FROM oth_outcome WHERE decision = 'exclude'",
    ),
    _rows(
        "other_excluded_reasons",
        "Exclusion reasons (other methods)",
        """SELECT COALESCE(reason, 'unspecified'), COUNT(*) FROM oth_outcome
        WHERE decision = 'exclude' GROUP BY 1 ORDER BY 2 DESC, 1""",
    ),
    _count(
        "other_undecided",
        "Other-methods reports assessed without an include/exclude outcome",
        """SELECT COUNT(*) FROM oth
        WHERE (work_id IN (SELECT work_id FROM ta_cur) OR work_id IN (SELECT work_id FROM ft_cur))
        AND work_id NOT IN (SELECT work_id FROM oth_outcome WHERE decision IN ('include', 'exclude'))""",
    ),
    _count(
        "other_ft_after_ta_exclude",
        "Other-methods works included at full text after a title/abstract exclusion (should be 0)",
        """SELECT COUNT(*) FROM ta WHERE decision = 'exclude' AND work_id IN (SELECT work_id FROM oth)
        AND work_id IN (SELECT work_id FROM ft WHERE decision = 'include')""",
    ),
    _count(
        "other_included",
        "Reports included (other methods)",
        "SELECT COUNT(*) FROM oth_outcome WHERE decision = 'include'",
    ),
    # -- included ----------------------------------------------------------------------------
    _count(
        "new_reports",
        "Reports of new included studies: included works",
        "SELECT COUNT(*) FROM included",
    ),
    _count(
        "new_studies",
        "New studies included: included works, those sharing a 'study:<id>' tag counted once",
        """SELECT (SELECT COUNT(*) FROM included WHERE work_id NOT IN (SELECT work_id FROM study_tag))
        + (SELECT COUNT(DISTINCT tag) FROM study_tag WHERE work_id IN (SELECT work_id FROM included))""",
    ),
    # -- totals used by the check ------------------------------------------------------------
    _count("total_records", "All records", "SELECT COUNT(*) FROM records"),
    _count(
        "records_in_active_works",
        "Records whose work is active",
        "SELECT COUNT(*) FROM records r JOIN works w ON w.id = r.work_id AND w.active = 1",
    ),
    _count("active_works", "Works after dedup", "SELECT COUNT(*) FROM works WHERE active = 1"),
)

BY_NAME = {q.name: q for q in QUERIES}
