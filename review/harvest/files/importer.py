"""Store parsed files: one search-log row and one transaction per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import FormatError, ReviewError
from ...models import Record
from ...store.records import (
    StoreResult,
    finish_search,
    previous_file_search,
    start_search,
    store_records,
    update_search,
)
from ...store.workspace import Workspace
from . import ParsedFile, parse_file
from .idempotency import content_sha256, describe


@dataclass
class FileResult:
    path: str
    format: str
    source: str
    search_id: int
    records_found: int
    records_stored: int
    search_ids: list[int] = field(default_factory=list)  # one per database the file names
    warnings: list[str] = field(default_factory=list)
    note: str | None = None  # what was skipped as already stored / stored although repeated
    duplicate_of: int | None = None  # the search that imported the same content before
    stored_by_source: dict[str, int] = field(default_factory=dict)  # per database/source


@dataclass
class ImportReport:
    imported: list[FileResult] = field(default_factory=list)
    bad: list[tuple[str, str]] = field(default_factory=list)  # (path, error message)

    @property
    def records_stored(self) -> int:
        return sum(f.records_stored for f in self.imported)


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files as given; folders become their non-hidden files, recursively and sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.exists():
            out.append(p)
        else:
            raise FormatError("no such file or folder", path=str(p))
    return out


def _parser_version(fmt: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    libs = {"ris": "rispy", "bibtex": "bibtexparser", "xlsx": "openpyxl"}
    lib = libs.get(fmt)
    if lib is None:
        return None
    try:
        return f"{lib} {version(lib)}"
    except PackageNotFoundError:
        return None


def by_database(parsed: ParsedFile, source: str | None) -> dict[str, list[Record]]:
    """The file's records grouped by the source they count under: an explicit ``source`` for
    all, else each record's own database (Ovid names one per record), else the file's source."""
    groups: dict[str, list[Record]] = {}
    for rec in parsed.records:
        groups.setdefault(source or rec.database or parsed.source, []).append(rec)
    return groups or {source or parsed.source: []}


def store_parsed(ws: Workspace, parsed: ParsedFile, *, source: str | None, arm: str) -> FileResult:
    """One file in one transaction: a search row per database the file's records name (PRISMA
    counts records per database, not per file), their records and the final counts."""
    params: dict[str, Any] = {
        "path": str(parsed.path),
        "format": parsed.format,
        "encoding": parsed.encoding,
        "content_sha256": content_sha256(parsed),
    }
    found = stored = 0
    sids: list[int] = []
    per_source: dict[str, int] = {}
    notes: list[str] = []
    groups = by_database(parsed, source)
    with ws.transaction():  # BEGIN IMMEDIATE: a concurrent import of the same file waits here
        # same content: into the named source, or (no --source) into any source, since a source
        # taken from a file name would make a renamed copy look like a new source
        prior = previous_file_search(ws, params["content_sha256"], list(groups) if source else None)
        for src, records in groups.items():
            sid = start_search(
                ws,
                source=src,
                arm=arm,
                kind="file",
                query=None,
                file_name=parsed.path.name,
                api_version=_parser_version(parsed.format),
                params=params,
            )
            if prior is None:  # idempotency: see idempotency.py and README "Importing twice"
                res = store_records(ws, sid, records, match_content=True)
                note = describe(res)
            else:
                res, note = (
                    StoreResult(),
                    (
                        f"already imported: same content as search {prior['id']} "
                        f"({prior['file_name']} into {prior['source']!r}, "
                        f"{prior['started_at'][:10]}); nothing added"
                    ),
                )
            ids = res.ids
            finish_search(ws, sid, records_found=len(records), records_stored=len(ids))
            if note:
                update_search(ws, sid, notes=note)
                notes.append(note if len(groups) == 1 else f"{src}: {note}")
            sids.append(sid)
            per_source[src] = len(ids)
            found, stored = found + len(records), stored + len(ids)
    return FileResult(
        str(parsed.path),
        parsed.format,
        ", ".join(groups),
        sids[0],
        found,
        stored,
        sids,
        list(parsed.warnings),
        note="; ".join(notes) or None,
        duplicate_of=prior["id"] if prior else None,
        stored_by_source=per_source,
    )


def import_files(
    ws: Workspace,
    paths: list[str | Path],
    *,
    source: str | None = None,
    arm: str = "databases",
    skip_bad: bool = False,
    fmt: str | None = None,
) -> ImportReport:
    """Parse every file first; if any is bad, import nothing unless ``skip_bad``.

    Raises FormatError (the file's own error when there is one bad file) so the workspace is
    unchanged; with ``skip_bad`` the good files are imported and the bad ones are reported.
    """
    files = expand_paths(paths)
    if not files:
        raise FormatError("no files to import", path=", ".join(map(str, paths)))
    report = ImportReport()
    good: list[ParsedFile] = []
    errors: list[ReviewError] = []
    for f in files:
        try:
            good.append(parse_file(f, fmt))
        except ReviewError as e:
            errors.append(e)
            report.bad.append((str(f), str(e)))
    if errors and not skip_bad:
        if len(errors) == 1 and len(files) == 1:
            raise errors[0]
        listing = "; ".join(str(e) for e in errors)
        raise FormatError(
            f"{len(errors)} of {len(files)} files are malformed, nothing imported "
            f"(use --skip-bad to import the good ones): {listing}"
        )
    for parsed in good:
        report.imported.append(store_parsed(ws, parsed, source=source, arm=arm))
    return report
