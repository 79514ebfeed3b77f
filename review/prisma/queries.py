"""Every PRISMA 2020 number as a named SQL query over the workspace logs.

Each count is the number of rows of one ``Query.items_sql`` (the ids it counts, with their
work ids: ``review prisma --explain NAME`` lists them). The SQL runs after a shared ``WITH``
clause (``definitions_sql``) whose views derive, from the append-only logs, the arm of every
active work, the current votes and the outcome per work at each stage (THE rule of
``review.store.decisions``, its own SQL text, not a copy), the latest retrieval mark per work and
the other-methods category of every record. Stage names and protocol source kinds are inlined
as quoted literals so ``review prisma --explain`` prints SQL that runs as is in ``sqlite3``.

How the log maps onto the diagram (both arms):

* A work (after dedup) belongs to the databases/registers arm when any of its records came
  from a ``databases`` or ``registers`` search, else to the other-methods arm. Decisions and
  retrieval marks count for the final surviving work of a merge.
* Databases/registers arm: records identified = records of those arms; records removed for
  other reasons = such records whose work is inactive but was not merged (no surviving work);
  duplicates = such records in active works minus the arm's works; records marked ineligible by
  automation tools = works whose title/abstract exclusion has ``origin = 'automation'``;
  records screened = the arm's remaining works. Screening is the first protocol stage,
  eligibility (full text) the second. Reports sought = works whose title/abstract outcome moves
  them on (include, or maybe unless ``[screening] maybe = "undecided"``); of those, assessed =
  any current full-text vote, not retrieved = latest mark ``not-retrieved`` and not assessed,
  awaiting = the rest; excluded/included = full-text outcomes. Full-text votes on works that
  are not (or no longer) sought are not counted and are reported as in progress.
* Other methods (websites, organisations, citation searching): PRISMA 2020 sends these records
  straight to "reports sought for retrieval", because a saved web page or PDF already is the
  report. So every other-methods work (after dedup) is a report sought; other-methods records
  merged into another work are the arm's duplicates. The category is the batch's ``--kind``
  (``searches.params``), else the protocol source's kind, else website for web pages and
  organisation for the rest. Their screening in the app counts as the eligibility assessment:
  assessed = works with a current title/abstract vote or a counted full-text vote; the outcome is
  a title/abstract exclusion when there is one, else the full-text outcome.
* A full-text vote counts only for a work that reached full text (moved on at title/abstract,
  or an other-methods report with no title/abstract vote), as everywhere else
  (``review.store.decisions``).
* Pending work (records awaiting screening, reports awaiting retrieval or assessment, undecided
  conflicts) is counted by its own query so the identities hold on a review in progress.
* Studies vs reports: reports are included works; works sharing a current ``study:<id>`` tag
  are reports of one study.
"""

from __future__ import annotations

from .views import DBR, FT_REACHED, Query, definitions_sql, quote

__all__ = ["BY_NAME", "DBR", "FT_REACHED", "QUERIES", "Query", "definitions_sql", "quote"]


def _count(name: str, description: str, items: str, unit: str = "works") -> Query:
    """A count query: the number of ``items`` rows (id, work_id)."""
    items = " ".join(items.split())
    return Query(name, description, f"SELECT COUNT(*) FROM ({items})", "count", items, unit)


def _rows(name: str, description: str, sql: str) -> Query:
    return Query(name, description, " ".join(sql.split()), kind="rows")


def _works(view: str, where: str = "1") -> str:
    """Items of a work-level count: work ids of ``view`` matching ``where``."""
    return f"SELECT work_id AS id, work_id FROM {view} WHERE {where}"


IN_DBR = "work_id IN (SELECT work_id FROM dbr)"
IN_SOUGHT = "work_id IN (SELECT work_id FROM sought)"
ACTIVE_REC = "JOIN works w ON w.id = r.work_id AND w.active = 1"

QUERIES: tuple[Query, ...] = (
    # -- identification: databases and registers ----------------------------------------------
    _count(
        "database_results",
        "Records identified from databases",
        "SELECT id, work_id FROM records WHERE arm = 'databases'",
        "records",
    ),
    _rows(
        "database_specific_results",
        "Records identified per database (search log source names)",
        "SELECT source, COUNT(*) FROM records WHERE arm = 'databases' GROUP BY source ORDER BY source",
    ),
    _count(
        "register_results",
        "Records identified from registers",
        "SELECT id, work_id FROM records WHERE arm = 'registers'",
        "records",
    ),
    _rows(
        "register_specific_results",
        "Records identified per register",
        "SELECT source, COUNT(*) FROM records WHERE arm = 'registers' GROUP BY source ORDER BY source",
    ),
    _count(
        "duplicates",
        "Duplicate records removed (databases and registers): every record of an active work"
        " but the work's first databases/registers record",
        f"""SELECT r.id, r.work_id FROM records r {ACTIVE_REC} WHERE r.arm IN {DBR}
        AND r.id != (SELECT MIN(r2.id) FROM records r2 WHERE r2.work_id = r.work_id
        AND r2.arm IN {DBR})""",
        "records",
    ),
    _count(
        "excluded_automatic",
        "Records marked as ineligible by automation tools (title/abstract exclusions logged"
        " with origin 'automation')",
        _works("ta", f"decision = 'exclude' AND origin = 'automation' AND {IN_DBR}"),
    ),
    _count(
        "excluded_other",
        "Records removed for other reasons (their work was deactivated without being merged)",
        f"""SELECT r.id, r.work_id FROM records r LEFT JOIN works w ON w.id = r.work_id
        WHERE r.arm IN {DBR} AND (w.id IS NULL OR w.active = 0)""",
        "records",
    ),
    # -- screening ---------------------------------------------------------------------------
    _count(
        "records_screened",
        "Records screened: databases/registers works after dedup and automation",
        _works(
            "dbr",
            "work_id NOT IN (SELECT work_id FROM ta WHERE decision = 'exclude'"
            " AND origin = 'automation')",
        ),
    ),
    _count(
        "records_excluded",
        "Records excluded at title/abstract (outcome exclude by the decision rule)",
        _works("ta", f"decision = 'exclude' AND origin IS NOT 'automation' AND {IN_DBR}"),
    ),
    _rows(
        "records_excluded_reasons",
        "Title/abstract exclusion reasons",
        f"""SELECT COALESCE(reason, 'unspecified'), COUNT(*) FROM ta WHERE decision = 'exclude'
        AND origin IS NOT 'automation' AND {IN_DBR} GROUP BY 1 ORDER BY 2 DESC, 1""",
    ),
    _count(
        "records_awaiting",
        "Records not yet screened or undecided (no vote, a conflict, or maybe when maybe does"
        " not advance)",
        _works(
            "dbr",
            "work_id NOT IN (SELECT work_id FROM ta WHERE decision = 'exclude')"
            " AND work_id NOT IN (SELECT work_id FROM ta_adv)",
        ),
    ),
    _count(
        "dbr_sought_reports",
        "Reports sought for retrieval: works whose title/abstract outcome moves them on"
        ' (include, or maybe unless the protocol says maybe = "undecided")',
        _works("sought"),
    ),
    _count(
        "dbr_notretrieved_reports",
        "Reports not retrieved: sought, latest retrieval mark 'not-retrieved', not assessed",
        _works(
            "sought",
            "work_id IN (SELECT work_id FROM not_retrieved)"
            " AND work_id NOT IN (SELECT work_id FROM ft_assessed)",
        ),
    ),
    _count(
        "dbr_awaiting",
        "Reports sought, not marked not-retrieved, with no full-text vote yet",
        _works(
            "sought",
            "work_id NOT IN (SELECT work_id FROM ft_assessed)"
            " AND work_id NOT IN (SELECT work_id FROM not_retrieved)",
        ),
    ),
    _count(
        "dbr_assessed",
        "Reports assessed for eligibility: sought works with any current full-text vote",
        _works("ft_assessed"),
    ),
    _count(
        "dbr_fulltext_not_sought",
        "Full-text votes on works not (or no longer) moved on at title/abstract: not counted",
        _works(
            "dbr",
            "work_id IN (SELECT work_id FROM ft_cur) AND work_id NOT IN"
            " (SELECT work_id FROM sought)",
        ),
    ),
    _count(
        "dbr_excluded",
        "Reports excluded at full text (outcome exclude)",
        _works("ft", f"decision = 'exclude' AND {IN_SOUGHT}"),
    ),
    _rows(
        "dbr_excluded_reasons",
        "Full-text exclusion reasons",
        f"""SELECT COALESCE(reason, 'unspecified'), COUNT(*) FROM ft
        WHERE decision = 'exclude' AND {IN_SOUGHT} GROUP BY 1 ORDER BY 2 DESC, 1""",
    ),
    _count(
        "dbr_undecided",
        "Reports assessed without an include/exclude outcome (maybe, conflicts)",
        _works(
            "ft_assessed",
            "work_id NOT IN (SELECT work_id FROM ft WHERE decision IN ('include', 'exclude'))",
        ),
    ),
    _count(
        "dbr_included",
        "Reports included at full text (databases and registers)",
        _works("ft", f"decision = 'include' AND {IN_SOUGHT}"),
    ),
    # -- other methods -----------------------------------------------------------------------
    _count(
        "website_results",
        "Records identified from websites",
        "SELECT id, work_id FROM other_records WHERE category = 'website'",
        "records",
    ),
    _count(
        "organisation_results",
        "Records identified from organisations",
        "SELECT id, work_id FROM other_records WHERE category = 'organisation'",
        "records",
    ),
    _count(
        "citations_results",
        "Records identified from citation searching",
        "SELECT id, work_id FROM other_records WHERE category = 'citations'",
        "records",
    ),
    _rows(
        "other_specific_results",
        "Records identified per other-methods source (category, source, n)",
        """SELECT o.category, r.source, COUNT(*) FROM other_records o JOIN records r ON r.id = o.id
        GROUP BY o.category, r.source ORDER BY o.category, r.source""",
    ),
    _count(
        "other_duplicates",
        "Other-methods records merged into another work (duplicates): those in a databases/"
        "registers work, and all but the first record of an other-methods work",
        """SELECT o.id, o.work_id FROM other_records o JOIN works w ON w.id = o.work_id
        AND w.active = 1 WHERE o.work_id IN (SELECT work_id FROM dbr)
        OR o.id != (SELECT MIN(o2.id) FROM other_records o2 WHERE o2.work_id = o.work_id)""",
        "records",
    ),
    _count(
        "other_removed",
        "Other-methods records removed for other reasons (work deactivated without merge)",
        """SELECT o.id, o.work_id FROM other_records o LEFT JOIN works w ON w.id = o.work_id
        WHERE w.id IS NULL OR w.active = 0""",
        "records",
    ),
    _count(
        "other_sought_reports",
        "Reports sought for retrieval (other methods): other-methods works after dedup",
        _works("oth"),
    ),
    _count(
        "other_notretrieved_reports",
        "Reports not retrieved (other methods): marked not-retrieved and not assessed",
        _works(
            "oth",
            "work_id IN (SELECT work_id FROM not_retrieved)"
            " AND work_id NOT IN (SELECT work_id FROM oth_voted)",
        ),
    ),
    _count(
        "other_awaiting",
        "Other-methods reports with no vote yet and not marked not-retrieved",
        _works(
            "oth",
            "work_id NOT IN (SELECT work_id FROM oth_voted)"
            " AND work_id NOT IN (SELECT work_id FROM not_retrieved)",
        ),
    ),
    _count(
        "other_assessed",
        "Reports assessed (other methods): works with any current vote at either stage",
        _works("oth_voted"),
    ),
    _count(
        "other_excluded",
        "Reports excluded (other methods): a title/abstract exclusion, else the full-text outcome",
        _works("oth_outcome", "decision = 'exclude'"),
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
        _works(
            "oth_voted",
            "work_id NOT IN (SELECT work_id FROM oth_outcome WHERE decision IN"
            " ('include', 'exclude'))",
        ),
    ),
    _count(
        "other_ft_after_ta_exclude",
        "Other-methods works with full-text votes but not moved on at title/abstract (excluded,"
        " a conflict or no vote there): the full-text votes are not counted",
        _works(
            "oth",
            "work_id IN (SELECT work_id FROM ft_cur) AND work_id NOT IN (SELECT work_id FROM ta_adv)"
            " AND work_id IN (SELECT work_id FROM ta_cur)",
        ),
    ),
    _count(
        "other_included",
        "Reports included (other methods)",
        _works("oth_outcome", "decision = 'include'"),
    ),
    # -- included ----------------------------------------------------------------------------
    _count(
        "new_reports",
        "Reports of new included studies: included works",
        _works("included"),
    ),
    _count(
        "new_studies",
        "New studies included: included works, those sharing a 'study:<id>' tag counted once"
        " (listed by their lowest work id)",
        """SELECT work_id AS id, work_id FROM included
        WHERE work_id NOT IN (SELECT work_id FROM study_tag)
        UNION ALL SELECT MIN(work_id), MIN(work_id) FROM study_tag
        WHERE work_id IN (SELECT work_id FROM included) GROUP BY tag""",
    ),
    # -- totals used by the check ------------------------------------------------------------
    _count("total_records", "All records", "SELECT id, work_id FROM records", "records"),
    _count(
        "records_in_active_works",
        "Records whose work is active",
        f"SELECT r.id, r.work_id FROM records r {ACTIVE_REC}",
        "records",
    ),
    _count(
        "active_works",
        "Works after dedup",
        "SELECT id, id AS work_id FROM works WHERE active = 1",
    ),
)

BY_NAME = {q.name: q for q in QUERIES}
