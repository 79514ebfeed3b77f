"""Corpus bundles: one zip another research group can inspect, import and merge, with provenance.

Members (all listed with their SHA-256 in ``manifest.json``)::

    manifest.json      format, bundle/schema version, tool version, group, created_at, members
    protocol.toml      the exporting workspace's protocol (if any)
    searches.jsonl     the PRISMA-S search log
    records.jsonl      every record with its raw payload, ``origin`` and ``work_ref`` (its dedup group)
    merges.jsonl       the exporting group's merge log
    decisions.jsonl    (--decisions) the full decision log, plus notes.jsonl and tags.jsonl
    documents.jsonl    (--with-pdfs) document rows, files under files/<sha256>.<ext>

Import verifies everything before writing anything, then merges in ONE transaction. A record's
identity across groups is ``records.origin`` (``<group>/<record id>``): records already present are
skipped, so importing the same bundle twice changes nothing.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import BundleError
from ..store import Workspace, default_reviewer, migrations, now
from .safezip import Limits, read_members, sha256

FORMAT = "review-bundle"
BUNDLE_VERSION = 1
_GROUP_RE = re.compile(r"^[\w .-]{1,64}$")
_RECORD_SKIP = {"id", "work_id", "search_id", "origin", "group_name"}


def group_name(ws: Workspace, group: str | None = None) -> str:
    g = group or ws.get_meta("group_name") or default_reviewer()
    if not _GROUP_RE.match(g) or "/" in g:
        raise BundleError(f"group name {g!r} must be 1-64 letters, digits, spaces, '.', '-' or '_'")
    return g


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode()


def export_bundle(
    ws: Workspace,
    out: str | Path,
    *,
    group: str | None = None,
    with_pdfs: bool = False,
    decisions: bool = False,
) -> dict[str, Any]:
    """Write a bundle of this workspace to ``out``; returns its manifest."""
    g = group_name(ws, group)
    db = ws.db
    with ws.transaction():
        if ws.get_meta("group_name") is None:
            ws.set_meta("group_name", g)
        # local records get their cross-group identity now, so a round trip is recognised
        db.execute("UPDATE records SET origin = ? || '/' || id WHERE origin IS NULL", [g])
    members: dict[str, bytes] = {}
    proto = ws.protocol()
    if proto is not None:
        members["protocol.toml"] = proto.text.encode()
    members["searches.jsonl"] = _jsonl(list(db.query("SELECT * FROM searches ORDER BY id")))
    members["records.jsonl"] = _jsonl(
        list(db.query("SELECT *, work_id AS work_ref FROM records ORDER BY id"))
    )
    members["merges.jsonl"] = _jsonl(list(db.query("SELECT * FROM merges ORDER BY id")))
    if decisions:
        canon = "COALESCE((SELECT w.merged_into FROM works w WHERE w.id = t.work_id), t.work_id)"
        for table in ("decisions", "notes", "tags"):
            members[f"{table}.jsonl"] = _jsonl(
                list(db.query(f"SELECT t.*, {canon} AS work_ref FROM {table} t ORDER BY t.id"))
            )
    if with_pdfs:
        docs = list(db.query("SELECT * FROM documents ORDER BY id"))
        kept = []
        for d in docs:
            src = ws.files_dir / d["path"] if d["path"] else None
            if src is not None and src.is_file() and d["sha256"]:
                ext = Path(d["path"]).suffix.lower().lstrip(".") or "bin"
                name = f"files/{d['sha256']}.{re.sub(r'[^a-z0-9]', '', ext) or 'bin'}"
                members[name] = src.read_bytes()
                d["bundle_file"] = name
            kept.append(d)
        members["documents.jsonl"] = _jsonl(kept)
    manifest = {
        "format": FORMAT,
        "bundle_version": BUNDLE_VERSION,
        "schema_version": migrations.SCHEMA_VERSION,
        "migrations": [name for name, _ in migrations.MIGRATIONS],
        "tool": "review",
        "tool_version": __version__,
        "group": g,
        "created_at": now(),
        "counts": {
            "records": db.execute("SELECT COUNT(*) FROM records").fetchone()[0],
            "searches": db.execute("SELECT COUNT(*) FROM searches").fetchone()[0],
            "decisions": db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
            if decisions
            else 0,
            "files": sum(1 for m in members if m.startswith("files/")),
        },
        "members": {name: sha256(data) for name, data in sorted(members.items())},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
        for name, data in sorted(members.items()):
            zf.writestr(name, data)
    out.write_bytes(buf.getvalue())
    return manifest


def read_bundle(
    path: str | Path, limits: Limits = Limits()
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Open and verify a bundle (names, sizes, manifest, checksums, schema). Writes nothing."""
    p = str(path)
    members = read_members(path, limits)
    if "manifest.json" not in members:
        raise BundleError("no manifest.json: not a review bundle", path=p)
    try:
        manifest = json.loads(members.pop("manifest.json"))
    except (ValueError, UnicodeDecodeError) as e:
        raise BundleError(f"manifest.json is not valid JSON ({e})", path=p)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError("manifest.json is not a review bundle manifest", path=p)
    if manifest.get("bundle_version", 0) > BUNDLE_VERSION:
        raise BundleError(
            f"bundle format {manifest.get('bundle_version')} is newer than this review understands "
            f"({BUNDLE_VERSION}); upgrade review",
            path=p,
        )
    known = {name for name, _ in migrations.MIGRATIONS}
    newer = [m for m in manifest.get("migrations", []) if m not in known]
    if newer or manifest.get("schema_version", 0) > migrations.SCHEMA_VERSION:
        raise BundleError(
            f"bundle was written by a newer schema ({', '.join(newer) or manifest.get('schema_version')}); "
            "upgrade review to import it",
            path=p,
        )
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        raise BundleError("manifest.json has no member checksums", path=p)
    for name in members:
        if name not in listed:
            raise BundleError(f"member {name!r} is not listed in the manifest (tampered?)", path=p)
    for name, digest in listed.items():
        if name not in members:
            raise BundleError(f"member {name!r} listed in the manifest is missing", path=p)
        if sha256(members[name]) != digest:
            raise BundleError(f"checksum mismatch for {name!r} (corrupt or tampered)", path=p)
    for name in members:
        if name.startswith("files/"):
            stem = Path(name).stem
            if sha256(members[name]) != stem:
                raise BundleError(f"file {name!r} does not match its SHA-256 name", path=p)
        elif name not in {"protocol.toml"} and not name.endswith(".jsonl"):
            raise BundleError(f"unexpected member {name!r}", path=p)
    g = manifest.get("group")
    if not isinstance(g, str) or not _GROUP_RE.match(g) or "/" in g:
        raise BundleError(f"manifest group {g!r} is not a valid group name", path=p)
    return manifest, members


def _rows(members: dict[str, bytes], name: str, path: str) -> list[dict[str, Any]]:
    data = members.get(name)
    if data is None:
        return []
    rows = []
    for i, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise BundleError(f"{name} line {i}: not JSON ({e})", path=path)
        if not isinstance(row, dict):
            raise BundleError(f"{name} line {i}: not a JSON object", path=path)
        rows.append(row)
    return rows


def inspect_bundle(path: str | Path) -> dict[str, Any]:
    manifest, members = read_bundle(path)
    p = str(path)
    records = _rows(members, "records.jsonl", p)
    by_source: dict[str, int] = {}
    for r in records:
        by_source[str(r.get("source"))] = by_source.get(str(r.get("source")), 0) + 1
    return {
        "path": p,
        "sha256": sha256(Path(path).read_bytes()),
        "manifest": {k: v for k, v in manifest.items() if k != "members"},
        "members": {name: len(data) for name, data in members.items()},
        "records_by_source": by_source,
        "works": len({r.get("work_ref") for r in records}),
        "decisions": len(_rows(members, "decisions.jsonl", p)),
    }
