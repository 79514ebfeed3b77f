"""The ids an import keeps between its passes, in a scratch SQLite file beside the extracted
members (never in the workspace), so memory does not grow with the number of rows a bundle holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE searches (id INTEGER PRIMARY KEY, local INTEGER, stored INTEGER NOT NULL DEFAULT 0);
CREATE TABLE refs (ref INTEGER PRIMARY KEY, n INTEGER NOT NULL, work INTEGER);
CREATE TABLE docs (record INTEGER PRIMARY KEY, origin TEXT);
CREATE TABLE new_records (ref INTEGER NOT NULL, id INTEGER NOT NULL);
CREATE INDEX new_records_ref ON new_records(ref);
CREATE TABLE sources (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY, skipped INTEGER NOT NULL, local INTEGER, new INTEGER);
CREATE TABLE codes (id INTEGER PRIMARY KEY, local INTEGER);
"""


class Index:
    """Search ids, work refs (with their record counts and local works), the records documents
    point at, and the records an import added."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)
        self.db.execute("BEGIN")
        self._searches: dict[int, int] = {}  # a bounded cache of local_search

    def close(self) -> None:
        self.db.close()

    def _one(self, sql: str, args: list[object]) -> Any:
        row = self.db.execute(sql, args).fetchone()
        return row[0] if row else None

    # validation pass
    def add_search(self, sid: int) -> bool:
        """False when the search id was already seen."""
        return (
            self.db.execute("INSERT OR IGNORE INTO searches (id) VALUES (?)", [sid]).rowcount == 1
        )

    def has_search(self, sid: int) -> bool:
        return self._one("SELECT 1 FROM searches WHERE id = ?", [sid]) is not None

    def add_ref(self, ref: int) -> None:
        self.db.execute(
            "INSERT INTO refs (ref, n) VALUES (?, 1) ON CONFLICT(ref) DO UPDATE SET n = n + 1",
            [ref],
        )

    def has_ref(self, ref: int) -> bool:
        return self._one("SELECT 1 FROM refs WHERE ref = ?", [ref]) is not None

    def add_doc_record(self, record: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO docs (record) VALUES (?)", [record])
        self.has_docs = True

    has_docs = False

    # write pass
    def set_search(self, sid: int, local: int) -> None:
        self.db.execute("UPDATE searches SET local = ? WHERE id = ?", [local, sid])

    def local_search(self, sid: int) -> int:
        local = self._searches.get(sid)
        if local is None:
            local = int(self._one("SELECT local FROM searches WHERE id = ?", [sid]))
            if len(self._searches) < 10_000:
                self._searches[sid] = local
        return local

    def stored(self, sid: int) -> None:
        self.db.execute("UPDATE searches SET stored = stored + 1 WHERE id = ?", [sid])

    def stored_per_search(self) -> list[tuple[int, int]]:
        return list(self.db.execute("SELECT local, stored FROM searches WHERE stored > 0"))

    def work(self, ref: int) -> int | None:
        w = self._one("SELECT work FROM refs WHERE ref = ?", [ref])
        return None if w is None else int(w)

    def set_work(self, ref: int, work: int) -> None:
        self.db.execute("UPDATE refs SET work = ? WHERE ref = ?", [work, ref])

    def doc_origin(self, record: int, origin: str) -> None:
        self.db.execute("UPDATE docs SET origin = ? WHERE record = ?", [origin, record])

    def origin_of(self, record: int) -> str | None:
        o = self._one("SELECT origin FROM docs WHERE record = ?", [record])
        return None if o is None else str(o)

    def added(self, ref: int, record_id: int) -> None:
        self.db.execute("INSERT INTO new_records (ref, id) VALUES (?, ?)", [ref, record_id])

    def merged_groups(self) -> Iterator[tuple[int, str]]:
        """(local work, JSON list of new record ids) for each exporting work of 2+ records."""
        yield from self.db.execute(
            "SELECT r.work, '[' || group_concat(x.id, ', ') || ']' FROM new_records x"
            " JOIN refs r ON r.ref = x.ref WHERE r.n > 1 GROUP BY x.ref ORDER BY x.ref"
        )

    def gained_works(self, size: int = 1000) -> Iterator[list[int]]:
        """The local works that gained records, in chunks."""
        cur = self.db.execute(
            "SELECT DISTINCT r.work FROM new_records x JOIN refs r ON r.ref = x.ref ORDER BY 1"
        )
        while chunk := cur.fetchmany(size):
            yield [int(w) for (w,) in chunk]

    def records_added(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM new_records", []))

    # coding: suggestion runs (skipped = relayed for another group) and coding log rows
    def add_run(self, run: int, skipped: bool) -> bool:
        """False when the run id was already seen."""
        sql = "INSERT OR IGNORE INTO runs (id, skipped) VALUES (?, ?)"
        return self.db.execute(sql, [run, int(skipped)]).rowcount == 1

    def run_state(self, run: int) -> str | None:
        """None (not in the bundle), 'skipped', 'new' (inserted by this import) or 'known'."""
        row = self.db.execute("SELECT skipped, new FROM runs WHERE id = ?", [run]).fetchone()
        if row is None:
            return None
        return "skipped" if row[0] else "new" if row[1] else "known"

    def set_run(self, run: int, local: int, new: bool) -> None:
        self.db.execute("UPDATE runs SET local = ?, new = ? WHERE id = ?", [local, int(new), run])

    def local_run(self, run: int) -> int | None:
        r = self._one("SELECT local FROM runs WHERE id = ? AND skipped = 0", [run])
        return None if r is None else int(r)

    def add_code(self, code: int) -> bool:
        return self.db.execute("INSERT OR IGNORE INTO codes (id) VALUES (?)", [code]).rowcount == 1

    def set_code(self, code: int, local: int) -> None:
        self.db.execute("UPDATE codes SET local = ? WHERE id = ?", [local, code])

    def local_code(self, code: int) -> int | None:
        r = self._one("SELECT local FROM codes WHERE id = ?", [code])
        return None if r is None else int(r)

    # inspect
    def count_source(self, name: str) -> None:
        self.db.execute(
            "INSERT INTO sources (name, n) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET n = n + 1",
            [name],
        )

    def sources(self, limit: int = 1000) -> dict[str, int]:
        """Records per source (the ``limit`` largest)."""
        sql = "SELECT name, n FROM sources ORDER BY n DESC, name LIMIT ?"
        return dict(self.db.execute(sql, [limit]))

    def refs(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM refs", []))
