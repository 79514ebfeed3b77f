"""PRISMA 2020 counts from the workspace logs (the prisma issue extends this into the diagram)."""

from __future__ import annotations

from .store import Workspace
from .store.decisions import resolved_decisions


def counts(ws: Workspace) -> dict[str, int]:
    """PRISMA2020 keys -> numbers, each from the workspace's logs."""
    q = ws.db.execute
    arm = dict(q("SELECT arm, COUNT(*) FROM records GROUP BY arm").fetchall())
    kinds = {
        r[0]: r[1]
        for r in q(
            "SELECT s.kind, COUNT(*) FROM records r JOIN searches s ON s.id = r.search_id"
            " WHERE r.arm = 'other' GROUP BY s.kind"
        )
    }
    records = q("SELECT COUNT(*) FROM records").fetchone()[0]
    works = q("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0]
    stages = [r[0] for r in q("SELECT DISTINCT stage FROM decisions")]
    ta = resolved_decisions(ws, "title-abstract") if "title-abstract" in stages else {}
    ft = resolved_decisions(ws, "full-text") if "full-text" in stages else {}
    return {
        "database_results": arm.get("databases", 0),
        "register_results": arm.get("registers", 0),
        "website_results": kinds.get("web", 0) + kinds.get("pdf", 0),
        "organisation_results": kinds.get("file", 0) + kinds.get("manual", 0),
        "citations_results": 0,
        "duplicates": records - works,
        "records_screened": len(ta),
        "records_excluded": sum(1 for d in ta.values() if d["decision"] == "exclude"),
        "dbr_assessed": len(ft),
        "dbr_excluded": sum(1 for d in ft.values() if d["decision"] == "exclude"),
        "new_studies": sum(1 for d in ft.values() if d["decision"] == "include"),
    }
