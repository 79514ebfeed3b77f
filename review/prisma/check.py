"""The PRISMA 2020 arithmetic: identities every diagram must satisfy, checked on the numbers.

Each number comes from its own query (``queries.py``), so an identity that fails points at
queries that disagree. Ordinary screening cannot break them: pending work has its own terms
(``records_awaiting``, ``dbr_awaiting``, ``dbr_undecided`` ...), and votes the flow does not
reach (full text on a work no longer sought) are not counted but listed by ``pending``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import PrismaError
from .flow import Flow


@dataclass(frozen=True)
class Identity:
    name: str
    formula: str  # human-readable, with the query names
    lhs: int
    rhs: int
    op: str = "="  # "=" or "<="

    @property
    def ok(self) -> bool:
        return self.lhs == self.rhs if self.op == "=" else self.lhs <= self.rhs

    def __str__(self) -> str:
        mark = "ok" if self.ok else "BROKEN"
        return f"{mark:<6} {self.name}: {self.formula}  ({self.lhs} {self.op} {self.rhs})"


def _sum(rows: list[tuple[str, int]]) -> int:
    return sum(n for _, n in rows)


def identities(flow: Flow) -> list[Identity]:
    v = flow.values
    r = flow.rows
    return [
        Identity(
            "records screened (databases and registers)",
            "records_screened = database_results + register_results - duplicates"
            " - excluded_automatic - excluded_other",
            v["records_screened"],
            v["database_results"]
            + v["register_results"]
            - v["duplicates"]
            - v["excluded_automatic"]
            - v["excluded_other"],
        ),
        Identity(
            "reports sought for retrieval (databases and registers)",
            "dbr_sought_reports = records_screened - records_excluded - records_awaiting",
            v["dbr_sought_reports"],
            v["records_screened"] - v["records_excluded"] - v["records_awaiting"],
        ),
        Identity(
            "screening reasons sum to records excluded",
            "sum(records_excluded_reasons) = records_excluded",
            _sum(r["records_excluded_reasons"]),
            v["records_excluded"],
        ),
        Identity(
            "reports assessed (databases and registers)",
            "dbr_assessed = dbr_sought_reports - dbr_notretrieved_reports - dbr_awaiting",
            v["dbr_assessed"],
            v["dbr_sought_reports"] - v["dbr_notretrieved_reports"] - v["dbr_awaiting"],
        ),
        Identity(
            "full-text reasons sum to reports excluded (databases and registers)",
            "sum(dbr_excluded_reasons) = dbr_excluded",
            _sum(r["dbr_excluded_reasons"]),
            v["dbr_excluded"],
        ),
        Identity(
            "included (databases and registers)",
            "dbr_included = dbr_assessed - dbr_excluded - dbr_undecided",
            v["dbr_included"],
            v["dbr_assessed"] - v["dbr_excluded"] - v["dbr_undecided"],
        ),
        Identity(
            "reports sought for retrieval (other methods)",
            "other_sought_reports = website_results + organisation_results + citations_results"
            " - other_duplicates - other_removed",
            v["other_sought_reports"],
            v["website_results"]
            + v["organisation_results"]
            + v["citations_results"]
            - v["other_duplicates"]
            - v["other_removed"],
        ),
        Identity(
            "reports assessed (other methods)",
            "other_assessed = other_sought_reports - other_notretrieved_reports - other_awaiting",
            v["other_assessed"],
            v["other_sought_reports"] - v["other_notretrieved_reports"] - v["other_awaiting"],
        ),
        Identity(
            "reasons sum to reports excluded (other methods)",
            "sum(other_excluded_reasons) = other_excluded",
            _sum(r["other_excluded_reasons"]),
            v["other_excluded"],
        ),
        Identity(
            "included (other methods)",
            "other_included = other_assessed - other_excluded - other_undecided",
            v["other_included"],
            v["other_assessed"] - v["other_excluded"] - v["other_undecided"],
        ),
        Identity(
            "reports of included studies",
            "new_reports = dbr_included + other_included",
            v["new_reports"],
            v["dbr_included"] + v["other_included"],
        ),
        Identity(
            "studies do not outnumber reports",
            "new_studies <= new_reports",
            v["new_studies"],
            v["new_reports"],
            "<=",
        ),
        Identity(
            "every record is a work, a duplicate or removed",
            "total_records = active_works + duplicates + other_duplicates + excluded_other + other_removed",
            v["total_records"],
            v["active_works"]
            + v["duplicates"]
            + v["other_duplicates"]
            + v["excluded_other"]
            + v["other_removed"],
        ),
        Identity(
            "per-database lines sum to database results",
            "sum(database_specific_results) = database_results",
            _sum(r["database_specific_results"]),
            v["database_results"],
        ),
    ]


def pending(flow: Flow) -> list[str]:
    """What is still in progress (not an error; shown under the diagram and by --check)."""
    v = flow.values
    notes = []
    for key, text in (
        ("records_awaiting", "records awaiting screening"),
        ("dbr_awaiting", "reports awaiting retrieval or full-text assessment"),
        ("dbr_undecided", "reports assessed without a final decision"),
        ("other_awaiting", "other-methods reports awaiting assessment"),
        ("other_undecided", "other-methods reports without a final decision"),
        (
            "dbr_fulltext_not_sought",
            "works with full-text votes but no title/abstract outcome that moves them on"
            " (not counted until they are sought again)",
        ),
        (
            "other_ft_after_ta_exclude",
            "other-methods works with full-text votes but not moved on at title/abstract"
            " (not counted until they are)",
        ),
    ):
        if v[key]:
            notes.append(f"{v[key]} {text}")
    return notes


def check(flow: Flow) -> list[Identity]:
    """All identities; raises ``PrismaError`` naming every broken one."""
    ids = identities(flow)
    broken = [i for i in ids if not i.ok]
    if broken:
        raise PrismaError(
            "PRISMA arithmetic broken: "
            + "; ".join(f"{i.name}: {i.formula} ({i.lhs} {i.op} {i.rhs})" for i in broken)
        )
    return ids
