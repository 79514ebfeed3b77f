"""``review codes``: one row per work, field and chosen value.

Rows: ``work_id, field, value, status, score, evidence, reviewer``. A suggested yes is a row with
status ``suggested``; a confirmed code (agreed by the reviewers who confirmed it, or resolved)
is a row with status ``confirmed``; options judged no have no row. ``best`` = the confirmed
code where a reviewer confirmed the work's field, else the suggestions.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..store.workspace import Workspace
from . import CodingError
from .store import confirmed
from .suggest import latest

COLUMNS = ("work_id", "field", "value", "status", "score", "evidence", "reviewer")
STATUSES = ("suggested", "confirmed", "best")


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def rows(
    ws: Workspace,
    status: str = "best",
    field: str | None = None,
    work_ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """The export rows (work id, then the codebook's field and option order)."""
    if status not in STATUSES:
        raise CodingError(f"unknown --status {status!r}; expected one of {', '.join(STATUSES)}")
    ids = None if work_ids is None else list(work_ids)
    sugg = latest(ws, ids, field)
    conf = confirmed(ws, field, ids)
    proto = ws.protocol()
    order = {f.name: i for i, f in enumerate(proto.codebook)} if proto else {}
    opt_order = {
        (f.name, c): i for f in (proto.codebook if proto else ()) for i, c in enumerate(f.codes)
    }
    out: list[dict[str, Any]] = []
    keys = set(sugg) | set(conf)
    for wid, fname in keys:
        s_rows = {r["value"]: r for r in sugg.get((wid, fname), [])}
        c = conf.get((wid, fname))
        if status in ("confirmed", "best") and c is not None:
            for v in _values(c.value):
                s = s_rows.get(str(v))
                out.append(
                    {
                        "work_id": wid,
                        "field": fname,
                        "value": v,
                        "status": "confirmed",
                        "score": s["score"] if s else None,
                        "evidence": s["evidence"] if s else None,
                        "reviewer": ";".join(c.reviewers) + (" (resolution)" if c.resolved else ""),
                    }  # fmt: skip
                )
        elif status in ("suggested", "best"):
            for v, s in s_rows.items():
                if s["suggested"]:
                    out.append(
                        {
                            "work_id": wid,
                            "field": fname,
                            "value": v,
                            "status": "suggested",
                            "score": s["score"],
                            "evidence": s["evidence"],
                            "reviewer": f"machine ({s['method']}, run {s['run_id']})",
                        }  # fmt: skip
                    )
    out.sort(
        key=lambda r: (
            r["work_id"],
            order.get(r["field"], 99),
            opt_order.get((r["field"], str(r["value"])), 99),
            str(r["value"]),
        )  # fmt: skip
    )
    return out


def write_csv(rows_: list[dict[str, Any]], path: str | Path) -> int:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(COLUMNS))
            w.writeheader()
            for r in rows_:
                w.writerow({k: "" if r[k] is None else r[k] for k in COLUMNS})
    except OSError as e:
        raise CodingError(f"cannot write ({e.strerror})", path=str(p))
    return len(rows_)


def write_json(rows_: list[dict[str, Any]], path: str | Path) -> int:
    Path(path).write_text(json.dumps(rows_, indent=1, ensure_ascii=False), encoding="utf-8")
    return len(rows_)
