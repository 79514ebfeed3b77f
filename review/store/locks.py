"""Named locks between processes: one row per running job in ``locks`` (pid, host, start time).

A harvest takes ``harvest:<kind>:<source>`` for its whole run, so a second harvest of the same
source refuses with a clear message instead of writing into the same search row. A lock whose
process is gone (crash, ``kill -9``, reboot) is stale and is taken over by the next run, which
resumes the unfinished search; a crashed run never blocks forever. A lock held from another host
(a workspace on a shared drive) cannot be checked and is honoured until released.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import WorkspaceError
from .workspace import Workspace, now


class LockHeld(WorkspaceError):
    """Another live process holds the lock."""


@dataclass(frozen=True)
class Holder:
    name: str
    pid: int
    host: str
    started: str | None
    command: str | None
    acquired_at: str


def harvest_lock(kind: str, source: str) -> str:
    return f"harvest:{kind}:{source}"


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def is_alive(holder: Holder) -> bool:
    """Whether the holder's process still runs (True when it cannot be checked: another host)."""
    if holder.host != socket.gethostname():
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    if holder.started is not None:
        current = _process_start(holder.pid)
        if current is not None and current != holder.started:
            return False  # the pid was reused by another process
    return True


def holder(ws: Workspace, name: str) -> Holder | None:
    row = ws.db.execute(
        "SELECT name, pid, host, started, command, acquired_at FROM locks WHERE name = ?", [name]
    ).fetchone()
    return Holder(*row) if row else None


def live_locks(ws: Workspace) -> list[Holder]:
    rows = ws.db.execute(
        "SELECT name, pid, host, started, command, acquired_at FROM locks ORDER BY name"
    ).fetchall()
    return [h for h in (Holder(*r) for r in rows) if is_alive(h)]


def acquire(ws: Workspace, name: str, *, command: str, what: str) -> Holder | None:
    """Take the lock ``name`` or raise ``LockHeld`` naming the live holder. Returns the stale
    holder that was taken over (a crashed run), if any. ``what`` names the job in messages."""
    me = os.getpid()
    with ws.transaction():  # BEGIN IMMEDIATE: two processes cannot both see the lock free
        old = holder(ws, name)
        if old is not None and is_alive(old):
            where = "" if old.host == socket.gethostname() else f" on host {old.host}"
            raise LockHeld(
                f"{what} is already running (pid {old.pid}{where}, since {old.acquired_at[:19]}"
                f"{', ' + old.command if old.command else ''}); wait for it to finish or stop that "
                "process, then run this again (an unfinished search resumes where it stopped)",
                path=str(ws.path),
            )
        ws.db.execute(
            "INSERT OR REPLACE INTO locks (name, pid, host, started, command, acquired_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [name, me, socket.gethostname(), _process_start(me), command, now()],
        )
    return old


def release(ws: Workspace, name: str) -> None:
    """Release the lock if this process holds it."""
    with ws.transaction():
        ws.db.execute(
            "DELETE FROM locks WHERE name = ? AND pid = ? AND host = ?",
            [name, os.getpid(), socket.gethostname()],
        )


@contextlib.contextmanager
def hold(ws: Workspace, name: str, *, command: str, what: str) -> Iterator[Holder | None]:
    """``with hold(ws, name, ...)``: the lock for the block (released on any exit)."""
    stale = acquire(ws, name, command=command, what=what)
    try:
        yield stale
    finally:
        with contextlib.suppress(Exception):  # never hide the block's own error; a lock
            release(ws, name)  # left behind by a failed release is stale once we exit
