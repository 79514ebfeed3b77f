"""Schema migrations: ordered, named functions, each applied once and recorded in ``_migrations``.

Add a migration by appending a function decorated with ``@migration`` at the END of this file;
never edit one that has shipped. ``SCHEMA_VERSION`` is the number of migrations; a workspace that
has applied more than we know was written by a newer ``review`` and is refused.

Every migration is atomic: the runner opens ``BEGIN IMMEDIATE``, runs the function and records
its name in ``_migrations`` in the same transaction, then commits. ``db.executescript`` is safe
inside a migration (sqlite-utils splits the script and runs it in the open transaction; SQLite DDL
is transactional); a migration must not call ``db.conn.executescript``, ``commit()`` or
``VACUUM`` itself: the runner refuses a migration that ended the transaction. A process killed
mid-upgrade therefore leaves the previous schema intact, and the next open upgrades cleanly.
Two processes opening an old workspace at once queue on the write lock; the second finds the
migration recorded and skips it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from ..errors import WorkspaceError

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register ``fn`` as the next migration (its name is recorded once applied)."""
    if any(name == fn.__name__ for name, _ in MIGRATIONS):
        raise ValueError(f"migration {fn.__name__} is registered twice")
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def __getattr__(name: str) -> int:
    # SCHEMA_VERSION is computed on access, so migrations appended below are always counted
    if name == "SCHEMA_VERSION":
        return len(MIGRATIONS)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def applied(db: sqlite_utils.Database) -> list[str]:
    if "_migrations" not in db.table_names():
        return []
    return [r["name"] for r in db.query("SELECT name FROM _migrations ORDER BY id")]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations in order, each in its own transaction. Returns names applied."""
    conn = db.conn
    if conn.in_transaction:  # never fold an upgrade into someone else's open transaction
        conn.commit()
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT UNIQUE, applied_at TEXT)"
    )
    ran: list[str] = []
    for name, fn in MIGRATIONS:
        if name in applied(db):
            continue
        conn.execute("BEGIN IMMEDIATE")  # waits (busy timeout) for another upgrading process
        try:
            if name in applied(db):  # another process applied it while we waited
                conn.rollback()
                continue
            fn(db)
            if not conn.in_transaction:
                raise WorkspaceError(
                    f"migration {name} ended its own transaction (it must not commit, VACUUM or "
                    "call conn.executescript); the upgrade is not atomic"
                )
            _pause_hook(name)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [name, datetime.now(UTC).isoformat(timespec="seconds")],
            )
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        conn.commit()
        ran.append(name)
    return ran


def _pause_hook(name: str) -> None:
    """Test hook: ``REVIEW_TEST_MIGRATION_PAUSE=<name>:<marker file>`` makes the runner write the
    marker and sleep after running migration ``name`` but before recording and committing it, so
    a test can kill the process mid-upgrade (tests/test_migrations_atomic.py)."""
    spec = os.environ.get("REVIEW_TEST_MIGRATION_PAUSE")
    if not spec:
        return
    target, _, marker = spec.partition(":")
    if target != name:
        return
    if marker:
        with open(marker, "w", encoding="utf-8") as f:
            f.write(name)
    time.sleep(120)


# -- the migrations, oldest first; append new ones at the END of the file ------------------------


def _append_only(db: sqlite_utils.Database, table: str) -> None:
    """Triggers that make ``table`` an append-only log: history is never overwritten."""
    db.executescript(
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is an append-only log'); END;
        CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is an append-only log'); END;
        """
    )


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);

        -- the protocol text is stored so a workspace is self-contained; a new row per change
        CREATE TABLE protocols (
            id INTEGER PRIMARY KEY, loaded_at TEXT NOT NULL, path TEXT, sha256 TEXT NOT NULL,
            toml TEXT NOT NULL);

        -- PRISMA-S search log: one row per harvest, import or gray-literature batch
        CREATE TABLE searches (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,            -- source name (protocol source, database, website)
            arm TEXT NOT NULL CHECK (arm IN ('databases','registers','other')),
            kind TEXT NOT NULL,              -- openalex | file | pdf | web | bundle | manual
            query TEXT,                      -- search string + filters, or file names
            file_name TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            tool TEXT, tool_version TEXT, api_version TEXT,
            records_found INTEGER,           -- what the source reported (e.g. meta.count)
            records_stored INTEGER,          -- new records actually stored
            status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running','complete','failed','interrupted')),
            cursor TEXT,                     -- resumable harvests: last cursor fetched
            group_name TEXT,                 -- origin group for bundle imports
            params TEXT,                     -- JSON: anything else worth logging
            notes TEXT);

        -- records: one per record per source, raw payload kept; work_id = current dedup group
        CREATE TABLE records (
            id INTEGER PRIMARY KEY,
            search_id INTEGER NOT NULL REFERENCES searches(id),
            source TEXT NOT NULL,
            arm TEXT NOT NULL,
            source_record_id TEXT,
            work_id INTEGER REFERENCES works(id),
            title TEXT, abstract TEXT, authors TEXT, year INTEGER, doi TEXT, pmid TEXT,
            openalex_id TEXT, isbn TEXT, venue TEXT, volume TEXT, issue TEXT, pages TEXT,
            language TEXT, record_type TEXT, url TEXT, keywords TEXT, affiliation_countries TEXT,
            file_sha256 TEXT, published_date TEXT,
            raw TEXT, raw_format TEXT, extra TEXT,
            content_hash TEXT,
            group_name TEXT,                 -- research group the record came from (bundles)
            created_at TEXT NOT NULL);
        CREATE INDEX records_work ON records(work_id);
        CREATE INDEX records_doi ON records(doi);
        CREATE INDEX records_search ON records(search_id);
        CREATE INDEX records_source_id ON records(source, source_record_id);
        CREATE INDEX records_openalex ON records(openalex_id);
        CREATE INDEX records_sha ON records(file_sha256);

        -- works: the deduplicated unit that is screened; fields are the best of its records
        CREATE TABLE works (
            id INTEGER PRIMARY KEY,
            title TEXT, abstract TEXT, authors TEXT, year INTEGER, doi TEXT, venue TEXT,
            language TEXT, record_type TEXT, url TEXT, content_hash TEXT,
            active INTEGER NOT NULL DEFAULT 1, -- 0 once merged into another work
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE INDEX works_active ON works(active);

        -- dedup: append-only merge log; candidates waiting for a human
        CREATE TABLE merges (
            id INTEGER PRIMARY KEY, created_at TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('merge','split')),
            work_id INTEGER NOT NULL,        -- surviving work (merge) or work split
            record_ids TEXT NOT NULL,        -- JSON list of record ids moved
            from_work_ids TEXT,              -- JSON list of works they came from
            rule TEXT, score REAL, actor TEXT, group_name TEXT);
        CREATE TABLE dedup_candidates (
            id INTEGER PRIMARY KEY, created_at TEXT NOT NULL,
            record_a INTEGER NOT NULL, record_b INTEGER NOT NULL,
            score REAL, rule TEXT,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','duplicate','distinct')),
            decided_at TEXT, decided_by TEXT,
            UNIQUE(record_a, record_b));

        -- screening: append-only decision log; the current decision is derived
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            work_id INTEGER NOT NULL REFERENCES works(id),
            stage TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('include','exclude','maybe','retract')),
            reason TEXT,                     -- exclusion criterion code
            note TEXT,
            origin TEXT NOT NULL DEFAULT 'local', -- local | tui | cli | bundle:<group> | resolution
            group_name TEXT,
            created_at TEXT NOT NULL);
        CREATE INDEX decisions_work ON decisions(work_id, stage, reviewer, id);
        CREATE INDEX decisions_stage ON decisions(stage, reviewer);
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY, work_id INTEGER NOT NULL, stage TEXT, reviewer TEXT NOT NULL,
            text TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE INDEX notes_work ON notes(work_id);
        CREATE TABLE tags (
            id INTEGER PRIMARY KEY, work_id INTEGER NOT NULL, tag TEXT NOT NULL,
            action TEXT NOT NULL DEFAULT 'add' CHECK (action IN ('add','remove')),
            reviewer TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE INDEX tags_work ON tags(work_id);
        -- full-text retrieval status per work (full-text stage): retrieved | not-retrieved
        CREATE TABLE retrieval (
            id INTEGER PRIMARY KEY, work_id INTEGER NOT NULL, status TEXT NOT NULL
            CHECK (status IN ('retrieved','not-retrieved')), reviewer TEXT, document_id INTEGER,
            created_at TEXT NOT NULL);
        CREATE TABLE stopping_log (
            id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, stage TEXT NOT NULL, method TEXT NOT NULL,
            params TEXT, result TEXT, should_stop INTEGER, reviewer TEXT);

        -- documents: PDFs and saved pages, copied into the workspace's file store
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            record_id INTEGER REFERENCES records(id),
            work_id INTEGER REFERENCES works(id),
            kind TEXT NOT NULL,              -- pdf | html | md | txt
            path TEXT,                       -- relative to the workspace file store
            original_name TEXT, sha256 TEXT, pages INTEGER, language TEXT,
            meta TEXT, text TEXT, created_at TEXT NOT NULL);
        CREATE INDEX documents_work ON documents(work_id);
        CREATE INDEX documents_sha ON documents(sha256);
        CREATE TABLE document_pages (
            document_id INTEGER NOT NULL REFERENCES documents(id), page INTEGER NOT NULL,
            text TEXT, PRIMARY KEY (document_id, page));

        -- themes and regions
        CREATE TABLE embeddings (
            content_hash TEXT NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL,
            vector BLOB NOT NULL, created_at TEXT NOT NULL,
            PRIMARY KEY (content_hash, model));
        CREATE TABLE theme_runs (
            id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, stage TEXT, model TEXT,
            params TEXT, versions TEXT, seed INTEGER, n_works INTEGER, n_themes INTEGER,
            n_outliers INTEGER);
        CREATE TABLE themes (
            run_id INTEGER NOT NULL REFERENCES theme_runs(id), theme_id INTEGER NOT NULL,
            label TEXT, keywords TEXT, representative TEXT, seed_theme TEXT, seed_score REAL,
            size INTEGER, PRIMARY KEY (run_id, theme_id));
        CREATE TABLE work_themes (
            run_id INTEGER NOT NULL, work_id INTEGER NOT NULL, theme_id INTEGER NOT NULL,
            probability REAL, PRIMARY KEY (run_id, work_id));
        CREATE TABLE theme_edits (
            id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, action TEXT NOT NULL,
            match_key TEXT NOT NULL, value TEXT, reviewer TEXT);
        CREATE TABLE work_countries (
            id INTEGER PRIMARY KEY, work_id INTEGER NOT NULL, country TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('study','affiliation')),
            origin TEXT NOT NULL,            -- gazetteer | openalex | reviewer | source-tag
            action TEXT NOT NULL DEFAULT 'add' CHECK (action IN ('add','remove')),
            evidence TEXT, reviewer TEXT, created_at TEXT NOT NULL);
        CREATE INDEX work_countries_work ON work_countries(work_id);

        -- sharing
        CREATE TABLE bundles (
            id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, group_name TEXT,
            manifest TEXT NOT NULL, imported_at TEXT NOT NULL, records_added INTEGER,
            decisions_added INTEGER);
        """
    )
    for table in (
        "merges",
        "decisions",
        "notes",
        "tags",
        "retrieval",
        "stopping_log",
        "theme_edits",
    ):
        _append_only(db, table)


@migration
def m002_fts(db: sqlite_utils.Database) -> None:
    """Full-text search over works (title, abstract) for the screening app's `/`."""
    db.table("works").enable_fts(["title", "abstract"], create_triggers=True, tokenize="porter")


@migration
def m003_provenance(db: sqlite_utils.Database) -> None:
    """works.merged_into: where an absorbed work went (decisions follow it);
    records.origin: a record's identity across groups (bundles), e.g. 'lusaka/123'."""
    db.executescript(
        """
        ALTER TABLE works ADD COLUMN merged_into INTEGER;
        ALTER TABLE records ADD COLUMN origin TEXT;
        CREATE INDEX records_origin ON records(origin);
        """
    )


@migration
def m004_dedup_merge_note(db: sqlite_utils.Database) -> None:
    """merges.note: why the survivor was chosen (e.g. it carries screening decisions)."""
    db.executescript(
        """
        ALTER TABLE merges ADD COLUMN note TEXT;
        CREATE INDEX IF NOT EXISTS dedup_candidates_status ON dedup_candidates(status);
        """
    )


@migration
def m005_dedup_fts_update_of(db: sqlite_utils.Database) -> None:
    """Re-index works_fts only when title or abstract change, not on every works update (a dedup
    of 100k records flips `active` on 30k works: 4 s of needless FTS delete+insert)."""
    db.executescript(
        """
        DROP TRIGGER IF EXISTS works_au;
        CREATE TRIGGER works_au AFTER UPDATE OF title, abstract ON works BEGIN
          INSERT INTO works_fts (works_fts, rowid, title, abstract)
            VALUES ('delete', old.rowid, old.title, old.abstract);
          INSERT INTO works_fts (rowid, title, abstract) VALUES (new.rowid, new.title, new.abstract);
        END;
        """
    )


@migration
def m006_import_issn_database(db: sqlite_utils.Database) -> None:
    """records.issn (journal identifier, kept for exports) and records.database: the database a
    record names itself (Ovid's D= code, RIS DB), which may differ from the file it came in."""
    db.executescript(
        """
        ALTER TABLE records ADD COLUMN issn TEXT;
        ALTER TABLE records ADD COLUMN database TEXT;
        """
    )


@migration
def m007_coding(db: sqlite_utils.Database) -> None:
    """Coding (data extraction): suggestion runs (model, parameters, versions), their suggestions,
    and reviewers' codes as an append-only log (the current code is the latest row)."""
    db.executescript(
        """
        CREATE TABLE coding_runs (
            id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, field TEXT, stage TEXT,
            method TEXT NOT NULL,            -- zero-shot | few-shot
            model TEXT, threshold REAL, params TEXT, versions TEXT,
            n_works INTEGER, n_training INTEGER, seconds REAL);
        CREATE TABLE coding_suggestions (
            run_id INTEGER NOT NULL REFERENCES coding_runs(id), work_id INTEGER NOT NULL,
            field TEXT NOT NULL, value TEXT NOT NULL, score REAL NOT NULL,
            suggested INTEGER NOT NULL,      -- 1 when score >= the run's threshold
            evidence TEXT, page INTEGER, document_id INTEGER,
            PRIMARY KEY (run_id, work_id, field, value));
        CREATE INDEX coding_suggestions_work ON coding_suggestions(work_id, field);
        CREATE TABLE coding_log (
            id INTEGER PRIMARY KEY, work_id INTEGER NOT NULL, field TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            value TEXT,                      -- JSON: list of codes, a string or a number
            status TEXT NOT NULL CHECK (status IN ('draft','confirmed','retract')),
            origin TEXT NOT NULL DEFAULT 'local', -- tui | cli | resolution | bundle:<group>
            run_id INTEGER,                  -- the suggestion run the reviewer saw
            stage TEXT, note TEXT, created_at TEXT NOT NULL);
        CREATE INDEX coding_log_work ON coding_log(work_id, field, reviewer, id);
        """
    )
    for table in ("coding_runs", "coding_suggestions", "coding_log"):
        _append_only(db, table)


@migration
def m008_truth_merged_into(db: sqlite_utils.Database) -> None:
    """works.merged_into names the FINAL survivor (decisions follow it; issue 12): fill it for
    works deactivated by a logged merge before it existed, path-compress chains, and index it so
    one work's decisions (and retrieval marks) are found without scanning a table."""
    db.execute("CREATE INDEX IF NOT EXISTS works_merged_into ON works(merged_into)")
    db.execute("CREATE INDEX IF NOT EXISTS retrieval_work ON retrieval(work_id, id)")
    db.execute(
        "UPDATE works SET merged_into = (SELECT m.work_id FROM merges m WHERE m.action = 'merge'"
        " AND m.from_work_ids = '[' || works.id || ']' ORDER BY m.id DESC LIMIT 1)"
        " WHERE active = 0 AND merged_into IS NULL"
    )
    for _ in range(64):  # chains are short; each pass halves them
        cur = db.execute(
            "UPDATE works SET merged_into = (SELECT w2.merged_into FROM works w2"
            " WHERE w2.id = works.merged_into) WHERE merged_into IN"
            " (SELECT id FROM works WHERE merged_into IS NOT NULL AND merged_into != id)"
        )
        if not cur.rowcount:
            break


@migration
def m009_safety_fingerprints_locks(db: sqlite_utils.Database) -> None:
    """records.fingerprint: content hash of a record that has no source id (idempotent imports
    match such records by content); locks: one row per running harvest of a source (pid, host,
    process start) so a second harvest of that source refuses while the first is alive."""
    from .records import FINGERPRINT_FIELDS, row_fingerprint

    db.execute("ALTER TABLE records ADD COLUMN fingerprint TEXT")
    db.execute("CREATE INDEX records_source_fingerprint ON records(source, fingerprint)")
    cols = ", ".join(FINGERPRINT_FIELDS)
    rows = db.execute(
        f"SELECT id, {cols} FROM records WHERE source_record_id IS NULL OR source_record_id = ''"
    ).fetchall()
    db.conn.executemany(
        "UPDATE records SET fingerprint = ? WHERE id = ?",
        [(row_fingerprint(dict(zip(FINGERPRINT_FIELDS, r[1:], strict=True))), r[0]) for r in rows],
    )
    db.execute(
        """CREATE TABLE locks (
            name TEXT PRIMARY KEY,           -- e.g. 'harvest:openalex:<source>'
            pid INTEGER NOT NULL, host TEXT NOT NULL,
            started TEXT,                    -- the process's start time (pid reuse check)
            command TEXT, acquired_at TEXT NOT NULL)"""
    )


@migration
def m010_dedup_runs(db: sqlite_utils.Database) -> None:
    """dedup_runs: one row per `review dedup` run (who, threshold, summary; undone_at once
    `review dedup --undo-run N` split it); merges.run_id ties each merge to its run and
    merges.evidence keeps the record pair that justified it and the path from the kept work."""
    db.execute(
        """CREATE TABLE dedup_runs (
            id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, actor TEXT,
            threshold REAL, summary TEXT, undone_at TEXT, undone_by TEXT)"""
    )
    db.execute("ALTER TABLE merges ADD COLUMN run_id INTEGER")
    db.execute("ALTER TABLE merges ADD COLUMN evidence TEXT")
    db.execute("CREATE INDEX merges_run ON merges(run_id)")


@migration
def m011_screen_documents_record(db: sqlite_utils.Database) -> None:
    """documents.record_id indexed: the full-text screen finds a work's document (attached to the
    work, or harvested with one of its records) by indexed look-ups, not a scan (issue 18)."""
    db.execute("CREATE INDEX IF NOT EXISTS documents_record ON documents(record_id)")


@migration
def m012_coding_bundle_runs(db: sqlite_utils.Database) -> None:
    """Suggestion runs travel in bundles as provenance: coding_runs.group_name (NULL = this
    workspace's own run, else the group whose bundle brought it) and coding_runs.origin
    (``<group>/run/<id>``: a re-import finds the run it already has)."""
    db.execute("ALTER TABLE coding_runs ADD COLUMN group_name TEXT")
    db.execute("ALTER TABLE coding_runs ADD COLUMN origin TEXT")
    db.execute("CREATE INDEX coding_runs_origin ON coding_runs(origin)")


@migration
def m013_screen_sampling(db: sqlite_utils.Database) -> None:
    """The random-sample phase of the stopping rule (Callaghan & Müller-Hansen 2020, issue 15):
    sample_phases logs when a stage (per reviewer; NULL = the whole team) left ranked screening,
    with the seed, what had been screened and found by then and the urn's size; sample_order
    holds the urn's random order, so the queue's next record is one indexed look-up. Both are
    append-only: a phase is never rewritten, a new one supersedes it."""
    db.execute(
        """CREATE TABLE sample_phases (
            id INTEGER PRIMARY KEY, stage TEXT NOT NULL, reviewer TEXT,
            started_at TEXT NOT NULL, seed INTEGER NOT NULL,
            last_decision_id INTEGER,       -- MAX(decisions.id) when the phase began
            n_screened INTEGER NOT NULL,    -- works screened (ranked) before it
            r_al INTEGER NOT NULL,          -- relevant records found before it
            urn INTEGER NOT NULL,           -- eligible unscreened works: the urn's size N
            target_recall REAL, confidence REAL,
            trigger TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX sample_phases_stage ON sample_phases(stage, reviewer, id)")
    db.execute(
        """CREATE TABLE sample_order (
            phase_id INTEGER NOT NULL REFERENCES sample_phases(id),
            pos INTEGER NOT NULL, work_id INTEGER NOT NULL,
            PRIMARY KEY (phase_id, pos)) WITHOUT ROWID"""
    )
    for table in ("sample_phases", "sample_order"):
        _append_only(db, table)


@migration
def m014_coding_log_reviewer(db: sqlite_utils.Database) -> None:
    """coding_log indexed by reviewer: the coding app's progress (which works a reviewer has
    confirmed, re-read after each Enter and undo) reads only that reviewer's rows, not the
    whole log (the index covers its grouping by work and field)."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS coding_log_reviewer ON coding_log(reviewer, work_id, field, id)"
    )
