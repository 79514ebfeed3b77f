"""The statistical stopping rule: the hypergeometric test by hand, then on a real workspace."""

from __future__ import annotations

import json

import pytest
from scipy.stats import hypergeom

from review.models import Record
from review.screen import stopping
from review.store.decisions import record_decision
from review.store.records import add_records, finish_search, start_search


def test_k_target():
    # 95 found, target 95%: recall < 95% needs >= 101 relevant in all, so >= 6 in the urn
    assert stopping.k_target(r_seen=95, r_al=95, target=0.95) == 6
    # 19 found (1 in the sample): >= 21 in all (19/20 is exactly 95%), 21 - 18 = 3 in the urn
    assert stopping.k_target(r_seen=19, r_al=18, target=0.95) == 3


def test_hypergeom_p_by_hand():
    # urn of 100, 5 relevant under H0; 50 drawn, none relevant
    p = stopping.hypergeom_p(urn=100, n=50, k=0, r_seen=95, r_al=95, target=0.95)
    assert p == pytest.approx(hypergeom.cdf(0, 100, 6, 50))
    assert p < 0.05
    # an urn smaller than K_tar cannot hold the missing records: H0 rejected outright
    assert stopping.hypergeom_p(urn=3, n=1, k=0, r_seen=95, r_al=95, target=0.95) == 0.0
    # few draws: cannot reject
    assert stopping.hypergeom_p(urn=1000, n=10, k=0, r_seen=95, r_al=95, target=0.95) > 0.5


def test_buscar_and_heuristic_on_sequences():
    found_all = [1] * 40 + [0] * 300
    assert stopping.buscar_p(found_all, n_total=400, target=0.95) < 0.05
    early = [1] * 40 + [0] * 5
    assert stopping.buscar_p(early, n_total=400, target=0.95) > 0.5
    assert stopping.consecutive_irrelevant([1, 0, 1, 0, 0]) == 2
    st = stopping.evaluate(found_all, 400, 0.95, 0.95)
    assert st["should_stop"] and st["n_remaining"] == 60 and st["consecutive_irrelevant"] == 300
    assert not stopping.evaluate(early, 400, 0.95, 0.95)["should_stop"]
    assert not stopping.evaluate([0] * 100, 400, 0.95, 0.95)["should_stop"]


def _works(ws, n):
    sid = start_search(ws, source="test", arm="other", kind="file")
    add_records(ws, sid, [Record(title=f"Paper {i} on topic {i % 7}") for i in range(n)])
    finish_search(ws, sid, records_found=n, records_stored=n)
    return [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]


@pytest.fixture
def ranked_ws(tmp_path, protocol_path):
    """A workspace whose protocol keeps the ranked (BUSCAR) form: [screening] stopping = "ranked"."""
    from review import protocol
    from review.store import init

    text = protocol_path.read_text(encoding="utf-8").replace(
        "[screening]\n", '[screening]\nstopping = "ranked"\n'
    )
    proto = protocol.loads(text)
    assert proto.stopping == "ranked"
    w = init(tmp_path / "ranked.db", proto)
    yield w
    w.close()


def test_stopping_status_on_a_workspace_logs_flips(ranked_ws):
    ws = ranked_ws
    works = _works(ws, 130)
    keys = {
        "method", "n_screened", "n_remaining", "n_relevant_found", "est_relevant_remaining",
        "estimated_recall", "consecutive_irrelevant", "should_stop", "message",
    }  # fmt: skip
    st = stopping.stopping_status(ws, "title-abstract", "ana")
    assert keys <= set(st) and not st["should_stop"] and st["n_remaining"] == 130
    assert ws.db["stopping_log"].count == 0
    for w in works[:20]:
        record_decision(ws, work_id=w, stage="title-abstract", reviewer="ana", decision="include")
    for w in works[20:120]:
        record_decision(
            ws, work_id=w, stage="title-abstract", reviewer="ana", decision="exclude", reason="E1"
        )
    st = stopping.stopping_status(ws, "title-abstract", "ana")
    assert st["n_screened"] == 120 and st["n_relevant_found"] == 20
    assert st["consecutive_irrelevant"] == 100
    assert st["should_stop"], st
    rows = list(ws.db["stopping_log"].rows)
    assert len(rows) == 1 and rows[0]["should_stop"] == 1 and rows[0]["reviewer"] == "ana"
    assert json.loads(rows[0]["result"])["n_screened"] == 120
    stopping.stopping_status(ws, "title-abstract", "ana")  # unchanged: not logged again
    assert ws.db["stopping_log"].count == 1
    stopping.stopping_status(ws, "title-abstract", "ana", log=True)  # asked: logged
    assert ws.db["stopping_log"].count == 2
    # another reviewer's decisions do not count for ana
    assert not stopping.stopping_status(ws, "title-abstract", "bo", log=False)["should_stop"]


def test_hypergeom_cdf_matches_scipy():
    import numpy as np

    rng = np.random.default_rng(7)
    for _ in range(300):
        total = int(rng.integers(1, 50_000))
        good = int(rng.integers(0, min(total, 3000) + 1))
        n = int(rng.integers(0, total + 1))
        k = rng.integers(-1, min(n, good) + 2, size=15)
        ours = stopping.hypergeom_cdf(k, total, good, n)
        assert np.allclose(ours, hypergeom.cdf(k, total, good, n), rtol=1e-7, atol=1e-9)


def test_stopping_status_does_not_import_scipy_stats(tmp_path):
    """scipy.stats costs 1-2 s to import; the estimate must not need it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from review.screen import stopping\n"
        "p = stopping.buscar_p([1] * 40 + [0] * 300, n_total=400, target=0.95)\n"
        "assert p < 0.05, p\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_stopping_status_counts_only_active_works(ws):
    works = _works(ws, 60)
    for w in works[:10]:
        record_decision(ws, work_id=w, stage="title-abstract", reviewer="ana", decision="include")
    with ws.transaction():  # as a merge leaves it: the work is no longer active
        ws.db.execute("UPDATE works SET active = 0 WHERE id = ?", [works[0]])
    st = stopping.stopping_status(ws, "title-abstract", "ana", log=False)
    assert st["n_screened"] == 9 and st["n_remaining"] == 50


def test_status_says_which_rule_what_it_assumes_and_how_far():
    seq = [1] * 30 + [0] * 100
    st = stopping.evaluate(seq, 2000, 0.95, 0.95)
    m = st["irrelevant_to_stop"]
    assert m is not None and 0 < m < 1870
    # the fewest appended irrelevant records that let the rule stop
    assert stopping.buscar_p(seq + [0] * m, 2000, 0.95) < 0.05
    assert stopping.buscar_p(seq + [0] * (m - 1), 2000, 0.95) >= 0.05
    line = stopping.describe(st)
    assert "Callaghan & Müller-Hansen" in line and "Assumes" in line and f"about {m} more" in line
    done = stopping.evaluate(seq + [0] * m, 2000, 0.95, 0.95)
    assert done["should_stop"] and done["irrelevant_to_stop"] is None
    assert "met" in stopping.describe(done)
    assert "relevant record first" in stopping.describe(stopping.evaluate([0] * 5, 100, 0.95, 0.95))
