"""The full-text queue and THE rule agree on which works reached full text (issue 12 follow-up).

The rule (``store/decisions.py``, README "How decisions are counted"): a full-text vote counts once
the work reached full text: it moved on at title/abstract, OR it is an other-methods report with no
title/abstract vote (PRISMA sends those straight to retrieval). The queue used to offer only works
moved on at title/abstract, so a gray-literature report could be counted at full text by status
and PRISMA yet never be offered there. Real SQLite, real store API.
"""

from __future__ import annotations

import pytest
from test_truth import FT, TA, add, agree, make_ws, merge, tws  # noqa: F401 - fixture

from review import prisma
from review.prisma import check
from review.screen import actions
from review.screen.queue import eligible_work_ids, next_work, progress
from review.status import summary
from review.store.decisions import has_reached, reached_ids, resolve_work


def test_other_methods_report_decided_directly_at_full_text(tws):  # noqa: F811
    db = add(tws, 2)  # database records: screened at title/abstract first
    web = add(tws, 2, source="UNDP Accelerator Labs", arm="other")
    # before any vote: the two reports are at full text already; the database records are not
    assert eligible_work_ids(tws, FT) == sorted(web)
    assert next_work(tws, FT, "ana", order="oldest") == min(web)
    actions.decide(tws, web[0], FT, "ana", "include")  # no title/abstract vote: straight to FT
    assert resolve_work(tws, web[0], FT)["decision"] == "include"
    # status, PRISMA and the queue tell the same story
    assert summary(tws)["decisions"][FT]["include"] == 1
    v = prisma.compute(tws).values
    assert v["other_assessed"] == 1 and v["other_included"] == 1
    p = progress(tws, FT, "ana")
    assert (p["eligible"], p["screened"], p["include"], p["remaining"]) == (2, 1, 1, 1)
    assert next_work(tws, FT, "ana", order="oldest") == web[1]
    agree(tws)
    # a database record reaches full text by moving on at title/abstract, as before
    actions.decide(tws, db[0], TA, "ana", "include")
    assert eligible_work_ids(tws, FT) == sorted([db[0], *web])
    # a report screened at title/abstract and excluded there leaves the full-text queue
    actions.decide(tws, web[1], TA, "ana", "exclude", "E1")
    assert eligible_work_ids(tws, FT) == sorted([db[0], web[0]])
    assert next_work(tws, FT, "ana", order="oldest") == db[0]
    flow = prisma.compute(tws)
    check.check(flow)
    assert flow["other_excluded"] == 1 and flow["other_included"] == 1


def test_per_work_and_whole_stage_reach_agree(tws):  # noqa: F811
    db = add(tws, 3)
    web = add(tws, 3, source="UNDP Accelerator Labs", arm="other")
    actions.decide(tws, db[0], TA, "ana", "include")
    actions.decide(tws, db[1], TA, "ana", "exclude", "E1")
    actions.decide(tws, web[0], TA, "ana", "maybe")
    actions.decide(tws, web[1], TA, "ana", "exclude", "E2")
    actions.decide(tws, web[1], FT, "ana", "include")  # logged, not counted: excluded before
    whole = reached_ids(tws, FT)
    assert whole == {db[0], web[0], web[2]}
    for wid in db + web:
        assert has_reached(tws, wid, FT) == (wid in whole), wid
        assert has_reached(tws, wid, TA)
    assert set(eligible_work_ids(tws, FT)) == whole
    assert summary(tws)["decisions"][FT]["include"] == 0
    flow = prisma.compute(tws)
    check.check(flow)
    assert flow["other_included"] == 0 and flow["other_ft_after_ta_exclude"] == 1


@pytest.mark.parametrize("maybe", ["advance", "undecided"])
def test_prisma_views_and_store_rule_agree_on_reports_decided_at_full_text(tmp_path, maybe):
    """PRISMA's views (one SQL WITH clause) and store.decisions (per work and whole stage) find
    the same other-methods works and the same counted full-text outcomes, on a review whose
    other-methods reports were decided straight at full text."""
    from review.prisma.views import definitions_sql
    from review.store.decisions import maybe_rule, stage_outcomes

    ws = make_ws(tmp_path, f'maybe = "{maybe}"')
    try:
        db = add(ws, 4)
        web = add(ws, 6, source="UNDP Accelerator Labs", arm="other")
        actions.decide(ws, web[0], FT, "ana", "include")  # straight to full text
        actions.decide(ws, web[1], FT, "ana", "exclude", "E1")
        actions.decide(ws, web[2], FT, "ana", "include")
        actions.decide(ws, web[2], FT, "ben", "exclude", "E2")  # a full-text conflict
        actions.decide(ws, web[3], TA, "ana", "exclude", "E1")
        actions.decide(ws, web[3], FT, "ana", "include")  # logged, not counted
        actions.decide(ws, web[4], TA, "ana", "maybe")
        actions.decide(ws, web[4], FT, "ana", "include")  # counted under advance only
        actions.decide(ws, db[0], TA, "ana", "include")
        actions.decide(ws, db[0], FT, "ana", "exclude", "E2")
        actions.decide(ws, db[1], FT, "ana", "include")  # a database record: not counted
        merge(ws, db[2], web[5])  # a report merged into a database work is in that arm
        actions.decide(ws, db[2], FT, "ana", "include")  # no title/abstract vote: not counted
        views = definitions_sql(TA, FT, {}, maybe_rule(ws))
        sql_ft = {r[0]: r[1] for r in ws.db.execute(views + "SELECT work_id, decision FROM ft")}
        sql_oth = {r[0] for r in ws.db.execute(views + "SELECT work_id FROM oth")}
        store_ft = {w: r["decision"] for w, r in stage_outcomes(ws, FT).items()}
        assert sql_ft == store_ft
        assert sql_oth == set(web[:5])
        expected = {web[0]: "include", web[1]: "exclude", web[2]: None, db[0]: "exclude"}
        if maybe == "advance":
            expected[web[4]] = "include"
        assert store_ft == expected
        reached = reached_ids(ws, FT)
        active = {r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1")}
        ta_voted = {r[0] for r in ws.db.execute(views + "SELECT work_id FROM ta_cur")}
        for w in active:  # with no title/abstract vote, a work reached full text iff it is 'other'
            assert has_reached(ws, w, FT) == (w in reached), w
            if w not in ta_voted:
                assert (w in reached) == (w in sql_oth), w
        check.check(prisma.compute(ws))
    finally:
        ws.close()


def test_reached_ids_among_keeps_only_active_works_at_every_stage(tws):  # noqa: F811
    """``reached_ids(among=...)`` returns active works only, as its docstring says, at the first
    stage too (a work merged away has not reached any stage: its survivor has)."""
    db = add(tws, 3)
    web = add(tws, 2, source="UNDP Accelerator Labs", arm="other")
    merge(tws, db[0], db[1])  # db[1] is merged away: no longer active
    every = [*db, *web]
    assert reached_ids(tws, TA, among=every) == {db[0], db[2], *web} == reached_ids(tws, TA)
    assert reached_ids(tws, TA, among=[db[1], web[0]]) == {web[0]}
    assert reached_ids(tws, FT, among=every) == set(web) == reached_ids(tws, FT)
    for w in every:
        assert has_reached(tws, w, FT) == (w in web), w
