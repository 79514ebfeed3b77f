"""Dual screening: conflicts, resolutions, blind visibility, and agreement statistics.

Agreement follows the decision rule of ``review.store.decisions``: by default (Covidence)
``maybe`` counts as ``include`` (both mean "advance this record"), so statistics are on two
categories, include vs exclude; with ``[screening] maybe = "undecided"`` maybe is its own
category. A conflict is a work whose outcome under that rule is undecided by disagreement. Cohen's kappa is computed per pair of
reviewers over the works both decided; Fleiss' kappa over works decided by every reviewer when
there are more than two.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from ..store import Workspace
from ..store.decisions import cached_protocol, current_decisions, maybe_rule, stage_outcomes

MAYBE_RULE = "maybe is treated as include (as Covidence does)"
MAYBE_RULES = {
    "advance": MAYBE_RULE,
    "undecided": "maybe is undecided: its own category (protocol [screening] maybe)",
}


def binary(decision: str) -> str:
    return "exclude" if decision == "exclude" else "include"


def label(decision: str, rule: str = "advance") -> str:
    """The category a vote counts in for agreement under the protocol's maybe rule."""
    return binary(decision) if rule == "advance" else decision


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa for two aligned label lists; None when undefined (no pairs)."""
    if len(a) != len(b):
        raise ValueError("label lists differ in length")
    n = len(a)
    if n == 0:
        return None
    cats = sorted(set(a) | set(b))
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pe = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    if pe == 1:
        return 1.0 if po == 1 else 0.0
    return (po - pe) / (1 - pe)


def fleiss_kappa(table: list[list[int]]) -> float | None:
    """Fleiss' kappa from an items × categories count table (each row sums to the raters n)."""
    if not table:
        return None
    n = sum(table[0])
    if n < 2 or any(sum(row) != n for row in table):
        raise ValueError("every item needs the same number (≥ 2) of ratings")
    big_n = len(table)
    k = len(table[0])
    p_j = [sum(row[j] for row in table) / (big_n * n) for j in range(k)]
    p_i = [(sum(c * c for c in row) - n) / (n * (n - 1)) for row in table]
    p_bar = sum(p_i) / big_n
    pe = sum(p * p for p in p_j)
    if pe == 1:
        return 1.0
    return (p_bar - pe) / (1 - pe)


def _reviewer_decisions(ws: Workspace, stage: str) -> dict[int, dict[str, dict[str, Any]]]:
    """{work: {reviewer: decision row}} excluding resolutions."""
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for d in current_decisions(ws, stage=stage):
        if d["origin"] == "resolution":
            continue
        out.setdefault(d["work_id"], {})[d["reviewer"]] = d
    return out


def agreement(ws: Workspace, stage: str) -> dict[str, Any]:
    rule = maybe_rule(ws)
    cats = ("include", "exclude") if rule == "advance" else ("include", "exclude", "maybe")
    by_work = _reviewer_decisions(ws, stage)
    reviewers = sorted({r for ds in by_work.values() for r in ds})
    pairs = []
    for a, b in combinations(reviewers, 2):
        both = [
            (ds[a]["decision"], ds[b]["decision"]) for ds in by_work.values() if a in ds and b in ds
        ]
        la = [label(x, rule) for x, _ in both]
        lb = [label(y, rule) for _, y in both]
        table = {
            f"{x}/{y}": sum(1 for p, q in zip(la, lb, strict=True) if p == x and q == y)
            for x in cats
            for y in cats
        }
        k = cohen_kappa(la, lb)
        pairs.append(
            {
                "reviewers": [a, b],
                "n": len(both),
                "agree": sum(p == q for p, q in zip(la, lb, strict=True)),
                "percent_agreement": round(
                    100 * sum(p == q for p, q in zip(la, lb, strict=True)) / len(both), 2
                )
                if both
                else None,
                "cohen_kappa": None if k is None else round(k, 4),
                "table": table,
            }
        )
    result: dict[str, Any] = {
        "stage": stage,
        "reviewers": reviewers,
        "rule": MAYBE_RULES[rule],
        "pairs": pairs,
    }
    if len(reviewers) > 2:
        rows = []
        for ds in by_work.values():
            if all(r in ds for r in reviewers):
                labels = [label(ds[r]["decision"], rule) for r in reviewers]
                rows.append([labels.count(c) for c in cats])
        fk = fleiss_kappa(rows)
        result["fleiss"] = {"n": len(rows), "kappa": None if fk is None else round(fk, 4)}
    return result


def conflicts(ws: Workspace, stage: str) -> list[dict[str, Any]]:
    """Active works whose reviewers disagree and nobody has resolved it: the works the decision
    rule leaves without an outcome (include/maybe vs exclude; any disagreement when the protocol
    says maybe = "undecided")."""
    undecided = {w for w, r in stage_outcomes(ws, stage).items() if r["decision"] is None}
    out = []
    for work_id, ds in sorted(_reviewer_decisions(ws, stage).items()):
        if work_id in undecided:
            title = ws.db.execute("SELECT title FROM works WHERE id = ?", [work_id]).fetchone()
            out.append(
                {
                    "work_id": work_id,
                    "title": title[0] if title else None,
                    "decisions": {
                        r: {"decision": d["decision"], "reason": d["reason"], "note": d["note"]}
                        for r, d in sorted(ds.items())
                    },
                }
            )
    return out


def resolve(
    ws: Workspace,
    *,
    work_id: int,
    stage: str,
    resolver: str,
    decision: str,
    reason: str | None = None,
    note: str | None = None,
) -> int:
    """Settle a conflict: a logged decision by the resolver with origin 'resolution' (checked
    like any decision: stage, work and reason code)."""
    from ..screen.actions import decide

    return decide(
        ws, work_id, stage, resolver, decision, reason=reason, note=note, origin="resolution"
    )


def visible_decisions(ws: Workspace, work_id: int, stage: str, viewer: str) -> list[dict[str, Any]]:
    """Decisions a reviewer may see on a work: with ``blind = true`` in the protocol, others'
    decisions stay hidden until the viewer has decided the work too."""
    rows = current_decisions(ws, stage=stage, work_id=work_id)
    proto = cached_protocol(ws)
    if proto is None or not proto.blind:
        return rows
    if any(d["reviewer"] == viewer for d in rows):
        return rows
    return [d for d in rows if d["reviewer"] == viewer]
