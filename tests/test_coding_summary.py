"""The coding summary `review status` shows: per field, works in scope, with suggestions, confirmed
by a reviewer, dual-coded, open conflicts, and the last suggestion run (real workspace, no model)."""

from __future__ import annotations

import json
import subprocess
import sys

from test_coding import OPTS, build, fake_run

from review.coding import store
from review.coding.scope import select
from review.coding.summary import coding_summary, format_coding


def test_summary_counts_per_field(tmp_path):
    ws = build(tmp_path / "s.db")
    ids = select(ws, "all").work_ids
    assert len(ids) == 40
    empty = coding_summary(ws)
    assert empty is not None and empty["scope"] == "all 40 active works (no inclusions yet)"
    ch = empty["fields"]["challenges"]
    assert (ch["in_scope"], ch["suggested"], ch["confirmed"], ch["dual_coded"], ch["conflicts"]) == (
        40, 0, 0, 0, 0,
    )  # fmt: skip
    assert ch["last_run"] is None and empty["last_run"] is None
    run = fake_run(ws, {w: (OPTS[i % 5],) for i, w in enumerate(ids[:30])})
    a, b, c, d = ids[:4]
    store.record(ws, a, "challenges", "ana", ["economic"])
    store.record(ws, a, "challenges", "ben", ["economic"])  # dual-coded, agreed
    store.record(ws, b, "challenges", "ana", ["economic"])
    store.record(ws, b, "challenges", "ben", ["governance"])  # dual-coded, a conflict
    store.record(ws, c, "challenges", "ana", ["governance"], "draft")  # a draft is not confirmed
    store.record(ws, d, "challenges", "ana", ["governance"])
    store.record(ws, d, "city", "ana", "Lusaka")
    s = coding_summary(ws)
    assert s is not None
    ch = s["fields"]["challenges"]
    assert (ch["in_scope"], ch["suggested"], ch["confirmed"], ch["dual_coded"], ch["conflicts"]) == (
        40, 30, 3, 2, 1,
    )  # fmt: skip
    assert ch["last_run"]["id"] == run and ch["last_run"]["method"] == "zero-shot"
    city = s["fields"]["city"]
    assert (city["suggested"], city["confirmed"], city["dual_coded"]) == (0, 1, 0)
    assert s["last_run"]["id"] == run and s["last_run"]["model"]
    # the conflict resolved: no longer open, still dual-coded
    store.resolve(ws, b, "challenges", ["economic"], "lead")
    assert coding_summary(ws)["fields"]["challenges"]["conflicts"] == 0  # type: ignore[index]
    json.dumps(s)  # the --json output of review status
    text = format_coding(s)
    assert text[0] == "Coding    all 40 active works (no inclusions yet)"
    assert any(
        line.split() == ["challenges", "30", "3", "2", "1", f"#{run}", "zero-shot"] for line in text
    ), text
    ws.close()


def test_no_codebook_no_section(tmp_path):
    from conftest import PROTOCOLS

    from review import protocol
    from review.store import init

    ws = init(tmp_path / "p.db", protocol.load(PROTOCOLS / "nelson-2002-estrogens.toml"))
    assert coding_summary(ws) is None
    assert format_coding(None) == []
    ws.close()


def test_summary_does_not_load_numpy():
    """`review status` starts fast: the summary must not pull in the model stack (sqlite_utils loads numpy already)."""
    code = (
        "import sys, review.coding.summary\n"
        "bad = [m for m in ('torch', 'sentence_transformers', 'sklearn') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_review_status_shows_the_coding_summary(tmp_path):
    """`review status` (text and --json) carries the coding section beside screening and PRISMA."""
    from click.testing import CliRunner

    from review.cli import cli

    db = tmp_path / "st.db"
    ws = build(db)
    ids = select(ws, "all").work_ids
    run = fake_run(ws, {w: ("economic",) for w in ids[:5]})
    store.record(ws, ids[0], "challenges", "ana", ["economic"])
    ws.close()
    r = CliRunner().invoke(cli, ["status", "--json", "--db", str(db)])
    assert r.exit_code == 0, r.output
    ch = json.loads(r.output)["coding"]["fields"]["challenges"]
    assert (ch["in_scope"], ch["suggested"], ch["confirmed"]) == (40, 5, 1)
    text = CliRunner().invoke(cli, ["status", "--db", str(db)]).output
    lines = text.splitlines()
    assert "Coding    all 40 active works (no inclusions yet)" in lines
    assert any(ln.split()[:3] == ["challenges", "5", "1"] and f"#{run}" in ln for ln in lines), text
    assert lines.index("Coding    all 40 active works (no inclusions yet)") < lines.index(
        "PRISMA 2020"
    )
