"""Screening library and CLI: queue, decisions, undo, notes, tags, PDFs, search, history, highlights."""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from review import protocol
from review.cli import cli
from review.errors import ReviewError, ScreenError
from review.models import Record
from review.screen import actions
from review.screen.highlight import keyword_spans
from review.screen.queue import (
    ScreenQueue,
    eligible_work_ids,
    next_work,
    progress,
    screened_work_ids,
)
from review.store import init
from review.store.records import add_records, finish_search, start_search

DATA = Path(__file__).parent / "data" / "screen"
CSV = DATA / "bannach-brown-30.csv"
PROTOCOL = DATA / "depression.toml"


def build_workspace(db: Path, csv_path: Path = CSV, proto: Path = PROTOCOL, repeat: int = 1):
    """A workspace holding the CSV's records (each its own work), with the test protocol."""
    ws = init(db, protocol.load(proto))
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    sid = start_search(
        ws, source="Bannach-Brown 2019", arm="databases", kind="file", file_name=csv_path.name
    )
    recs = [
        Record(
            title=r["title"],
            abstract=r["abstract"],
            authors=tuple(a.strip() for a in r["authors"].split(",") if a.strip()),
            year=int(r["year"]) if r["year"] else None,
            source_record_id=f"{k}-{r['record_id']}",
        )
        for k in range(repeat)
        for r in rows
    ]
    ids = add_records(ws, sid, recs)
    finish_search(ws, sid, records_found=len(recs), records_stored=len(ids))
    return ws


def make_pdf(path: Path, pages: list[str]) -> Path:
    import pymupdf

    doc = pymupdf.open()
    for text in pages:
        doc.new_page().insert_text((72, 72), text)
    doc.save(str(path))
    return path


@pytest.fixture
def sws(tmp_path: Path):
    w = build_workspace(tmp_path / "screen.db")
    yield w
    w.close()


def n_rows(ws, table: str) -> int:
    return ws.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# -- queue --------------------------------------------------------------------------------------


def test_eligible_title_abstract_is_every_active_work_and_full_text_follows_decisions(sws):
    ta = eligible_work_ids(sws, "title-abstract")
    assert ta == list(range(1, 31))
    assert eligible_work_ids(sws, "full-text") == []
    actions.decide(sws, 3, "title-abstract", "ann", "include")
    actions.decide(sws, 5, "title-abstract", "ann", "maybe")
    actions.decide(sws, 7, "title-abstract", "ann", "exclude", "E1")
    assert eligible_work_ids(sws, "full-text") == [3, 5]
    with pytest.raises(ScreenError, match="unknown stage"):
        eligible_work_ids(sws, "abstracts")


def test_screened_ids_ignore_retracted_and_other_reviewers(sws):
    actions.decide(sws, 1, "title-abstract", "ann", "include")
    actions.decide(sws, 2, "title-abstract", "ann", "exclude", "E2")
    actions.decide(sws, 4, "title-abstract", "bob", "maybe")
    actions.undo_last(sws, "title-abstract", "ann")  # retracts work 2
    assert screened_work_ids(sws, "title-abstract", "ann") == {1}
    assert screened_work_ids(sws, "title-abstract", None) == {1, 4}


def test_queue_walks_order_skipping_screened(sws):
    q = ScreenQueue("title-abstract", "ann", [9, 4, 7, 1])
    assert q.next_work(sws) == 9
    actions.decide(sws, 9, "title-abstract", "ann", "include")
    actions.decide(sws, 4, "title-abstract", "ann", "maybe")  # decided elsewhere meanwhile
    assert q.next_work(sws) == 7
    assert next_work(sws, "title-abstract", "ann", order="oldest") == 1


def test_progress_counts_per_reason(sws):
    actions.decide(sws, 1, "title-abstract", "ann", "include")
    actions.decide(sws, 2, "title-abstract", "ann", "exclude", "E2")
    actions.decide(sws, 3, "title-abstract", "ann", "exclude", "E2")
    actions.decide(sws, 4, "title-abstract", "ann", "exclude", "E3")
    actions.decide(sws, 5, "title-abstract", "bob", "include")
    p = progress(sws, "title-abstract", "ann")
    assert (p["screened"], p["remaining"], p["include"], p["exclude"]) == (4, 26, 1, 3)
    assert p["excluded_by_reason"] == {"E2": 2, "E3": 1}


# -- decisions and undo ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"decision": "exclude"}, "needs a reason"),
        ({"decision": "exclude", "reason": "E9"}, "unknown exclusion reason 'E9'"),
        ({"decision": "include", "reason": "E1"}, "only given with an exclusion"),
        ({"decision": "keep"}, "unknown decision"),
        ({"decision": "include", "stage": "final"}, "unknown stage"),
        ({"decision": "include", "work_id": 999}, "no work with id 999"),
    ],
)
def test_bad_decisions_raise_and_leave_the_log_unchanged(sws, kwargs, message):
    args = {"work_id": 1, "stage": "title-abstract", "reviewer": "ann", **kwargs}
    with pytest.raises(ScreenError, match=message):
        actions.decide(sws, **args)
    assert n_rows(sws, "decisions") == 0


def test_undo_appends_previous_values_and_is_repeatable(sws):
    actions.decide(sws, 1, "title-abstract", "ann", "include")
    actions.decide(sws, 1, "title-abstract", "ann", "exclude", "E1")
    actions.decide(sws, 2, "title-abstract", "ann", "maybe")
    assert actions.undo_last(sws, "title-abstract", "ann")["work_id"] == 2
    r = actions.undo_last(sws, "title-abstract", "ann")
    assert r["work_id"] == 1
    cur = {d["work_id"]: d for d in current_of(sws)}
    assert cur[1]["decision"] == "include"  # the value before the exclusion
    assert 2 not in cur
    actions.undo_last(sws, "title-abstract", "ann")
    assert current_of(sws) == []
    assert actions.undo_last(sws, "title-abstract", "ann") is None
    assert n_rows(sws, "decisions") == 6  # 3 decisions + 3 undo rows, nothing deleted
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        sws.db.execute("DELETE FROM decisions")


def current_of(ws):
    from review.store.decisions import current_decisions

    return current_decisions(ws, stage="title-abstract", reviewer="ann")


# -- notes, tags, retrieval, PDFs -------------------------------------------------------------------


def test_notes_and_tags(sws):
    actions.add_note(sws, 3, "  check the species  ", "ann", "title-abstract")
    actions.tag(sws, 3, "rat", "ann")
    actions.tag(sws, 3, "sepsis", "ann")
    actions.tag(sws, 3, "rat", "ann", action="remove")
    w = actions.get_work(sws, 3)
    assert w["tags"] == ["sepsis"]
    assert [n["text"] for n in w["notes"]] == ["check the species"]
    assert w["sources"] == ["Bannach-Brown 2019"]
    with pytest.raises(ScreenError):
        actions.add_note(sws, 3, "   ", "ann")
    assert n_rows(sws, "notes") == 1


def test_attach_pdf_stores_copy_pages_and_retrieval(sws, tmp_path):
    pdf = make_pdf(tmp_path / "paper.pdf", ["Depression in rats: methods", "Results in mice"])
    doc = actions.attach_pdf(sws, 4, pdf, "ann")
    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    stored = sws.db.execute("SELECT path FROM documents WHERE id = ?", [doc]).fetchone()[0]
    assert stored == f"{sha}.pdf"
    assert (sws.files_dir / stored).read_bytes() == pdf.read_bytes()
    pages = actions.full_text_pages(sws, 4)
    assert [p["page"] for p in pages] == [1, 2]
    assert "Results in mice" in pages[1]["text"]
    assert pages[0]["document_id"] == doc
    assert actions.retrieval_status(sws, 4) == "retrieved"


def test_attach_rejects_a_non_pdf_without_writing(sws, tmp_path):
    bad = tmp_path / "notes.pdf"
    bad.write_text("just text")
    with pytest.raises(ReviewError, match=r"notes\.pdf: not a PDF"):
        actions.attach_pdf(sws, 4, bad, "ann")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n garbage")
    with pytest.raises(ReviewError, match="broken.pdf: corrupt PDF"):
        actions.attach_pdf(sws, 4, broken, "ann")
    assert n_rows(sws, "documents") == n_rows(sws, "retrieval") == 0


def test_not_retrieved_leaves_the_full_text_queue(sws):
    for w in (2, 3):
        actions.decide(sws, w, "title-abstract", "ann", "include")
    actions.mark_not_retrieved(sws, 2, "ann")
    q = ScreenQueue.build(sws, "full-text", "ann", order="oldest")
    assert q.next_work(sws) == 3
    p = progress(sws, "full-text", "ann")
    assert (p["eligible"], p["remaining"], p["not_retrieved"]) == (2, 1, 1)


# -- search, history --------------------------------------------------------------------------------


def test_search_uses_fts_and_tolerates_syntax(sws):
    hits = actions.search(sws, "depression")
    assert hits and all(
        "depress" in ((h["title"] or "") + actions.get_work(sws, h["id"])["abstract"]).lower()
        for h in hits
    )
    assert actions.search(sws, 'rats" AND (')  # quoted terms: no FTS syntax error
    assert actions.search(sws, "   ") == []


def test_history_lists_every_event_in_order(sws):
    actions.decide(sws, 6, "title-abstract", "ann", "include", note="clear")
    actions.add_note(sws, 6, "species?", "bob")
    actions.tag(sws, 6, "sepsis", "ann")
    actions.undo_last(sws, "title-abstract", "ann")
    events = actions.history(sws, 6)
    assert [e["kind"] for e in events] == ["decision", "note", "tag", "decision"]
    assert events[-1]["value"] == "retract" and events[-1]["note"] == "undo of #1"
    assert [e["kind"] for e in actions.history(sws, 6, reviewer="bob")] == ["note"]


# -- highlight ---------------------------------------------------------------------------------------


def test_keyword_spans_whole_words_longest_first_case_insensitive():
    text = "Smart cities in South Africa; smart city pilots. Cities in Europe. Smartness."
    spans = keyword_spans(
        text, ["smart city", "smart cities", "cities", "South Africa"], ["Europe"]
    )
    got = [(text[s.start : s.end], s.kind) for s in spans]
    assert got == [
        ("Smart cities", "include"),
        ("South Africa", "include"),
        ("smart city", "include"),
        ("Cities", "include"),
        ("Europe", "exclude"),
    ]
    assert keyword_spans("rats ratsbane", ["rats"], []) == keyword_spans("rats", ["rats"], [])
    assert keyword_spans(None, ["x"]) == []


# -- CLI ---------------------------------------------------------------------------------------------


def test_cli_decide_history_attach(sws, tmp_path):
    db = str(sws.path)
    run = CliRunner().invoke
    r = run(
        cli, ["decide", "5", "--exclude", "E2", "--note", "humans", "--reviewer", "ann", "--db", db]
    )
    assert r.exit_code == 0, r.output
    r = run(cli, ["decide", "5", "--exclude", "E7", "--reviewer", "ann", "--db", db])
    assert r.exit_code == 1 and "unknown exclusion reason 'E7'" in r.output
    r = run(cli, ["decide", "5", "--include", "--maybe", "--db", db])
    assert r.exit_code == 2
    r = run(cli, ["decide", "5", "--undo", "--reviewer", "ann", "--db", db])
    assert r.exit_code == 0 and "undid decision #1" in r.output
    pdf = make_pdf(tmp_path / "p.pdf", ["one", "two", "three"])
    r = run(cli, ["attach", "5", str(pdf), "--reviewer", "ann", "--db", db])
    assert r.exit_code == 0 and "(3 pages)" in r.output
    r = run(cli, ["history", "5", "--db", db])
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert "exclude E2  — humans (cli)" in lines[1]
    assert "retract  — undo of #1" in lines[2] and "retrieved" in lines[3]
    r = run(cli, ["history", "77", "--db", db])
    assert r.exit_code == 1 and "no work with id 77" in r.output


def test_cli_screen_refuses_bad_stage_and_missing_workspace(sws, tmp_path):
    run = CliRunner().invoke
    r = run(cli, ["screen", "--stage", "abstracts", "--db", str(sws.path)])
    assert r.exit_code == 1 and "unknown stage 'abstracts'" in r.output
    r = run(cli, ["screen", "--db", str(tmp_path / "none.db")])
    assert r.exit_code == 1 and "no workspace here" in r.output
    assert not (tmp_path / "none.db").exists()
