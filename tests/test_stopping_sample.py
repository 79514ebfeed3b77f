"""The stopping rule as published in the workspace: ranked screening, then a random sample.

``review status`` and the screening app run Callaghan & Müller-Hansen (2020) with its random
sampling phase (issue 15): no stop before the sample, the sample is a prefix of a stored random
order, and the app's stop point on a replayed labelled set equals ``review simulate``'s ``cmh``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from review import status
from review.harvest.files.importer import import_files
from review.models import Record
from review.screen import sampling
from review.screen.queue import next_work
from review.screen.simulate import stop_by_sampling
from review.screen.stopping import stopping_status
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


NSAIDS = Path(__file__).parent / "data" / "screening" / "Cohen_2006_NSAIDS.csv"


def _ranked_csv(tmp_path: Path, seed: int) -> tuple[Path, list[int]]:
    """The NSAIDS fixture re-ordered by a noisy relevance score (relevant records mostly first,
    some late): importing it and screening in 'oldest' order replays an imperfect ranking.
    Returns the CSV and its labels (label_included) in the new order."""
    rows = list(csv.DictReader(NSAIDS.open(encoding="utf-8", newline="")))
    rng = random.Random(seed)
    rows.sort(key=lambda r: -(int(r["label_included"]) + 1.2 * rng.random()))
    out = tmp_path / f"nsaids-ranked-{seed}.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out, [int(r["label_included"]) for r in rows]


@pytest.mark.parametrize("seed", [1, 2])
def test_replay_through_the_workspace_matches_simulate(ws, tmp_path, seed):
    """Import a labelled CSV, decide every record the queue serves (the library path the app
    uses), and check after each decision: never a stop in the ranked phase; the phase starts
    where simulate's trigger fires; the stop point and recall equal ``stop_by_sampling`` on the
    same ranked prefix, the same urn and the same seed."""
    path, labels = _ranked_csv(tmp_path, seed)
    import_files(ws, [path])
    wid_of = {
        int(r[1]): r[0] for r in ws.db.execute("SELECT work_id, source_record_id FROM records")
    }
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    label_of = {wid_of[int(r["record_id"])]: int(r["label_included"]) for r in rows}
    assert sorted(label_of) == list(range(1, len(rows) + 1))  # work i = row i of the CSV
    served: list[int] = []
    stop = None
    while stop is None:
        w = next_work(ws, STAGE, "ana", order="oldest", seed=seed, sampling=True)
        assert w is not None, "the rule never stopped"
        served.append(w)
        _decide(ws, [w], "include" if label_of[w] else "exclude")
        st = stopping_status(ws, STAGE, "ana", log=False)
        if st["phase"] == "ranked":
            assert not st["should_stop"], (len(served), st)
        elif st["should_stop"]:
            stop = st
    phase = sampling.current_phase(ws, STAGE, "ana")
    assert phase is not None and phase.seed == seed and phase.urn == len(rows) - phase.n_screened
    t = phase.n_screened
    # simulate on the same ranked prefix, then the records left in id (= index) order
    order = [w - 1 for w in served[:t]] + sorted(
        set(range(len(rows))) - {w - 1 for w in served[:t]}
    )
    expected_stop, expected_recall = stop_by_sampling(labels, order, 0, seed=seed)
    found = sum(label_of[w] for w in served)
    assert (len(served), found / sum(labels)) == (expected_stop, pytest.approx(expected_recall))
    assert stop["sample_drawn"] == len(served) - t and stop["sample_relevant"] == found - phase.r_al
    # the trigger fired where simulate's does: the first run of 50 irrelevant in a row
    run = 0
    for i, w in enumerate(served):
        run = 0 if label_of[w] else run + 1
        if run >= sampling.trigger_size(len(rows)):
            assert t == i + 1
            break
    print(
        f"seed {seed}: phase at {t}, stop at {len(served)} of {len(rows)}, recall {found}/{sum(labels)}"
    )


def test_sample_phase_stops_when_the_test_rejects_and_says_how_far(ws):
    """20 relevant, 50 irrelevant in a row (the trigger for 300 records): the queue enters the
    sample phase; `review status` then stops exactly at the first draw where the hypergeometric
    test rejects, and the "how many more" it gave at the start was that number."""
    from review.screen.stopping import hypergeom_p
    from review.status import format_summary

    works = _works(ws, 300)
    _decide(ws, works[:20], "include")
    _decide(ws, works[20:70], "exclude")
    assert status.summary(ws)["stopping"][STAGE]["phase"] == "ranked"
    assert ws.db["sample_phases"].count == 0  # status only reads: no phase started by it
    first = next_work(ws, STAGE, "ana", order="oldest", seed=5, sampling=True)
    phase = sampling.current_phase(ws, STAGE, "ana")
    assert phase is not None and (phase.urn, phase.r_al, phase.n_screened) == (230, 20, 70)
    urn = sampling.urn_order(ws, phase.id)
    assert first == urn[0] and sorted(urn) == works[70:]
    expected = next(n for n in range(1, 231) if hypergeom_p(230, n, 0, 20, 20, 0.95) < 0.05)
    st = status.summary(ws)["stopping"][STAGE]
    assert st["phase"] == "sample" and st["sample_drawn"] == 0 and st["urn"] == 230
    assert st["draws_to_stop"] == st["irrelevant_to_stop"] == expected
    for i, w in enumerate(urn, 1):
        _decide(ws, [w], "exclude")
        st = stopping_status(ws, STAGE, "ana", log=None)
        if st["should_stop"]:
            break
        assert st["draws_to_stop"] == expected - i
    assert i == expected and st["sample_drawn"] == expected and st["sample_relevant"] == 0
    assert st["p_value"] < 0.05 <= hypergeom_p(230, expected - 1, 0, 20, 20, 0.95)
    logged = list(ws.db["stopping_log"].rows)
    assert len(logged) == 1 and logged[0]["should_stop"] == 1  # the flip is logged once
    text = format_summary(status.summary(ws))
    assert "safe to stop: random sample" in text and "as published" in text, text


def test_a_decision_out_of_order_counts_only_when_the_prefix_reaches_it(ws):
    works = _works(ws, 120)
    _decide(ws, works[:2], "include")
    _decide(ws, works[2:52], "exclude")
    next_work(ws, STAGE, "ana", order="oldest", sampling=True)
    phase = sampling.current_phase(ws, STAGE, "ana")
    urn = sampling.urn_order(ws, phase.id)
    _decide(ws, [urn[3]], "include")  # a search hit, say: not yet part of the sample
    st = stopping_status(ws, STAGE, "ana", log=False)
    assert (st["sample_drawn"], st["sample_relevant"]) == (0, 0)
    assert "1 decided out of order" in st["message"]
    _decide(ws, urn[:3], "exclude")
    st = stopping_status(ws, STAGE, "ana", log=False)
    assert (st["sample_drawn"], st["sample_relevant"]) == (4, 1)
    assert next_work(ws, STAGE, "ana") == urn[4]


def test_protocol_stopping_key(tmp_path, protocol_path):
    """[screening] stopping: "cmh" by default, "ranked" keeps the BUSCAR form; anything else is
    refused naming the file and the key."""
    from review import protocol
    from review.errors import ProtocolError, ScreenError
    from review.screen.queue import ScreenQueue
    from review.store import init

    text = protocol_path.read_text(encoding="utf-8")
    assert protocol.loads(text).stopping == "cmh"
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[screening]\n", '[screening]\nstopping = "knee"\n'), "utf-8")
    with pytest.raises(ProtocolError) as e:
        protocol.load(bad)
    assert "screening.stopping" in str(e.value) and "bad.toml" in str(e.value)
    ranked = protocol.loads(text.replace("[screening]\n", '[screening]\nstopping = "ranked"\n'))
    ws = init(tmp_path / "ranked.db", ranked)
    works = _works(ws, 300)
    _decide(ws, works[:20], "include")
    _decide(ws, works[20:260], "exclude")
    st = status.summary(ws)["stopping"][STAGE]
    assert st["rule"] == "ranked" and st["phase"] is None and st["should_stop"]  # p = 0.020
    assert ScreenQueue.build(ws, STAGE, "ana", order="oldest").phase_id is None
    with pytest.raises(ScreenError, match="ranked"):
        sampling.start_phase(ws, STAGE, "ana")
    assert ws.db["sample_phases"].count == 0
    ws.close()


def test_status_with_several_reviewers_is_the_teams_and_each_ones(ws):
    from review.status import format_summary

    works = _works(ws, 100)
    _decide(ws, works[:2], "include")
    _decide(ws, works[2:52], "exclude")
    next_work(ws, STAGE, "ana", sampling=True)  # ana's random sample starts (50 in a row)
    _decide(ws, works[:10], "exclude", reviewer="bo")
    summary = status.summary(ws)
    st = summary["stopping"][STAGE]
    assert st["reviewer"] is None and st["n_screened"] == 52 and st["rule"] == "cmh"
    assert st["phase"] == "ranked" and "each reviewer's screening app" in st["message"]
    assert st["reviewers"]["ana"]["phase"] == "sample"
    assert st["reviewers"]["bo"]["phase"] == "ranked" and st["reviewers"]["bo"]["n_screened"] == 10
    text = format_summary(summary)
    assert "ana: random sample: 0 drawn" in text and "bo: ranked phase: 10 of 50" in text, text


def test_works_added_after_sampling_began_are_served_after_the_urn(ws):
    works = _works(ws, 120)
    _decide(ws, works[:2], "include")
    _decide(ws, works[2:52], "exclude")
    next_work(ws, STAGE, "ana", order="oldest", sampling=True)
    phase = sampling.current_phase(ws, STAGE, "ana")
    urn = sampling.urn_order(ws, phase.id)
    late = _works(ws, 3)[-3:]  # a later search: 3 new works, not in the urn
    assert not set(late) & set(urn)
    _decide(ws, urn, "exclude")
    st = stopping_status(ws, STAGE, "ana", log=False)
    assert st["sample_drawn"] == len(urn) and st["outside_sample"] == 3
    assert "3 eligible record(s) added since sampling began" in st["message"]
    assert next_work(ws, STAGE, "ana", order="oldest") == late[0]


def test_asking_what_next_writes_nothing(ws):
    """``next_work`` / ``ScreenQueue.build`` with their default arguments only read: with the
    trigger reached they write no sample phase (only ``sampling=True`` starts one), and once a
    phase exists a plain read serves its urn without writing again."""
    from review.screen.queue import ScreenQueue

    works = _works(ws, 100)
    _decide(ws, works[:2], "include")
    _decide(ws, works[2:52], "exclude")  # 50 irrelevant in a row: the trigger is reached
    changes = ws.db.conn.total_changes
    assert next_work(ws, STAGE, "ana", order="oldest") == works[52]
    assert ScreenQueue.build(ws, STAGE, "ana", order="oldest").phase_id is None
    assert ws.db["sample_phases"].count == 0 and ws.db.conn.total_changes == changes
    first = next_work(ws, STAGE, "ana", order="oldest", sampling=True)  # asked to start it
    phase = sampling.current_phase(ws, STAGE, "ana")
    assert phase is not None and ws.db["sample_phases"].count == 1
    urn = sampling.urn_order(ws, phase.id)
    changes = ws.db.conn.total_changes
    assert first == urn[0] == next_work(ws, STAGE, "ana", order="oldest")
    assert ScreenQueue.build(ws, STAGE, "ana").phase_id == phase.id
    assert ws.db["sample_phases"].count == 1 and ws.db.conn.total_changes == changes


def test_the_estimate_reads_the_screening_sequence_once(ws):
    """The app's stopping estimate (``stopping_status(start=True)``, in a worker after each
    pause) reads the stage's screening sequence once, also on the pause that starts the phase."""
    works = _works(ws, 100)
    _decide(ws, works[:2], "include")
    _decide(ws, works[2:40], "exclude")
    reads: list[str] = []

    def trace(sql: str) -> None:
        if "d.decision IN ('include','maybe')" in sql:  # stopping.screening_sequence's statement
            reads.append(sql)

    ws.db.conn.set_trace_callback(trace)
    try:
        for last in (51, 53):  # ranked phase, then the pause that starts the sample
            _decide(ws, works[40:last], "exclude")
            reads.clear()
            st = stopping_status(ws, STAGE, "ana", log=False, start=True)
            assert len(reads) == 1, (st["phase"], len(reads))
    finally:
        ws.db.conn.set_trace_callback(None)
    assert st["phase"] == "sample" and ws.db["sample_phases"].count == 1
