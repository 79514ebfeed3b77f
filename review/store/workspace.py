"""The review workspace: one SQLite file (WAL) plus a sibling folder for stored files."""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from ..errors import WorkspaceError
from ..protocol import Protocol
from ..protocol import loads as protocol_loads
from . import migrations

DEFAULT_DB = "review.db"


def now() -> str:
    """UTC timestamp used in every log row (ISO 8601, microseconds, sortable)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def busy_timeout() -> float:
    """Seconds a writer waits for another process's write lock (``REVIEW_BUSY_TIMEOUT``, 30)."""
    raw = os.environ.get("REVIEW_BUSY_TIMEOUT")
    try:
        value = float(raw) if raw else 30.0
    except ValueError:
        raise WorkspaceError(f"REVIEW_BUSY_TIMEOUT must be a number of seconds, got {raw!r}")
    return max(value, 0.0)


class WorkspaceBusy(WorkspaceError, sqlite3.OperationalError):
    """Another process held the write lock past the busy timeout; nothing was changed.

    Also an ``sqlite3.OperationalError``, so code that retries on "database is locked" keeps working.
    """


def default_reviewer() -> str:
    env = os.environ.get("REVIEW_REVIEWER")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        return "reviewer"


class Workspace:
    """An open workspace. Use ``Workspace.open(path)``; ``create=True`` makes a new one.

    ``db`` is a ``sqlite_utils.Database``; ``files_dir`` holds copied PDFs and pages.
    One Workspace = one connection; threads (TUI workers) open their own with ``reopen()``.
    """

    def __init__(self, db: sqlite_utils.Database, path: Path):
        self.db = db
        self.path = path
        self._savepoints = 0

    @classmethod
    def open(cls, path: str | Path, create: bool = False) -> Workspace:
        p = Path(path)
        if not create and not p.exists():
            raise WorkspaceError(
                "no workspace here; create one with `review init --protocol FILE --db PATH`",
                path=str(p),
            )
        if p.exists() and p.is_dir():
            raise WorkspaceError("is a directory, not a workspace file", path=str(p))
        if create:
            p.parent.mkdir(parents=True, exist_ok=True)
        try:
            timeout = busy_timeout()
            conn = sqlite3.connect(str(p), timeout=timeout, check_same_thread=False)
            db = sqlite_utils.Database(conn)
            db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            db.execute("PRAGMA foreign_keys = OFF")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            db.execute("PRAGMA synchronous = NORMAL")
            names = db.table_names()
        except sqlite3.DatabaseError as e:
            raise WorkspaceError(f"not a review workspace ({e})", path=str(p))
        if mode.lower() != "wal":
            raise WorkspaceError(f"could not enable WAL mode (got {mode})", path=str(p))
        if names and "_migrations" not in names:
            raise WorkspaceError("this SQLite file is not a review workspace", path=str(p))
        done = migrations.applied(db)
        known = {name for name, _ in migrations.MIGRATIONS}
        unknown = [n for n in done if n not in known]
        if unknown:
            raise WorkspaceError(
                f"workspace was written by a newer version of review (schema has {', '.join(unknown)}); "
                "upgrade review to open it",
                path=str(p),
            )
        migrations.migrate(db)
        return cls(db, p)

    @property
    def files_dir(self) -> Path:
        d = self.path.with_name(self.path.name + ".files")
        return d

    def reopen(self) -> Workspace:
        """A new connection to the same workspace (for another thread)."""
        return Workspace.open(self.path)

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """All-or-nothing: ``BEGIN IMMEDIATE`` ... ``COMMIT``, ``ROLLBACK`` on any exception.

        IMMEDIATE takes the write lock up front, so a second writer waits (busy timeout) before
        its first statement instead of failing half-way with "database is locked"; if the wait
        runs out, ``WorkspaceBusy`` is raised and nothing has changed. Inside an open transaction
        (ours or sqlite-utils' ``atomic()``) a block is a SAVEPOINT: its failure rolls back only
        its own writes, and the outermost transaction decides what is committed.
        """
        conn = self.db.conn
        if conn.in_transaction:
            self._savepoints += 1
            name = f"review_sp_{self._savepoints}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield self.db
            except BaseException:
                if conn.in_transaction:  # a RAISE(ROLLBACK) may already have ended it
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            else:
                if conn.in_transaction:
                    conn.execute(f"RELEASE SAVEPOINT {name}")
            finally:
                self._savepoints -= 1
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            raise WorkspaceBusy(
                f"the workspace is busy (database is locked): another review process has held the write lock for "
                f"more than {busy_timeout():g} s (an import, dedup, harvest or bundle?); nothing "
                "was changed, try again when it finishes (REVIEW_BUSY_TIMEOUT sets the wait)",
                path=str(self.path),
            ) from e
        try:
            yield self.db
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()

    # meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    # protocol -------------------------------------------------------------------------------
    def set_protocol(self, protocol: Protocol) -> None:
        sha = hashlib.sha256(protocol.text.encode("utf-8")).hexdigest()
        current = self.db.execute(
            "SELECT sha256 FROM protocols ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if current and current[0] == sha:
            return
        with self.transaction():
            self.db.table("protocols").insert(
                {"loaded_at": now(), "path": protocol.path, "sha256": sha, "toml": protocol.text}
            )

    def protocol(self) -> Protocol | None:
        row = self.db.execute(
            "SELECT toml, path FROM protocols ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if not row:
            return None
        return protocol_loads(row[0], path=row[1] or "<workspace protocol>")

    def require_protocol(self) -> Protocol:
        p = self.protocol()
        if p is None:
            raise WorkspaceError(
                "workspace has no protocol; run `review init --protocol FILE`", path=str(self.path)
            )
        return p


def init(path: str | Path, protocol: Protocol | None = None) -> Workspace:
    """Create (or migrate) a workspace and store the protocol in it."""
    ws = Workspace.open(path, create=True)
    if ws.get_meta("created_at") is None:
        ws.set_meta("created_at", now())
    if protocol is not None:
        ws.set_protocol(protocol)
    ws.db.conn.commit()
    return ws
