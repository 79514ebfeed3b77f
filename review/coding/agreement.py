"""Agreement between coders: Cohen's kappa per option (yes/no) for each pair of reviewers, over
the works both confirmed; exact agreement for text, number and country fields. Resolutions are
not a coder's vote and are left out, as in screening."""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any

from ..share.agreement import cohen_kappa
from ..store.workspace import Workspace
from .store import current, is_resolution


def agreement(ws: Workspace, field: str | None = None) -> dict[str, Any]:
    proto = ws.require_protocol()
    fields = [f for f in proto.codebook if field is None or f.name == field]
    by: dict[tuple[str, int], dict[str, Any]] = {}
    for (wid, fname, reviewer), c in current(ws, None, field).items():
        if c.status == "confirmed" and not is_resolution(c):
            by.setdefault((fname, wid), {})[reviewer] = c.value
    out: list[dict[str, Any]] = []
    for f in fields:
        works = {wid: codes for (fname, wid), codes in by.items() if fname == f.name}
        reviewers = sorted({r for codes in works.values() for r in codes})
        for a, b in combinations(reviewers, 2):
            both = [(c[a], c[b]) for c in works.values() if a in c and b in c]
            row: dict[str, Any] = {"field": f.name, "reviewers": [a, b], "n": len(both)}
            if f.choice:
                per = {}
                for code in f.codes:
                    la = ["yes" if code in (x or []) else "no" for x, _ in both]
                    lb = ["yes" if code in (y or []) else "no" for _, y in both]
                    k = cohen_kappa(la, lb)
                    agree = sum(p == q for p, q in zip(la, lb, strict=True))
                    per[code] = {
                        "kappa": None if k is None else round(k, 4),
                        "percent_agreement": round(100 * agree / len(both), 2) if both else None,
                        "yes": [la.count("yes"), lb.count("yes")],
                    }
                row["options"] = per
            else:
                same = sum(
                    json.dumps(x, sort_keys=True) == json.dumps(y, sort_keys=True) for x, y in both
                )
                row["percent_agreement"] = round(100 * same / len(both), 2) if both else None
            out.append(row)
    return {"fields": [f.name for f in fields], "pairs": out}
