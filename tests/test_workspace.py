"""The workspace: creation, WAL, migrations, append-only logs, newer-schema refusal."""

from __future__ import annotations

import sqlite3

import pytest

from review.errors import ScreenError, WorkspaceError
from review.models import Record
from review.store import Workspace, init, migrations
from review.store.decisions import current_decisions, decision_counts, record_decision
from review.store.records import add_records, finish_search, start_search


def test_new_workspace_is_wal_and_migrated(ws):
    assert ws.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert migrations.applied(ws.db) == [name for name, _ in migrations.MIGRATIONS]
    for table in (
        "searches",
        "records",
        "works",
        "decisions",
        "documents",
        "embeddings",
        "themes",
        "work_countries",
        "merges",
        "bundles",
    ):
        assert table in ws.db.table_names()
    assert ws.protocol().title == "Smart cities governance in the SADC region"


def test_reopen_is_idempotent(ws):
    again = Workspace.open(ws.path)
    assert migrations.applied(again.db) == migrations.applied(ws.db)
    assert again.db.execute("SELECT COUNT(*) FROM protocols").fetchone()[0] == 1


def test_missing_workspace_names_the_file(tmp_path):
    with pytest.raises(WorkspaceError, match="nope.db"):
        Workspace.open(tmp_path / "nope.db")


def test_newer_schema_is_refused(ws):
    ws.db.execute("INSERT INTO _migrations (name, applied_at) VALUES ('m999_future', 'x')")
    ws.db.conn.commit()
    with pytest.raises(WorkspaceError, match="newer version"):
        Workspace.open(ws.path)


def test_older_schema_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    db_first = migrations.MIGRATIONS[0]
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    db.execute(
        "CREATE TABLE _migrations (id INTEGER PRIMARY KEY, name TEXT UNIQUE, applied_at TEXT)"
    )
    db_first[1](db)
    db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, 'x')", [db_first[0]])
    conn.commit()
    conn.close()
    ws = Workspace.open(path)
    assert len(migrations.applied(ws.db)) == migrations.SCHEMA_VERSION
    assert "works_fts" in ws.db.table_names()


def test_not_a_workspace(tmp_path):
    p = tmp_path / "x.db"
    p.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(WorkspaceError):
        Workspace.open(p)


def _add(ws, titles, source="Test", arm="databases"):
    sid = start_search(ws, source=source, arm=arm, kind="manual")
    ids = add_records(ws, sid, [Record(title=t, source_record_id=f"{source}-{t}") for t in titles])
    finish_search(ws, sid, records_found=len(titles), records_stored=len(ids))
    return ids


def test_records_get_works_and_reruns_add_nothing(ws):
    assert len(_add(ws, ["A study", "Another study"])) == 2
    assert len(_add(ws, ["A study", "Another study", "Third"])) == 1
    assert ws.db.execute("SELECT COUNT(*) FROM works").fetchone()[0] == 3
    assert ws.db.execute("SELECT COUNT(*) FROM searches").fetchone()[0] == 2


def test_failed_insert_leaves_nothing(ws):
    sid = start_search(ws, source="S", arm="databases", kind="manual")

    def bad():
        yield Record(title="ok")
        raise RuntimeError("parser broke")

    with pytest.raises(RuntimeError):
        add_records(ws, sid, bad())
    assert ws.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0
    assert ws.db.execute("SELECT COUNT(*) FROM works").fetchone()[0] == 0


def test_decisions_are_append_only_and_current_is_derived(ws):
    (rid,) = _add(ws, ["Smart city governance in Lusaka"])
    work = ws.db.execute("SELECT work_id FROM records WHERE id = ?", [rid]).fetchone()[0]
    record_decision(ws, work_id=work, stage="title-abstract", reviewer="ana", decision="include")
    record_decision(
        ws, work_id=work, stage="title-abstract", reviewer="ana", decision="exclude", reason="E2"
    )
    cur = current_decisions(ws, stage="title-abstract")
    assert [(d["decision"], d["reason"]) for d in cur] == [("exclude", "E2")]
    record_decision(ws, work_id=work, stage="title-abstract", reviewer="ana", decision="retract")
    assert current_decisions(ws, stage="title-abstract") == []
    assert ws.db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 3
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        ws.db.execute("UPDATE decisions SET decision = 'include'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        ws.db.execute("DELETE FROM decisions")


def test_exclusion_needs_a_reason(ws):
    (rid,) = _add(ws, ["x"])
    with pytest.raises(ScreenError):
        record_decision(ws, work_id=1, stage="title-abstract", reviewer="a", decision="exclude")


def test_decision_counts_use_resolved_decisions(ws):
    ids = _add(ws, ["a", "b", "c"])
    w = [r[0] for r in ws.db.execute("SELECT work_id FROM records ORDER BY id")]
    assert len(ids) == 3
    record_decision(ws, work_id=w[0], stage="title-abstract", reviewer="a", decision="include")
    record_decision(ws, work_id=w[0], stage="title-abstract", reviewer="b", decision="include")
    record_decision(ws, work_id=w[1], stage="title-abstract", reviewer="a", decision="include")
    record_decision(
        ws, work_id=w[1], stage="title-abstract", reviewer="b", decision="exclude", reason="E1"
    )
    record_decision(ws, work_id=w[2], stage="title-abstract", reviewer="a", decision="maybe")
    counts = decision_counts(ws)
    # w[1] is a conflict: not counted until resolved
    assert counts == {"title-abstract": {"include": 1, "exclude": 0, "maybe": 1, "conflict": 1}}
    record_decision(
        ws,
        work_id=w[1],
        stage="title-abstract",
        reviewer="lead",
        decision="exclude",
        reason="E1",
        origin="resolution",
    )
    assert decision_counts(ws)["title-abstract"]["exclude"] == 1


def test_init_twice_keeps_one_protocol_row(tmp_path, protocol_path):
    from review import protocol

    p = protocol.load(protocol_path)
    init(tmp_path / "w.db", p).close()
    w = init(tmp_path / "w.db", p)
    assert w.db.execute("SELECT COUNT(*) FROM protocols").fetchone()[0] == 1
