"""What `review status` reports: pure reads of the workspace."""

from __future__ import annotations

from typing import Any

from . import prisma
from .coding.summary import coding_summary, format_coding
from .store import Workspace
from .store.decisions import decision_counts
from .store.records import (
    count_records,
    count_works,
    record_counts_by_arm,
    record_counts_by_source,
    unfinished_searches,
)


def summary(ws: Workspace) -> dict[str, Any]:
    proto = ws.protocol()
    searches = ws.db.execute("SELECT COUNT(*), SUM(status = 'complete') FROM searches").fetchone()
    unfinished = unfinished_searches(ws)  # running, interrupted or failed
    return {
        "workspace": str(ws.path),
        "protocol": proto.title if proto else None,
        "records": count_records(ws),
        "works": count_works(ws),
        "sources": record_counts_by_source(ws),
        "arms": record_counts_by_arm(ws),
        "searches": {
            "total": searches[0] or 0,
            "complete": searches[1] or 0,
            "unfinished": len(unfinished),
            "failed": sum(u["status"] == "failed" for u in unfinished),
            "unfinished_searches": unfinished,  # with the command that resumes each
        },
        "decisions": decision_counts(ws),
        "prisma": prisma.counts(ws),
        "stopping": stopping(ws, proto.stages if proto else ()),
        "coding": coding_summary(ws),
    }


def stopping(ws: Workspace, stages: tuple[str, ...]) -> dict[str, Any]:
    """The stopping rule's view of every protocol stage that has decisions (read only: neither
    logged nor does it start a random-sample phase). A stage one reviewer screens is that
    reviewer's screening (the app's view); with several it is the team's, and ``reviewers``
    holds each reviewer's own (the screening app runs the random-sample phase per reviewer)."""
    who: dict[str, set[str]] = {}
    for st_name, rev in ws.db.execute("SELECT DISTINCT stage, reviewer FROM decisions"):
        who.setdefault(st_name, set()).add(rev)
    out: dict[str, Any] = {}
    for stage in stages:
        if stage not in who:
            continue
        from .screen.stopping import stopping_status

        only = next(iter(who[stage])) if len(who[stage]) == 1 else None
        st = stopping_status(ws, stage, reviewer=only, log=False)
        keys = ("method", "n_screened", "n_remaining", "n_relevant_found", "est_relevant_remaining",
                "estimated_recall", "consecutive_irrelevant", "should_stop", "message",
                "target_recall", "confidence", "p_value", "irrelevant_to_stop", "assumes",
                "rule", "reviewer", "phase", "trigger", "to_sample", "sample_drawn",
                "sample_relevant", "urn", "r_al", "draws_to_stop", "outside_sample")  # fmt: skip
        out[stage] = {k: st.get(k) for k in keys}
        if only is None:
            each = ("phase", "should_stop", "message", "n_screened", "sample_drawn",
                    "sample_relevant", "p_value", "draws_to_stop")  # fmt: skip
            out[stage]["reviewers"] = {
                r: {k: v.get(k) for k in each}
                for r in sorted(who[stage])
                if (v := stopping_status(ws, stage, reviewer=r, log=False))
            }
    return out


def format_summary(s: dict[str, Any]) -> str:
    lines = [f"Workspace {s['workspace']}"]
    if s["protocol"]:
        lines.append(f"Protocol  {s['protocol']}")
    lines.append(f"Records   {s['records']}  (works after dedup: {s['works']})")
    arms = s["arms"]
    lines.append(
        f"  databases {arms['databases']} · registers {arms['registers']} · other methods {arms['other']}"
    )
    for name, n in s["sources"].items():
        lines.append(f"  {name:<40} {n:>7}")
    sr = s["searches"]
    failed = f" ({sr['failed']} failed)" if sr.get("failed") else ""
    lines.append(
        f"Searches  {sr['total']} logged, {sr['complete']} complete, {sr['unfinished']} unfinished"
        + failed
    )
    for u in sr.get("unfinished_searches", []):
        state = "running now" if u["running"] else u["status"]
        action = "" if u["running"] else f"; resume: {u['resume']}"
        lines.append(f"  search {u['id']} {u['source']} ({u['kind']}): {state}{action}")
    if s["decisions"]:
        lines.append("Decisions")
        for stage, c in s["decisions"].items():
            conflict = f"  conflict {c['conflict']:>5}" if c.get("conflict") else ""
            lines.append(
                f"  {stage:<16} include {c['include']:>5}  exclude {c['exclude']:>5}  maybe {c['maybe']:>5}"
                + conflict
            )
    for stage, st in s.get("stopping", {}).items():
        recall = st.get("estimated_recall")
        rtxt = f"{100 * recall:.1f}%" if isinstance(recall, int | float) else "n/a"
        verdict = "stop" if st.get("should_stop") else "keep screening"
        lines.append(
            f"Stopping  {stage}: estimated recall {rtxt}, {st.get('n_remaining')} unscreened, "
            f"{st.get('consecutive_irrelevant')} irrelevant in a row -> {verdict}"
        )
        if st.get("message"):
            lines.append(f"          {st['message']}")
        if "assumes" in st:
            from .screen.stopping import describe

            lines.append(f"          {describe(st)}")
        for name, each in (st.get("reviewers") or {}).items():
            verdict = "stop" if each.get("should_stop") else "keep screening"
            lines.append(f"          {name}: {each.get('message')} -> {verdict}")
    lines += format_coding(s.get("coding"))
    lines.append("PRISMA 2020")
    for k, v in s["prisma"].items():
        lines.append(f"  {k:<28} {v:>7}")
    return "\n".join(lines)
