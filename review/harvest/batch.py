"""One batch pipeline for gray literature (`add-pdf`, `add-web`): read every file first, refuse or
skip the bad ones, log one search in the "other" arm, then store each document in its own
transaction (record, file copy, text, pages, country tags). A file whose SHA-256 is already
stored adds nothing; a batch interrupted or failing half-way is logged as such.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FormatError, HarvestError
from ..models import Record
from ..store.records import add_records, start_search
from ..store.workspace import Workspace
from . import documents as docs


@dataclass
class AddResult:
    """What one gray-literature batch did (also logged as a ``searches`` row)."""

    search_id: int | None = None
    added: list[int] = field(default_factory=list)  # record ids
    duplicates: list[str] = field(default_factory=list)  # file paths already stored
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    found: int = 0
    warnings: list[str] = field(default_factory=list)  # "scan.pdf: no text layer: 3 of 3 pages"


@dataclass(frozen=True)
class ReadDocument:
    """One file read by a harvester, ready to store."""

    path: Path
    sha256: str
    record: Record
    kind: str  # documents.kind: pdf | html | md | txt
    text: str
    language: str | None
    meta: dict[str, Any]
    suffix: str | None = None  # file-store suffix (None: keep the file's own)
    pages: tuple[str, ...] | None = None
    countries: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchSpec:
    """How one harvester's batch is logged."""

    what: str  # "PDFs" / "pages" (messages)
    search_kind: str  # searches.kind: pdf | web
    default_kind: str  # organisation | website (a --kind may also say citations)
    tool: str
    tool_version: str | None = None
    skip_existing: bool = False  # web pages: a URL already stored is a duplicate


def resolve_source(
    ws: Workspace, name: str | None, kind: str | None, *, default_kind: str
) -> tuple[str, str]:
    """Source name and kind: --source/--kind, else the protocol's matching source, else defaults."""
    proto = ws.protocol()
    src = proto.source(name) if proto and name else None
    if src is not None and src.arm != "other":
        raise HarvestError(
            f"source {name!r} is in the {src.arm!r} arm; gray literature goes to 'other' "
            "(use a website, organisation or citations source)"
        )
    resolved = kind or (
        src.kind if src and src.kind in {"website", "organisation", "citations"} else default_kind
    )
    return name or ("PDF reports" if default_kind == "organisation" else "Web pages"), resolved


def add_documents(
    ws: Workspace,
    files: Sequence[Path],
    read: Callable[[Path], ReadDocument],
    spec: BatchSpec,
    *,
    source: str | None,
    kind: str | None,
    url: str | None,
    skip_bad: bool,
    log_name: str,
) -> AddResult:
    """Read ``files`` with ``read`` and store them as one logged batch (see module docstring)."""
    result = AddResult()
    seen = docs.known_sha256(ws)
    read_docs: list[ReadDocument] = []
    errors: list[FormatError] = []
    for f in files:
        try:
            if f.is_file() and docs.sha256_file(f) in seen:  # known: not even parsed again
                result.found += 1
                result.duplicates.append(str(f))
                continue
            read_docs.append(read(f))
        except FormatError as e:
            errors.append(e)
            result.failed.append((str(f), str(e)))
    if errors and not skip_bad:
        if len(errors) == 1:
            raise errors[0]
        raise FormatError(
            f"{len(errors)} of {len(files)} {spec.what} are bad ({'; '.join(map(str, errors))}); "
            "fix or remove them, or use --skip-bad to add the good ones"
        )
    src_name, src_kind = resolve_source(ws, source, kind, default_kind=spec.default_kind)
    result.found += len(read_docs)
    result.warnings = [f"{d.path.name}: {w}" for d in read_docs for w in d.warnings]
    result.search_id = start_search(
        ws,
        source=src_name,
        arm="other",
        kind=spec.search_kind,
        query=None,
        file_name=log_name[:2000],
        tool=spec.tool,
        tool_version=spec.tool_version,
        params={"source_kind": src_kind, "url": url, "files": len(files), "failed": result.failed},
    )
    with docs.logged_batch(ws, result.search_id, result):
        for d in read_docs:
            if d.sha256 in seen:
                result.duplicates.append(str(d.path))
                continue
            with ws.transaction():
                ids = add_records(
                    ws, result.search_id, [d.record], skip_existing=spec.skip_existing
                )
                if not ids:
                    result.duplicates.append(str(d.path))
                    continue
                rel = docs.store_file(ws, d.path, d.sha256, d.suffix)
                docs.insert_document(
                    ws,
                    record_id=ids[0],
                    kind=d.kind,
                    path=rel,
                    original_name=d.path.name,
                    sha256=d.sha256,
                    text=d.text,
                    pages=d.pages,
                    language=d.language,
                    meta=d.meta,
                )
                if d.countries:
                    (work_id,) = ws.db.execute(
                        "SELECT work_id FROM records WHERE id = ?", [ids[0]]
                    ).fetchone()
                    docs.add_work_countries(ws, work_id, d.countries, evidence="[[country:]] tag")
            seen.add(d.sha256)
            result.added.extend(ids)
    return result
