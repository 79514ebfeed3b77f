"""Property: whatever decisions arrive during the random-sample phase (in or out of the stored
order, include / exclude / maybe / retract / undo, another reviewer's too), the counted sample is
the longest decided prefix of the stored random order and its n / k counts agree."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review import protocol
from review.models import Record
from review.screen import actions, sampling
from review.screen.queue import ScreenQueue, current_decision
from review.screen.stopping import stopping_status
from review.store import Workspace, init
from review.store.decisions import record_decision
from review.store.records import add_records, finish_search, start_search

STAGE = "title-abstract"
PROTOCOL = Path(__file__).parent.parent / "protocols" / "sadc-smart-cities.toml"
_TEMPLATE: list[Path] = []


def _template() -> Path:
    """120 works, 'ana' screened 2 relevant then 50 irrelevant in ranked order: the trigger (50
    in a row) is reached; built once, copied per example."""
    if not _TEMPLATE:
        d = Path(tempfile.mkdtemp(prefix="stopping-props-"))
        ws = init(d / "t.db", protocol.load(PROTOCOL))
        sid = start_search(ws, source="t", arm="other", kind="file")
        add_records(ws, sid, [Record(title=f"Paper {i} about topic {i % 9}") for i in range(120)])
        finish_search(ws, sid, records_found=120, records_stored=120)
        for w in range(1, 53):
            d_ = "include" if w <= 2 else "exclude"
            record_decision(
                ws, work_id=w, stage=STAGE, reviewer="ana", decision=d_,
                reason="E1" if d_ == "exclude" else None,
            )  # fmt: skip
        ws.close()
        _TEMPLATE.append(d / "t.db")
    return _TEMPLATE[0]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["include", "exclude", "maybe", "retract", "undo", "bo"]),
        st.one_of(st.none(), st.integers(0, 67)),  # None: the next served; else a urn position
    ),
    max_size=40,
)


def _expected(ws: Workspace, urn: list[int]) -> tuple[list[int], int, int]:
    """The longest prefix of the stored order the reviewer has decided, read work by work
    through the per-work decision rule (not the code under test)."""
    prefix, k = [], 0
    for w in urn:
        cur = current_decision(ws, w, STAGE, "ana")
        if cur is None:
            break
        prefix.append(w)
        k += cur["decision"] in ("include", "maybe")
    out_of_order = sum(
        1 for w in urn[len(prefix) :] if current_decision(ws, w, STAGE, "ana") is not None
    )
    return prefix, k, out_of_order


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, seed=st.integers(0, 5))
def test_sample_is_the_decided_prefix_of_the_stored_order(ops, seed):
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "w.db"
        shutil.copy(_template(), db)
        ws = Workspace.open(db)
        try:
            q = ScreenQueue.build(ws, STAGE, "ana", order="oldest", seed=seed, sampling=True)
            phase = sampling.current_phase(ws, STAGE, "ana")
            assert phase is not None and q.phase_id == phase.id  # the trigger was reached
            urn = sampling.urn_order(ws, phase.id)
            assert sorted(urn) == list(range(53, 121)) and phase.urn == 68 and phase.r_al == 2
            prefix, k = [], 0
            for op, pos in ops:
                w = q.next_work(ws) if pos is None else urn[pos]
                if w is None:
                    continue
                if op in ("include", "maybe"):
                    actions.decide(ws, w, STAGE, "ana", op)
                elif op == "exclude":
                    actions.decide(ws, w, STAGE, "ana", "exclude", "E1")
                elif op == "retract":
                    record_decision(ws, work_id=w, stage=STAGE, reviewer="ana", decision="retract")
                elif op == "undo":
                    actions.undo_last(ws, STAGE, "ana", work_id=w)
                else:  # another reviewer's decision never counts in ana's sample
                    actions.decide(ws, w, STAGE, "bo", "include")
                state = sampling.sample_state(ws, phase, "ana")
                prefix, k, out_of_order = _expected(ws, urn)
                assert state["prefix"] == prefix == urn[: len(prefix)]
                assert (state["n"], state["k"]) == (len(prefix), k)
                assert state["decided_out_of_order"] == out_of_order
                assert state["urn"] == 68 and state["r_al"] == 2
            status = stopping_status(ws, STAGE, "ana", log=False)
            assert status["phase"] == "sample"
            assert (
                (status["sample_drawn"], status["sample_relevant"]) == (len(prefix), k)
                if ops
                else True
            )
            # the queue serves the first undecided work of the stored order
            nxt = ScreenQueue.build(ws, STAGE, "ana", order="oldest", seed=seed).next_work(ws)
            undecided = [w for w in urn if current_decision(ws, w, STAGE, "ana") is None]
            assert nxt == (undecided[0] if undecided else None)
        finally:
            ws.close()
