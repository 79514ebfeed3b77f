"""Which works are coded: included at a stage, every active work, or (default) the included
works of the last stage with decisions -- every active work when nobody has screened yet."""

from __future__ import annotations

from dataclasses import dataclass

from ..store.decisions import resolved_decisions
from ..store.workspace import Workspace
from . import CodingError


@dataclass(frozen=True)
class Scope:
    work_ids: tuple[int, ...]
    stage: str  # a stage name, or "all"
    description: str  # for people: "included at full-text (12 works)"


def select(ws: Workspace, stage: str | None = None) -> Scope:
    active = [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]
    if stage == "all":
        return Scope(tuple(active), "all", f"all {len(active)} active works")
    proto = ws.protocol()
    stages = list(proto.stages) if proto else []
    if stage is not None:
        if stages and stage not in stages:
            raise CodingError(
                f"unknown stage {stage!r}; expected one of {', '.join(stages)} or all"
            )
        inc = sorted(
            w for w, r in resolved_decisions(ws, stage).items() if r["decision"] == "include"
        )
        return Scope(tuple(inc), stage, f"{len(inc)} works included at {stage}")
    for s in reversed(stages):
        inc = sorted(w for w, r in resolved_decisions(ws, s).items() if r["decision"] == "include")
        if inc:
            return Scope(tuple(inc), s, f"{len(inc)} works included at {s}")
    return Scope(tuple(active), "all", f"all {len(active)} active works (no inclusions yet)")
