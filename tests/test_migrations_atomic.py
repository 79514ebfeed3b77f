"""Schema upgrades are atomic: a `kill -9` in the middle of one leaves the old schema intact.

The runner has a test hook, ``REVIEW_TEST_MIGRATION_PAUSE=<migration>:<marker file>``: after the
named migration's statements ran, but before it is recorded and committed, it writes the marker
and sleeps. These tests start a real subprocess that upgrades an old workspace, wait for the
marker, SIGKILL it, and open the workspace again.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from review.errors import WorkspaceError
from review.store import Workspace, migrations

ROOT = Path(__file__).resolve().parent.parent


def _old_workspace(path: Path, upto: int) -> None:
    """A workspace that has applied only the first ``upto`` migrations (as an old review left it)."""
    conn = sqlite3.connect(path)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(
        "CREATE TABLE _migrations (id INTEGER PRIMARY KEY, name TEXT UNIQUE, applied_at TEXT)"
    )
    for name, fn in migrations.MIGRATIONS[:upto]:
        fn(db)
        db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, 'old')", [name])
    conn.commit()
    conn.close()


def _kill_during(path: Path, name: str, tmp: Path) -> None:
    marker = tmp / f"paused-{name}"
    env = dict(os.environ, REVIEW_TEST_MIGRATION_PAUSE=f"{name}:{marker}")
    code = "import sys; from review.store import Workspace; Workspace.open(sys.argv[1])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"upgrade ended before the pause ({proc.returncode}): {err.decode()}")
            if time.monotonic() > deadline:
                pytest.fail("the upgrade never reached the pause hook")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    "index", range(1, len(migrations.MIGRATIONS)), ids=[n for n, _ in migrations.MIGRATIONS[1:]]
)
def test_kill_during_upgrade_leaves_a_workspace_that_opens(tmp_path, index):
    path = tmp_path / "old.db"
    _old_workspace(path, index)
    name = migrations.MIGRATIONS[index][0]
    _kill_during(path, name, tmp_path)

    # the old schema is intact: the killed migration is not recorded, nor half-applied
    conn = sqlite3.connect(path)
    done = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY id")]
    conn.close()
    assert done == [n for n, _ in migrations.MIGRATIONS[:index]]

    ws = Workspace.open(path)  # upgrades cleanly: no "duplicate column"
    assert migrations.applied(ws.db) == [n for n, _ in migrations.MIGRATIONS]
    assert ws.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ws.close()


def test_fingerprints_are_backfilled_for_records_without_ids(tmp_path):
    """m009 fills records.fingerprint for records stored before it, so a re-import matches them."""
    from review.harvest.files import import_files

    index = next(i for i, (n, _) in enumerate(migrations.MIGRATIONS) if "fingerprint" in n)
    path = tmp_path / "old.db"
    _old_workspace(path, index)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO searches (id, source, arm, kind, started_at, status)"
        " VALUES (1, 'Scopus', 'databases', 'file', 'x', 'complete')"
    )
    conn.execute(
        "INSERT INTO works (id, title, year, created_at, updated_at) VALUES (1, 'A', 2020, 'x', 'x')"
    )
    conn.execute(
        "INSERT INTO records (search_id, source, arm, work_id, title, year, authors, keywords,"
        " created_at) VALUES (1, 'Scopus', 'databases', 1, 'Smart city governance in Lusaka',"
        " 2021, '[\"Banda J\"]', '[]', 'x')"
    )
    conn.commit()
    conn.close()
    ws = Workspace.open(path)
    assert ws.db.execute("SELECT fingerprint FROM records").fetchone()[0]
    csv = tmp_path / "again.csv"
    csv.write_text("title,authors,year\nSmart city governance in Lusaka,Banda J,2021\n")
    rep = import_files(ws, [csv], source="Scopus")
    assert rep.records_stored == 0 and "already stored" in (rep.imported[0].note or "")
    ws.close()


def test_a_second_process_waits_for_an_upgrade_and_finishes_it(tmp_path):
    """B opens while A is mid-upgrade (holding the write lock); A is killed; B upgrades alone."""
    path = tmp_path / "old.db"
    _old_workspace(path, 2)
    name = migrations.MIGRATIONS[2][0]
    marker = tmp_path / "paused"
    code = "import sys; from review.store import Workspace; Workspace.open(sys.argv[1]).close()"
    a = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        env=dict(os.environ, REVIEW_TEST_MIGRATION_PAUSE=f"{name}:{marker}"),
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert a.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_TEST_MIGRATION_PAUSE"}
    b = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        env=dict(env, REVIEW_BUSY_TIMEOUT="60"),
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    assert b.poll() is None  # B is waiting for the write lock, not failing
    os.kill(a.pid, signal.SIGKILL)
    a.wait(timeout=30)
    _, err = b.communicate(timeout=120)
    assert b.returncode == 0, err
    ws = Workspace.open(path)
    assert migrations.applied(ws.db) == [n for n, _ in migrations.MIGRATIONS]
    ws.close()


def test_a_failing_migration_changes_nothing(tmp_path, monkeypatch):
    def m900_test_half_done(db: sqlite_utils.Database) -> None:
        db.executescript("ALTER TABLE meta ADD COLUMN half TEXT; CREATE TABLE t900 (x);")
        raise RuntimeError("bug in the migration")

    ws_path = tmp_path / "w.db"
    Workspace.open(ws_path, create=True).close()
    monkeypatch.setattr(
        migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("m900_test", m900_test_half_done)]
    )
    conn = sqlite3.connect(ws_path)
    db = sqlite_utils.Database(conn)
    with pytest.raises(RuntimeError, match="bug in the migration"):
        migrations.migrate(db)
    assert "half" not in db["meta"].columns_dict and "t900" not in db.table_names()
    assert "m900_test" not in migrations.applied(db)


def test_a_migration_that_commits_is_refused(tmp_path, monkeypatch):
    def m901_test_commits(db: sqlite_utils.Database) -> None:
        db.conn.executescript("CREATE TABLE t901 (x);")  # implicit COMMIT: not atomic

    ws_path = tmp_path / "w.db"
    Workspace.open(ws_path, create=True).close()
    monkeypatch.setattr(
        migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("m901_test", m901_test_commits)]
    )
    db = sqlite_utils.Database(sqlite3.connect(ws_path))
    with pytest.raises(WorkspaceError, match="ended its own transaction"):
        migrations.migrate(db)
    assert "m901_test" not in migrations.applied(db)
