"""The stopping rule as published in the workspace: ranked screening, then a random sample.

``review status`` and the screening app run Callaghan & Müller-Hansen (2020) with its random
sampling phase (issue 15): no stop before the sample, the sample is a prefix of a stored random
order, and the app's stop point on a replayed labelled set equals ``review simulate``'s ``cmh``.
"""

from __future__ import annotations

from review import status
from review.models import Record
from review.store.decisions import record_decision
from review.store.records import add_records, finish_search, start_search

STAGE = "title-abstract"


def _works(ws, n):
    sid = start_search(ws, source="test", arm="other", kind="file")
    add_records(ws, sid, [Record(title=f"Paper {i} on topic {i % 7}") for i in range(n)])
    finish_search(ws, sid, records_found=n, records_stored=n)
    return [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]


def _decide(ws, works, decision, reviewer="ana"):
    for w in works:
        reason = "E1" if decision == "exclude" else None
        record_decision(
            ws, work_id=w, stage=STAGE, reviewer=reviewer, decision=decision, reason=reason
        )


def test_status_does_not_stop_on_ranked_screening_alone(ws):
    """20 relevant then 240 irrelevant of 300, all in ranked order: the ranked (BUSCAR) form said
    stop here (p = 0.020); the published rule has drawn no random sample yet, so it must not."""
    works = _works(ws, 300)
    _decide(ws, works[:20], "include")
    _decide(ws, works[20:260], "exclude")
    st = status.summary(ws)["stopping"][STAGE]
    assert not st["should_stop"], st
    assert st["rule"] == "cmh" and st["phase"] == "ranked", st
    assert st["sample_drawn"] == 0 and st["consecutive_irrelevant"] == 240
