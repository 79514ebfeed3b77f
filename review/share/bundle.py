"""Corpus bundles: one zip another research group can inspect, import and merge, with provenance.

Members (all listed with their SHA-256 and size in ``manifest.json``)::

    manifest.json      format, bundle/schema version, tool version, group, created_at, members, sizes
    manifest.sig       (when the group has a key) Ed25519 signature of manifest.json (see keys.py)
    protocol.toml      the exporting workspace's protocol (if any)
    searches.jsonl     the PRISMA-S search log
    records.jsonl      every record with its raw payload, ``origin`` and ``work_ref`` (its dedup group)
    merges.jsonl       the exporting group's merge log
    decisions.jsonl    (--decisions) the full decision log, plus notes.jsonl and tags.jsonl
    coding_*.jsonl     (--coding) suggestion runs, their suggestions and the coding log (coding.py)
    documents.jsonl    (--with-pdfs) document rows, files under files/<sha256>.<ext>

Reading a bundle (:func:`open_bundle`) checks, in this order and before decompressing anything
but the manifest and signature: the zip directory (names, links, sizes against the limits), the
manifest (format, versions, every member listed with the size the zip declares), the expansion
ratios, the signature; only then are members streamed to a temporary directory, each checked
against its size and SHA-256. Import (merge.py) validates every row before writing anything.
A record's identity across groups is ``records.origin`` (``<group>/<record id>``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .. import __version__
from ..errors import BundleError
from ..store import Workspace, default_reviewer, migrations, now
from .keys import Signature, load_private_key, signature_doc, verify
from .safezip import Limits, SafeZip, sha256_file

FORMAT = "review-bundle"
BUNDLE_VERSION = 1  # unsigned bundles (readable by every review that reads bundles)
SIGNED_VERSION = 2  # signed: older review refuses them as "newer" rather than "tampered"
_GROUP_RE = re.compile(r"^\w[\w .-]{0,63}$")
_RECORD_SKIP = {"id", "work_id", "search_id", "origin", "group_name"}
_UNLISTED = {"manifest.json", "manifest.sig"}
_MEMBER_RE = re.compile(
    r"^(protocol\.toml|[a-z0-9_]{1,40}\.jsonl|files/[0-9a-f]{64}\.[a-z0-9]{1,8})$"
)


def group_name(ws: Workspace, group: str | None = None) -> str:
    g = group or ws.get_meta("group_name") or default_reviewer()
    if not valid_group(g):
        raise BundleError(
            f"group name {g!r} must be 1-64 letters, digits, spaces, '.', '-' or '_', "
            "starting with a letter or digit"
        )
    return g


def valid_group(g: Any) -> bool:
    return isinstance(g, str) and bool(_GROUP_RE.match(g)) and "@" not in g


class _Member:
    """A zip member being written: hashes and counts what goes through it."""

    def __init__(self, zf: zipfile.ZipFile, name: str):
        self.name = name
        self.fh: IO[bytes] = zf.open(name, "w", force_zip64=True)
        self.h = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.h.update(data)
        self.size += len(data)
        self.fh.write(data)


def _write_rows(zf: zipfile.ZipFile, name: str, rows: Iterable[dict[str, Any]]) -> _Member:
    m = _Member(zf, name)
    for r in rows:
        m.write((json.dumps(r, ensure_ascii=False, default=str) + "\n").encode())
    m.fh.close()
    return m


def export_bundle(
    ws: Workspace,
    out: str | Path,
    *,
    group: str | None = None,
    with_pdfs: bool = False,
    decisions: bool = False,
    sign: bool = True,
    coding: bool = False,
) -> dict[str, Any]:
    """Write a bundle of this workspace to ``out`` (signed when the group has a key on this
    machine and ``sign``); returns its manifest plus ``signed_by`` (the key fingerprint)."""
    g = group_name(ws, group)
    key = load_private_key(g) if sign else None
    db = ws.db
    with ws.transaction():
        if ws.get_meta("group_name") is None:
            ws.set_meta("group_name", g)
        # local records get their cross-group identity now, so a round trip is recognised
        db.execute("UPDATE records SET origin = ? || '/' || id WHERE origin IS NULL", [g])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    written: list[_Member] = []
    n_files = 0
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            proto = ws.protocol()
            if proto is not None:
                m = _Member(zf, "protocol.toml")
                m.write(proto.text.encode())
                m.fh.close()
                written.append(m)
            q = db.query
            written.append(
                _write_rows(zf, "searches.jsonl", q("SELECT * FROM searches ORDER BY id"))
            )
            written.append(_write_rows(zf, "records.jsonl", q("SELECT *, work_id AS work_ref FROM records ORDER BY id")))  # fmt: skip
            written.append(_write_rows(zf, "merges.jsonl", q("SELECT * FROM merges ORDER BY id")))
            if decisions:
                canon = "COALESCE((SELECT w.merged_into FROM works w WHERE w.id = t.work_id), t.work_id)"
                for table in ("decisions", "notes", "tags"):
                    sql = f"SELECT t.*, {canon} AS work_ref FROM {table} t ORDER BY t.id"
                    written.append(_write_rows(zf, f"{table}.jsonl", q(sql)))
            if coding:
                from .coding import export_rows

                for member, rows in export_rows(ws):
                    written.append(_write_rows(zf, member, rows))
            if with_pdfs:
                docs, files = [], {}
                for d in q("SELECT * FROM documents ORDER BY id"):
                    src = ws.files_dir / d["path"] if d["path"] else None
                    if src is not None and src.is_file() and d["sha256"]:
                        ext = re.sub(r"[^a-z0-9]", "", Path(d["path"]).suffix.lower())[:8] or "bin"
                        d["bundle_file"] = f"files/{d['sha256']}.{ext}"
                        files[d["bundle_file"]] = src
                    docs.append(d)
                written.append(_write_rows(zf, "documents.jsonl", docs))
                for name, src in sorted(files.items()):
                    m = _Member(zf, name)
                    with open(src, "rb") as fh:
                        while chunk := fh.read(1 << 20):
                            m.write(chunk)
                    m.fh.close()
                    written.append(m)
                    n_files += 1
            count = lambda t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: E731
            manifest = {
                "format": FORMAT,
                "bundle_version": SIGNED_VERSION if key else BUNDLE_VERSION,
                "schema_version": migrations.SCHEMA_VERSION,
                "migrations": [name for name, _ in migrations.MIGRATIONS],
                "tool": "review",
                "tool_version": __version__,
                "group": g,
                "created_at": now(),
                "counts": {
                    "records": count("records"),
                    "searches": count("searches"),
                    "decisions": count("decisions") if decisions else 0,
                    "files": n_files,
                    "codes": count("coding_log") if coding else 0,
                    "coding_runs": count("coding_runs") if coding else 0,
                },
                "members": {m.name: m.h.hexdigest() for m in sorted(written, key=lambda m: m.name)},
                "sizes": {m.name: m.size for m in sorted(written, key=lambda m: m.name)},
            }
            text = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
            zf.writestr("manifest.json", text)
            if key is not None:
                zf.writestr("manifest.sig", signature_doc(key, text, g))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    if key is not None:
        from .keys import _raw_public, fingerprint

        manifest["signed_by"] = fingerprint(_raw_public(key))
    return manifest


@dataclass
class Bundle:
    """A verified bundle, its members extracted to ``dir`` (removed when the context exits)."""

    path: str
    sha256: str
    manifest: dict[str, Any]
    signature: Signature
    dir: Path
    sizes: dict[str, int] = field(default_factory=dict)
    line_limit: int = Limits().max_line_bytes

    def file(self, name: str) -> Path | None:
        return self.dir / name if name in self.sizes else None

    def rows(self, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line number, object) for each line of a JSONL member, streamed."""
        p = self.file(name)
        if p is None:
            return
        with open(p, "rb") as fh:
            i = 0
            while line := fh.readline(self.line_limit + 1):
                i += 1
                if len(line) > self.line_limit:
                    raise BundleError(f"{name} line {i}: longer than {self.line_limit} bytes", path=self.path)  # fmt: skip
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except (ValueError, UnicodeDecodeError) as e:
                    raise BundleError(f"{name} line {i}: not JSON ({e})", path=self.path)
                if not isinstance(row, dict):
                    raise BundleError(f"{name} line {i}: not a JSON object", path=self.path)
                yield i, row


def _check_manifest(z: SafeZip, text: bytes) -> dict[str, Any]:
    p = z.path
    try:
        manifest = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise BundleError(f"manifest.json is not valid JSON ({e})", path=p)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError("manifest.json is not a review bundle manifest", path=p)
    version = manifest.get("bundle_version", 0)
    if not isinstance(version, int) or version > SIGNED_VERSION:
        raise BundleError(
            f"bundle format {version} is newer than this review understands ({SIGNED_VERSION}); "
            "upgrade review",
            path=p,
        )
    known = {name for name, _ in migrations.MIGRATIONS}
    listed_migrations = manifest.get("migrations", [])
    schema = manifest.get("schema_version", 0)
    if not isinstance(listed_migrations, list) or not isinstance(schema, int):
        raise BundleError("manifest.json: migrations / schema_version malformed", path=p)
    newer = [str(m) for m in listed_migrations if m not in known]
    if newer or schema > migrations.SCHEMA_VERSION:
        raise BundleError(
            f"bundle was written by a newer schema ({', '.join(newer) or schema}); "
            "upgrade review to import it",
            path=p,
        )
    if not valid_group(manifest.get("group")):
        raise BundleError(
            f"manifest group {manifest.get('group')!r} is not a valid group name", path=p
        )
    listed = manifest.get("members")
    if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
        raise BundleError("manifest.json has no member checksums", path=p)
    sizes = manifest.get("sizes", {})
    if not isinstance(sizes, dict):
        raise BundleError("manifest.json: sizes is not a table", path=p)
    for name in z.infos:
        if name not in listed and name not in _UNLISTED:
            raise BundleError(f"member {name!r} is not listed in the manifest (tampered?)", path=p)
    for name in listed:
        if name in _UNLISTED or name not in z.infos:
            raise BundleError(f"member {name!r} listed in the manifest is missing", path=p)
        if name in sizes and sizes[name] != z.size(name):
            raise BundleError(
                f"member {name!r}: the manifest gives size {sizes[name]!r}, the zip {z.size(name)}"
                " (tampered?)",
                path=p,
            )
    z.check_ratios()
    for name, digest in listed.items():
        if not _MEMBER_RE.match(name):
            raise BundleError(f"unexpected member {name!r}", path=p)
        if name.startswith("files/") and Path(name).stem != digest:
            raise BundleError(f"file {name!r} does not match its SHA-256 name", path=p)
    return manifest


@contextlib.contextmanager
def open_bundle(
    path: str | Path, ws: Workspace | None = None, limits: Limits = Limits()
) -> Iterator[Bundle]:
    """Verify a bundle and extract it to a temporary directory (see the module docstring).
    ``ws`` supplies the trusted keys the signature is checked against. Writes nothing to it."""
    p = str(path)
    with SafeZip(path, limits) as z:
        if "manifest.json" not in z.infos:
            raise BundleError("no manifest.json: not a review bundle", path=p)
        text = z.read_small("manifest.json")
        manifest = _check_manifest(z, text)
        sig = z.read_small("manifest.sig", 64 * 1024) if "manifest.sig" in z.infos else None
        signature = verify(text, sig, manifest["group"], ws, p)
        digest = sha256_file(path)
        tmp = Path(tempfile.mkdtemp(prefix="review-bundle-"))
        try:
            for name, member_digest in manifest["members"].items():
                z.extract(name, tmp / name, member_digest)
            sizes = {name: z.size(name) for name in manifest["members"]}
            yield Bundle(p, digest, manifest, signature, tmp, sizes, limits.max_line_bytes)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def inspect_bundle(path: str | Path, ws: Workspace | None = None) -> dict[str, Any]:
    """What a bundle holds, verified (signature checked against ``ws``'s trusted keys)."""
    from .index import Index

    with open_bundle(path, ws) as b:
        check = None
        if ws is not None:  # would an import into ws accept every row? (writes nothing)
            from .merge import _group, _validate

            try:
                _validate(ws, b, _group(ws, b, None)).index.close()
                check = "every row is valid for this workspace"
            except BundleError as e:
                check = f"import would be refused: {e.message}"
        idx = Index(b.dir / ".inspect-index.sqlite")
        try:
            for _, r in b.rows("records.jsonl"):
                idx.count_source(str(r.get("source")))
                idx.add_ref(hash(str(r.get("work_ref"))))
            return {
                "path": b.path,
                "sha256": b.sha256,
                "manifest": {k: v for k, v in b.manifest.items() if k not in ("members", "sizes")},
                "signature": b.signature.as_dict(),
                "members": dict(b.sizes),
                "records_by_source": idx.sources(),
                "works": idx.refs(),
                "decisions": sum(1 for _ in b.rows("decisions.jsonl")),
                "codes": sum(1 for _ in b.rows("coding_log.jsonl")),
                "coding_runs": sum(1 for _ in b.rows("coding_runs.jsonl")),
                "check": check,
            }
        finally:
            idx.close()
