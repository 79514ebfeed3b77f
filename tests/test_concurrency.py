"""Two processes, one workspace: WAL + busy timeout on every connection, writers queue behind
BEGIN IMMEDIATE instead of failing mid-transaction, and nested transactions use SAVEPOINTs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from review.store import Workspace
from review.store.workspace import WorkspaceBusy

ROOT = Path(__file__).resolve().parent.parent

HOLD_LOCK = """
import sys, time
from review.store import Workspace
ws = Workspace.open(sys.argv[1])
with ws.transaction():
    ws.set_meta("holder", "subprocess")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
print("released", flush=True)
"""


def _hold_write_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "locked", proc.stderr.read() if proc.stderr else line
    return proc


def _pragma(ws: Workspace, name: str) -> str | int:
    return ws.db.execute(f"PRAGMA {name}").fetchone()[0]


def test_every_connection_is_wal_with_a_busy_timeout(ws):
    other = ws.reopen()
    try:
        for conn in (ws, other):
            assert _pragma(conn, "journal_mode") == "wal"
            assert int(_pragma(conn, "busy_timeout")) >= 5000
    finally:
        other.close()


def test_busy_timeout_from_the_environment(ws, monkeypatch):
    monkeypatch.setenv("REVIEW_BUSY_TIMEOUT", "2.5")
    other = Workspace.open(ws.path)
    try:
        assert int(_pragma(other, "busy_timeout")) == 2500
    finally:
        other.close()


def test_a_second_writer_waits_for_the_first(ws):
    """A real second process holds the write lock for 2 s; our transaction queues, then writes."""
    ws.db.conn.commit()
    proc = _hold_write_lock(ws.path, 2.0)
    try:
        t0 = time.monotonic()
        with ws.transaction():
            value = ws.get_meta("holder")  # read first: BEGIN IMMEDIATE already holds the lock
            ws.set_meta("second", "in-process")
        waited = time.monotonic() - t0
    finally:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert waited >= 1.0
    assert value == "subprocess"  # it saw the first writer's committed row
    assert ws.get_meta("second") == "in-process"


def test_a_writer_past_the_busy_timeout_fails_cleanly_and_changes_nothing(ws, monkeypatch):
    monkeypatch.setenv("REVIEW_BUSY_TIMEOUT", "0.2")
    impatient = Workspace.open(ws.path)
    proc = _hold_write_lock(ws.path, 1.5)
    try:
        with pytest.raises(WorkspaceBusy, match="busy") as info:
            with impatient.transaction():
                impatient.set_meta("never", "x")
        assert not impatient.db.conn.in_transaction
        assert isinstance(info.value, sqlite3.OperationalError)  # old "locked" handlers still match
        assert "database is locked" in str(info.value)
    finally:
        proc.communicate(timeout=30)
        impatient.close()
    assert ws.get_meta("never") is None


def test_nested_transaction_rolls_back_only_itself(ws):
    with ws.transaction():
        ws.set_meta("outer", "kept")
        try:
            with ws.transaction():
                ws.set_meta("inner", "gone")
                raise RuntimeError("inner step failed")
        except RuntimeError:
            pass
        with ws.transaction():
            ws.set_meta("inner2", "kept")
    assert ws.get_meta("outer") == "kept"
    assert ws.get_meta("inner") is None
    assert ws.get_meta("inner2") == "kept"
    assert not ws.db.conn.in_transaction


def test_outer_failure_rolls_back_committed_inner_blocks(ws):
    with pytest.raises(RuntimeError):
        with ws.transaction():
            with ws.transaction():
                ws.set_meta("inner", "x")
            raise RuntimeError("outer failed")
    assert ws.get_meta("inner") is None


def test_transaction_visible_to_another_process_only_after_commit(ws):
    code = (
        "import sys; from review.store import Workspace; "
        "print(Workspace.open(sys.argv[1]).get_meta('pending'))"
    )
    with ws.transaction():
        ws.set_meta("pending", "yes")
        inside = subprocess.run(
            [sys.executable, "-c", code, str(ws.path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ),
        )
    after = subprocess.run(
        [sys.executable, "-c", code, str(ws.path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert inside.stdout.strip() == "None", inside.stderr  # WAL: readers never wait for writers
    assert after.stdout.strip() == "yes", after.stderr
