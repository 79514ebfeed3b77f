"""The coding store's helpers and aggregate reads, checked against the plain definitions on real
workspaces (several reviewers, undos, bundle origins)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_coding import build
from test_truth import plans

from review.coding import store
from review.coding.scope import select
from review.store import Workspace


@pytest.mark.parametrize("group", ["lusaka", "Maputo team", "a.b-c", "x_1", "resolution"])
def test_bundle_origin_round_trips(group: str) -> None:
    """One helper pair builds and parses ``bundle:<group>[:resolution]`` (share.coding builds it,
    the store's settling rule parses it)."""
    vote = store.bundle_origin(group)
    settled = store.bundle_origin(group, resolution=True)
    assert vote == f"bundle:{group}" and settled == f"bundle:{group}:resolution"
    assert store.resolution_group(settled) == group
    assert store.resolution_group(vote) is None
    for other in ("resolution", "tui", "cli", "undo", "bundle:", "resolution:bundle"):
        assert store.resolution_group(other) is None, other


def test_is_resolution_uses_the_parser() -> None:
    def code(origin: str) -> store.Code:
        return store.Code(1, 1, "f", "ana", ["x"], "confirmed", origin, "2026-01-01")

    assert store.is_resolution(code("resolution"))
    assert store.is_resolution(code(store.bundle_origin("lusaka", resolution=True)))
    assert not store.is_resolution(code(store.bundle_origin("lusaka")))
    assert not store.is_resolution(code("tui"))


@pytest.fixture
def cws(tmp_path: Path) -> Iterator[Workspace]:
    """The demo protocol and corpus in a tmp workspace (test_coding.build)."""
    w = build(tmp_path / "coding.db")
    yield w
    w.close()


# -- reviewer_progress: an indexed aggregate, equal to folding current() -----------------------
def old_progress(ws: Workspace, reviewer: str) -> tuple[set[int], set[int]]:
    """The definition: fold every current code of the reviewer (what the app first did)."""
    codes: dict[int, list[store.Code]] = {}
    for (wid, _, who), c in store.current(ws).items():
        if who == reviewer:
            codes.setdefault(wid, []).append(c)
    some = {w for w, cs in codes.items() if any(c.status == "confirmed" for c in cs)}
    every = {w for w, cs in codes.items() if all(c.status == "confirmed" for c in cs)}
    return some, every


def plan_scans(ws: Workspace, fn: Callable[[], object]) -> list[str]:
    """The plan lines of the statements ``fn`` runs that scan coding_log in full."""
    lines = plans(ws, fn)
    assert lines, "no statements traced"
    aliases = {"c", "u", "coding_log"}
    return [ln for ln in lines if ln.startswith("SCAN") and ln.split()[1] in aliases]


def test_reviewer_progress_equals_the_fold_and_reads_one_reviewer(cws: Workspace) -> None:
    ids = select(cws, "all").work_ids
    a, b, c, d, e, f, g = ids[:7]
    rec = store.record
    rec(cws, a, "challenges", "ana", ["economic"])  # a: confirmed
    rec(cws, a, "city", "ana", "Lusaka", "draft")  # ... and a draft: some, not every
    rec(cws, b, "challenges", "ana", ["governance"], "draft")
    rec(cws, b, "challenges", "ana", ["governance"])  # b: draft then confirmed: every
    rec(cws, c, "challenges", "ana", ["economic"])
    store.undo(cws, reviewer="ana")  # c: undone -> retract, no code at all
    rec(cws, d, "challenges", "ana", ["economic"], "draft")
    rec(cws, d, "challenges", "ana", ["technological"])
    store.undo(cws, reviewer="ana")  # d: back to the draft
    rec(cws, e, "challenges", "ana", ["economic"])
    rec(cws, e, "challenges", "ana", None, "retract")  # e: cleared
    rec(cws, e, "city", "ana", "Ndola")  # ... but another field confirmed
    rec(cws, f, "challenges", "ana", ["economic"], "draft")
    rec(cws, g, "challenges", "ana", ["economic"])  # g, merged into f below: its later row wins
    for wid in (a, c, d, f, g):  # other reviewers' codes never count for ana
        rec(cws, wid, "challenges", "ben", ["governance"])
        rec(cws, wid, "city", "cy", "Maputo", "draft")
    store.undo(cws, reviewer="ben")
    rec(cws, b, "challenges", "lead", ["economic"], origin="resolution")
    cws.db.execute("UPDATE works SET active = 0, merged_into = ? WHERE id = ?", [f, g])
    cws.db.conn.commit()
    for who in ("ana", "ben", "cy", "lead", "nobody"):
        assert store.reviewer_progress(cws, who) == old_progress(cws, who), who
    some, every = store.reviewer_progress(cws, "ana")
    assert some == {a, b, e, f} and every == {b, e, f}  # f: g's later confirmation wins
    assert plan_scans(cws, lambda: store.reviewer_progress(cws, "ana")) == []


def test_conflicts_read_every_title_in_one_query(cws: Workspace) -> None:
    ids = select(cws, "all").work_ids[:6]
    for wid in ids:  # six conflicts (and one agreement, no conflict)
        store.record(cws, wid, "challenges", "ana", ["economic"])
        store.record(cws, wid, "challenges", "ben", ["governance"])
    store.record(cws, ids[0], "city", "ana", "Lusaka")
    store.record(cws, ids[0], "city", "ben", "Lusaka")
    stmts: list[str] = []
    cws.db.conn.set_trace_callback(stmts.append)
    try:
        got = store.conflicts(cws)
    finally:
        cws.db.conn.set_trace_callback(None)
    titles = dict(cws.db.execute("SELECT id, title FROM works").fetchall())
    assert [(c["work_id"], c["field"], c["title"]) for c in got] == [
        (wid, "challenges", titles[wid]) for wid in sorted(ids)
    ]
    assert got[0]["codes"] == {"ana": ["economic"], "ben": ["governance"]}
    reads = [s for s in stmts if "title" in s and "works" in s]
    assert len(reads) == 1, reads


def test_undo_takes_the_latest_change_not_undone_in_linear_work(cws: Workspace) -> None:
    """``undo(reviewer=...)`` walks back the reviewer's changes one by one (an undo row is never
    itself undone), and finds the row without comparing every row with every other: counted in
    SQLite VM steps (deterministic, not timed) on a log of 2,000 rows of the reviewer."""
    ids = select(cws, "all").work_ids
    a, b = ids[:2]
    r1 = store.record(cws, a, "challenges", "ana", ["economic"], "draft")
    r2 = store.record(cws, b, "city", "ana", "Lusaka", "draft")
    store.record(cws, b, "city", "ben", "Ndola", "draft")  # another reviewer's row
    c = store.undo(cws, reviewer="ana")
    assert c is None and "city" not in store.work_codes(cws, b, "ana")
    store.undo(cws, reviewer="ana")  # now r1 (r2 and the undo row are skipped)
    assert "challenges" not in store.work_codes(cws, a, "ana")
    notes = [r[0] for r in cws.db.execute("SELECT note FROM coding_log").fetchall()]
    assert notes[-2:] == [f"undo of #{r2}", f"undo of #{r1}"]
    assert store.undo(cws, reviewer="ana") is None  # nothing left to undo
    cws.db.conn.executemany(  # ana's long session: 2,000 drafts, every other one undone
        "INSERT INTO coding_log (work_id, field, reviewer, value, status, origin, note,"
        " created_at) VALUES (?, 'city', 'ana', '\"x\"', 'draft', 'tui', ?, '2026')",
        [(ids[i % len(ids)], None) for i in range(2000)],
    )
    last = cws.db.execute("SELECT MAX(id) FROM coding_log").fetchone()[0]
    cws.db.conn.executemany(
        "INSERT INTO coding_log (work_id, field, reviewer, value, status, origin, note,"
        " created_at) VALUES (?, 'city', 'ana', NULL, 'retract', 'undo', ?, '2026')",
        [(a, f"undo of #{i}") for i in range(last - 1998, last + 1, 2)],  # the last one too
    )
    cws.db.conn.commit()  # no ANALYZE: a workspace has no statistics (the planner's default)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    cws.db.conn.set_progress_handler(count, 1000)
    try:
        store.undo(cws, reviewer="ana")
    finally:
        cws.db.conn.set_progress_handler(None, 0)
    undone = cws.db.execute("SELECT note FROM coding_log ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert undone == f"undo of #{last - 1}"  # the latest not undone yet
    assert steps[0] < 1000, f"{steps[0]}k VM steps for one undo"
