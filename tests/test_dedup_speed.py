"""The fast paths of dedup give the same answers as the plain ones they replace."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from review.dedup import engine
from review.dedup.blocking import candidate_array, keys
from review.dedup.labelled import csv_records
from review.dedup.match import DUPLICATE, score_pair, title_similarity, title_similarity_many
from review.dedup.normalize import Features, features
from review.store.records import add_records, start_search

DATA = Path(__file__).parent / "data" / "dedup"


def reference_pairs(
    feats: Sequence[Features], max_block: int, window: int
) -> list[tuple[int, int]]:
    """The original one-pair-at-a-time blocking loop."""
    blocks: dict[str, list[int]] = {}
    for i, f in enumerate(feats):
        for k in keys(f):
            blocks.setdefault(k, []).append(i)
    seen: set[tuple[int, int]] = set()
    out = []
    for members in blocks.values():
        n = len(members)
        if n <= max_block:
            todo = [(members[x], members[y]) for x in range(n) for y in range(x + 1, n)]
        else:
            o = sorted(members, key=lambda i: feats[i].title)
            todo = [(o[x], o[y]) for x in range(n) for y in range(x + 1, min(n, x + 1 + window))]
        for i, j in todo:
            p = (min(i, j), max(i, j))
            if p not in seen:
                seen.add(p)
                out.append(p)
    return out


def labelled_rows(ws) -> list[dict]:
    sid = start_search(ws, source="test", arm="databases", kind="file")
    for name in ("stroke_subset", "special_cases"):
        add_records(ws, sid, csv_records(DATA / name / "records_pre_merged.csv"))
    return engine.load_rows(ws)


def test_blocking_same_pairs_same_order(ws):
    feats = [engine._features(r) for r in labelled_rows(ws)]
    for max_block, window in ((50, 6), (3, 2)):  # (3, 2): many blocks take the windowed path
        got = [
            tuple(p) for p in candidate_array(feats, max_block=max_block, window=window).tolist()
        ]
        assert got == reference_pairs(feats, max_block, window)
        assert got  # the data has duplicates: some pairs exist


def test_plan_equals_scoring_every_candidate(ws, monkeypatch):
    """The bulk filters (years, DOIs, title similarity) drop only pairs score_pair calls distinct."""
    import numpy as np

    rows = labelled_rows(ws)
    fast = engine.plan(rows, threshold=0.85)
    keep_all = lambda pairs, *args: np.ones(len(pairs), dtype=bool)  # noqa: E731
    monkeypatch.setattr(engine, "_worth_scoring", keep_all)
    monkeypatch.setattr(engine, "_could_match", keep_all)
    slow = engine.plan(rows, threshold=0.85)
    assert fast.groups and fast.candidates  # not vacuous
    assert (fast.groups, fast.edges, fast.candidates, fast.rules) == (
        slow.groups,
        slow.edges,
        slow.candidates,
        slow.rules,
    )


def test_title_similarity_many_matches_single():
    a = ["effect of aspirin on stroke", "a b", "", "trial of x in y", "stroke unit care"]
    b = ["effects of aspirin on stroke", "b a", "x", "trial of x in y and z", "STROKE unit care"]
    many = title_similarity_many(a, b)
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        if x.startswith(y) or y.startswith(x):
            assert many[k] <= title_similarity(x, y) + 1e-9  # the 'cut short' rule only raises
        else:
            assert abs(many[k] - title_similarity(x, y)) < 1e-9


def test_journal_club_commentary_is_not_merged_with_its_article():
    """Respiratory set: an ACP Journal Club commentary carries the title of the Annals article."""
    common = {
        "title": "Intrapleural t-PA plus DNase improved clinical outcomes in patients with pleural infection",
        "year": 2011,
        "volume": "155",
    }
    annals = features(
        1,
        authors=["Mathur, P. N."],
        pages="JC6-9",
        venue="Annals of Internal Medicine",
        **common,
    )
    club = features(
        2, authors=["Mathur, Praveen N."], pages="08-Aug", venue="ACP Journal Club", **common
    )
    assert score_pair(annals, club).decision != DUPLICATE
    same = features(3, authors=["Mathur, P."], pages="JC6", venue="Ann Intern Med", **common)
    assert score_pair(annals, same).decision == DUPLICATE  # same journal: still a duplicate


def test_bulk_merge_keeps_search_index_and_log(ws):
    rows = labelled_rows(ws)
    result = engine.run(ws)
    assert result["works_absorbed"] > 10
    # one merges row per absorbed work, each pointing at an active survivor
    n_merges, bad = ws.db.execute(
        "SELECT COUNT(*), SUM(w.active = 0) FROM merges m JOIN works w ON w.id = m.work_id"
        " WHERE m.action = 'merge'"
    ).fetchone()
    assert n_merges == result["works_absorbed"] and not bad
    inactive = ws.db.execute("SELECT COUNT(*) FROM works WHERE active = 0").fetchone()[0]
    assert inactive == result["works_absorbed"]
    assert result["active_works"] == len(rows) - result["works_absorbed"]
    # the full-text index still agrees with the works table (external-content integrity check)
    ws.db.execute("INSERT INTO works_fts(works_fts) VALUES('integrity-check')")
    title = ws.db.execute(
        "SELECT title FROM works WHERE active = 1 AND id IN (SELECT work_id FROM merges)"
        " AND title IS NOT NULL LIMIT 1"
    ).fetchone()[0]
    word = max(title.split(), key=len).strip(".,:;()[]")
    hits = ws.db.execute(
        "SELECT COUNT(*) FROM works_fts WHERE works_fts MATCH ?", [f'"{word}"']
    ).fetchone()[0]
    assert hits >= 1
    again = engine.run(ws)
    assert again["works_absorbed"] == 0 and again["candidates_new"] == 0
