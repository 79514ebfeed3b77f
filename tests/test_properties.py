"""Property-based test (issue 12): random operation sequences never make two commands disagree.

Hypothesis draws sequences of: imports of small real files (RIS with and without record IDs,
a PubMed CSV, saved web pages with ``--kind``), dedup runs, manual merges and splits (undo of a
merge), decisions and undos by 1-3 reviewers (include / exclude / maybe, also on absorbed works),
conflict resolutions, full-text decisions, not-retrieved marks and bundles from another group
(records and decisions), under either maybe rule.
After EVERY step the PRISMA identities hold and status, PRISMA, export, the queues, history and
the per-work rule tell the same story (``assert_one_truth``). Failing examples hypothesis found
are kept as plain tests at the bottom.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review import prisma, protocol
from review.dedup import engine, merges
from review.errors import ReviewError
from review.harvest.export import export_rows
from review.harvest.files.importer import import_files
from review.harvest.web import add_web
from review.prisma import check, flow
from review.screen import actions
from review.screen.queue import eligible_work_ids, not_retrieved_ids
from review.share.agreement import conflicts, resolve
from review.share.bundle import export_bundle
from review.share.merge import import_bundle
from review.status import summary
from review.store import Workspace, init
from review.store.decisions import (
    advancing,
    current_decisions,
    decision_counts,
    maybe_rule,
    reached_ids,
    resolve_work,
    stage_outcomes,
)

TA, FT = "title-abstract", "full-text"
DATA = Path(__file__).parent / "data"
PROTO = DATA / "screen" / "depression.toml"
FILES = (
    DATA / "formats" / "rispy" / "example_full.ris",  # 2 records with ID lines
    DATA / "formats" / "colrev" / "ris_data.ris",  # 2 records, no IDs
    DATA / "formats" / "colrev" / "ieee_ris.ris",  # 2 records, no IDs
    DATA / "formats" / "colrev" / "trid_ris.ris",  # 3 records, no IDs
    DATA / "formats" / "colrev" / "pubmed_csv.csv",  # a PubMed CSV export
)
PAGES = tuple(sorted(p for p in (DATA / "graylit").glob("*.md") if p.name != "README.md"))
SOURCES = (("Scopus", "databases"), ("PubMed", "databases"), ("Trials", "registers"),
           ("Handsearch", "other"))  # fmt: skip
REVIEWERS = ("ana", "ben", "cy")
REASONS = ("E1", "E2", "E3")


_TEMPLATES: dict[str, bytes] = {}


@contextmanager
def workspace(maybe: str = "advance") -> Iterator[Any]:
    """A fresh workspace: a copy of one made once per maybe rule (migrations run once)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "p.db"
        if maybe not in _TEMPLATES:
            text = PROTO.read_text(encoding="utf-8")
            if maybe != "advance":
                text = text.replace("[screening]\n", f'[screening]\nmaybe = "{maybe}"\n')
            init(db, protocol.loads(text)).close()
            _TEMPLATES[maybe] = db.read_bytes()
        db.write_bytes(_TEMPLATES[maybe])
        ws = Workspace.open(db)
        try:
            yield ws
        finally:
            ws.close()


def active_ids(ws: Any) -> list[int]:
    return [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]


def pick(ids: list[int], i: int) -> int | None:
    return ids[i % len(ids)] if ids else None


# -- operations ---------------------------------------------------------------------------------


def apply(ws: Any, op: tuple[Any, ...]) -> None:  # noqa: C901 - one branch per operation
    kind = op[0]
    if kind == "import":
        _, f, s = op
        name, arm = SOURCES[s % len(SOURCES)]
        try:
            import_files(ws, [FILES[f % len(FILES)]], source=name, arm=arm)
        except ReviewError:
            pass  # refusing is allowed (e.g. a repeated file); corrupting is not
    elif kind == "web":
        _, p, k = op
        try:
            add_web(ws, [PAGES[p % len(PAGES)]], kind=("website", "organisation")[k % 2])
        except ReviewError:
            pass
    elif kind == "dedup":
        engine.run(ws)
    elif kind == "merge":
        ids = active_ids(ws)
        a, b = pick(ids, op[1]), pick(ids, op[2])
        if a is not None and b is not None and a != b:
            merges.merge_works(ws, a, [(b, "manual", None)], actor="prop")
    elif kind == "split":
        multi = [
            r[0]
            for r in ws.db.execute(
                "SELECT w.id FROM works w JOIN records r ON r.work_id = w.id WHERE w.active = 1"
                " GROUP BY w.id HAVING COUNT(*) > 1 ORDER BY w.id"
            )
        ]
        w = pick(multi, op[1])
        if w is not None:
            merges.split_work(ws, w, actor="prop")
    elif kind == "decide":
        _, who, i, stage, decision, reason = op
        ids = active_ids(ws) if stage == TA else eligible_work_ids(ws, FT)
        w = pick(ids, i)
        if w is not None:
            actions.decide(
                ws, w, stage, REVIEWERS[who], decision,
                REASONS[reason] if decision == "exclude" else None,
            )  # fmt: skip
    elif kind == "dual":  # two reviewers on one work: agreement or a conflict
        _, i, d1, d2 = op
        w = pick(active_ids(ws), i)
        if w is not None:
            for who, d in (("ana", d1), ("ben", d2)):
                actions.decide(ws, w, TA, who, d, "E3" if d == "exclude" else None)
    elif kind == "decide_absorbed":
        _, who, i, decision = op
        gone = [
            r[0]
            for r in ws.db.execute(
                "SELECT id FROM works WHERE active = 0 AND merged_into IS NOT NULL ORDER BY id"
            )
        ]
        w = pick(gone, i)
        if w is not None:
            did = actions.decide(
                ws, w, TA, REVIEWERS[who], decision, "E1" if decision == "exclude" else None
            )
            on = ws.db.execute("SELECT work_id FROM decisions WHERE id = ?", [did]).fetchone()[0]
            assert on == actions.survivor(ws, w) != w
    elif kind == "undo":
        _, who, i, stage = op
        w = pick(active_ids(ws), i)
        if w is not None:
            actions.undo_last(ws, stage, REVIEWERS[who], work_id=w)
    elif kind == "resolve":
        _, i, decision = op
        cs = conflicts(ws, TA)
        c = pick([c["work_id"] for c in cs], i)
        if c is not None:
            resolve(
                ws, work_id=c, stage=TA, resolver="lead", decision=decision,
                reason="E2" if decision == "exclude" else None,
            )  # fmt: skip
            assert c not in {x["work_id"] for x in conflicts(ws, TA)}
    elif kind == "bundle":  # another group's records and decisions arrive in a bundle
        _, f, d1, d2 = op
        with workspace(maybe_rule(ws)) as other:
            other.set_meta("group_name", "maputo")
            import_files(other, [FILES[f % len(FILES)]], source="Maputo search", arm="databases")
            for w, d in zip(active_ids(other), (d1, d2), strict=False):
                actions.decide(other, w, TA, "zed", d, "E1" if d == "exclude" else None)
            out = Path(other.path).with_suffix(".zip")
            export_bundle(other, out, group="maputo", decisions=True, sign=False)
            import_bundle(ws, out)
    elif kind == "not_retrieved":
        w = pick(eligible_work_ids(ws, FT), op[1])
        if w is not None:
            actions.mark_not_retrieved(ws, w, "ana")
    else:  # pragma: no cover
        raise AssertionError(op)


DECISIONS = st.sampled_from(("include", "exclude", "maybe"))
WHO = st.integers(0, 2)
IDX = st.integers(0, 7)  # small: reviewers often meet on the same work (conflicts)
DECIDE = st.tuples(
    st.just("decide"), WHO, IDX, st.sampled_from((TA, TA, FT)), DECISIONS, st.integers(0, 2)
)
OPS = st.one_of(
    DECIDE,
    DECIDE,
    st.tuples(st.just("dual"), IDX, DECISIONS, DECISIONS),
    st.tuples(st.just("undo"), WHO, IDX, st.sampled_from((TA, TA, FT))),
    st.tuples(st.just("resolve"), IDX, st.sampled_from(("include", "exclude"))),
    st.tuples(st.just("import"), st.integers(0, len(FILES) - 1), st.integers(0, 3)),
    st.tuples(st.just("web"), st.integers(0, 5), st.integers(0, 1)),
    st.tuples(st.just("dedup")),
    st.tuples(st.just("merge"), IDX, IDX),
    st.tuples(st.just("split"), IDX),
    st.tuples(st.just("decide_absorbed"), WHO, IDX, DECISIONS),
    st.tuples(st.just("not_retrieved"), IDX),
    st.tuples(st.just("bundle"), st.integers(0, len(FILES) - 1), DECISIONS, DECISIONS),
)


# -- the invariants ----------------------------------------------------------------------------


def latest_from_history(events: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """Current votes recomputed from `review history` alone: latest row per (stage, reviewer)."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for e in sorted((e for e in events if e["kind"] == "decision"), key=lambda e: e["id"]):
        last[(e["stage"], e["reviewer"])] = e
    return {
        (s, r, e["value"].split()[0])
        for (s, r), e in last.items()
        if not e["value"].startswith("retract")
    }


def assert_one_truth(ws: Any) -> None:
    f = prisma.compute(ws)
    check.check(f)  # the PRISMA 2020 identities
    v = f.values
    active = set(active_ids(ws))
    # merged_into is path-compressed: it names a work that was not merged anywhere itself
    assert not ws.db.execute(
        "SELECT a.id FROM works a JOIN works b ON b.id = a.merged_into"
        " WHERE b.merged_into IS NOT NULL OR b.active = 0"
    ).fetchall()
    assert v["active_works"] == len(active) == len(export_rows(ws))
    rule = maybe_rule(ws)
    dbr = {w for _, w in flow.items(ws, f, "records_screened")}
    status = decision_counts(ws)  # what `review status` shows (summary() at the end of a run)
    for stage in (TA, FT):
        outcomes = stage_outcomes(ws, stage)
        # the per-work rule (index lookups) is the whole-stage rule
        for w in active:
            one = resolve_work(ws, w, stage)
            whole = outcomes.get(w)
            assert (one or {}).get("decision", "-") == (whole or {}).get("decision", "-"), (
                w,
                stage,
            )
        # status, export and the conflicts list count the same outcomes
        counts = status.get(stage, {"include": 0, "exclude": 0, "maybe": 0, "conflict": 0})
        for d in ("include", "exclude", "maybe"):
            assert len(export_rows(ws, stage=stage, decision=d)) == counts[d], (stage, d)
        if stage == TA:
            assert counts["conflict"] == len(conflicts(ws, TA))
    ta = stage_outcomes(ws, TA)
    moved_on = {w for w, r in ta.items() if r["decision"] in advancing(rule)}
    # the full-text queue is the works that reached full text by THE rule: moved on at
    # title/abstract, or other-methods reports with no title/abstract vote (straight to retrieval)
    straight = set(active) - dbr - ta.keys()
    assert set(eligible_work_ids(ws, FT)) == moved_on | straight == reached_ids(ws, FT)
    assert {w for _, w in flow.items(ws, f, "dbr_sought_reports")} == moved_on & dbr
    excluded = {w for w, r in ta.items() if r["decision"] == "exclude"} & dbr
    got = {w for _, w in flow.items(ws, f, "records_excluded")}
    got |= {w for _, w in flow.items(ws, f, "excluded_automatic")}
    assert got == excluded
    ft = stage_outcomes(ws, FT)
    ft_included = {w for w, r in ft.items() if r["decision"] == "include"}
    # a full-text outcome counts only for works that reached full text, everywhere
    assert {w for w in ft if w in dbr} <= moved_on
    assert set(ft) <= moved_on | straight  # every counted full-text vote is on a queued work
    assert {w for _, w in flow.items(ws, f, "dbr_included")} == ft_included & dbr
    assert {w for _, w in flow.items(ws, f, "new_reports")} == ft_included
    assert status.get(FT, {}).get("include", 0) == v["new_reports"]
    nr = {w for _, w in flow.items(ws, f, "dbr_notretrieved_reports")}
    assert nr <= not_retrieved_ids(ws)
    # history: the votes it shows are exactly the current votes of every work
    n_events = 0
    for w in active:
        events = actions.history(ws, w)
        n_events += sum(e["kind"] == "decision" for e in events)
        got_votes = {
            (d["stage"], d["reviewer"], d["decision"]) for d in current_decisions(ws, work_id=w)
        }
        assert latest_from_history(events) == got_votes, w
    on_active = ws.db.execute(
        "SELECT COUNT(*) FROM decisions d JOIN works w ON w.id = d.work_id"
        " JOIN works f ON f.id = COALESCE(w.merged_into, w.id) WHERE f.active = 1"
    ).fetchone()[0]
    assert n_events == on_active


def run_sequence(ops: list[tuple[Any, ...]], maybe: str = "advance") -> None:
    with workspace(maybe) as ws:
        for op in ops:
            apply(ws, op)
            assert_one_truth(ws)
        s = summary(ws)
        assert s["decisions"] == decision_counts(ws) and s["works"] == len(active_ids(ws))
        assert s["prisma"] == prisma.counts(ws)


# start every example with some records, so most steps have works to act on
SEQUENCES = st.tuples(
    st.lists(
        st.tuples(st.just("import"), st.integers(0, len(FILES) - 1), st.integers(0, 3)),
        min_size=1,
        max_size=3,
    ),  # fmt: skip
    st.lists(OPS, min_size=3, max_size=20),
)


@settings(
    # a longer hunt: REVIEW_PROPERTY_EXAMPLES=500 pytest tests/test_properties.py
    max_examples=int(os.environ.get("REVIEW_PROPERTY_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(seq=SEQUENCES, maybe=st.sampled_from(("advance", "advance", "undecided")))
def test_random_sequences_keep_one_truth(seq, maybe):
    first, rest = seq
    run_sequence(first + rest, maybe)


# -- failing examples hypothesis found, kept as plain regression tests ---------------------------
# (hypothesis found none in the final code; these are the sequences it used to kill deliberate
# regressions of issue 12 — only-include advances the queue, merged_into not path-compressed —
# kept so those regressions fail fast without the random search)


def test_sequence_maybe_moves_on_then_conflict_and_resolution():
    run_sequence(
        [
            ("import", 1, 0),
            ("import", 3, 0),
            ("decide", 2, 1, TA, "maybe", 0),
            ("dual", 0, "maybe", "include"),
            ("decide", 0, 0, FT, "include", 0),
            ("not_retrieved", 0),
            ("dual", 0, "maybe", "exclude"),
            ("resolve", 0, "include"),
            ("decide", 1, 0, FT, "exclude", 1),
        ]
    )


def test_sequence_merge_chain_decide_absorbed_undo_split():
    run_sequence(
        [
            ("import", 1, 0),
            ("import", 3, 1),
            ("decide", 0, 0, TA, "include", 0),
            ("merge", 1, 0),  # work 0 into work 1
            ("merge", 2, 0),  # then work 1 (now first) into another: a chain
            ("decide_absorbed", 1, 0, "exclude"),
            ("undo", 0, 0, TA),
            ("split", 0),
            ("dedup",),
        ]
    )


def test_sequence_undecided_maybe_and_repeated_imports():
    run_sequence(
        [
            ("import", 1, 0),
            ("import", 1, 0),
            ("import", 2, 3),
            ("web", 0, 1),
            ("dedup",),
            ("dual", 1, "include", "maybe"),
            ("resolve", 0, "include"),
            ("decide", 2, 1, FT, "maybe", 0),
        ],
        maybe="undecided",
    )


def test_sequence_bundle_from_another_group_then_dedup_and_conflict():
    run_sequence(
        [
            ("import", 1, 0),
            ("bundle", 1, "include", "exclude"),
            ("dedup",),
            ("dual", 0, "exclude", "exclude"),
            ("bundle", 3, "maybe", "maybe"),
            ("decide", 0, 0, FT, "include", 0),
        ]
    )
