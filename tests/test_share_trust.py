"""Bundles from strangers: every attack is a real exported bundle, altered the way a hostile sender
would (checksums recomputed, so only our validation can catch it), then imported."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_share import academic, group_ws, works

from review.cli import cli
from review.errors import BundleError
from review.share.bundle import export_bundle, inspect_bundle
from review.share.merge import import_bundle
from review.store import now
from review.store.decisions import current_decisions, record_decision

TA = "title-abstract"
Rows = list[dict[str, Any]]


@pytest.fixture
def groups(tmp_path: Path):
    """Lusaka (25 records, decisions by chipo, a note, a tag) and Maputo (22 records, whose own
    reviewer ana has decided every work)."""
    recs = academic()
    lusaka = group_ws(tmp_path / "lusaka.db", recs[:25], "Scopus")
    maputo = group_ws(tmp_path / "maputo.db", recs[15:], "Web of Science")
    for i, w in enumerate(works(lusaka)):
        excl = i % 3 == 0
        record_decision(
            lusaka, work_id=w, stage=TA, reviewer="chipo",
            decision="exclude" if excl else "include", reason="E2" if excl else None,
        )  # fmt: skip
    with lusaka.transaction():
        lusaka.db.execute(
            "INSERT INTO notes (work_id, stage, reviewer, text, created_at)"
            " VALUES (1, 'title-abstract', 'chipo', 'check Lusaka', '2026-01-01')"
        )
        lusaka.db.execute(
            "INSERT INTO tags (work_id, tag, reviewer, created_at) VALUES (2, 'sadc', 'chipo', ?)",
            [now()],
        )
    for w in works(maputo):
        record_decision(maputo, work_id=w, stage=TA, reviewer="ana", decision="include")
    with maputo.transaction():
        maputo.set_meta("group_name", "maputo")
    good = tmp_path / "lusaka.reviewbundle"
    export_bundle(lusaka, good, group="lusaka", decisions=True)
    return lusaka, maputo, good, tmp_path


def rebuild(src: Path, dst: Path, edit: Callable[[dict[str, bytes]], None]) -> Path:
    """Alter a bundle's members and recompute every checksum, as anyone can (no signature)."""
    with zipfile.ZipFile(src) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("manifest.sig", None)
    edit(members)
    manifest["members"] = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(members.items())}
    if "sizes" in manifest:
        manifest["sizes"] = {n: len(d) for n, d in sorted(members.items())}
    manifest["bundle_version"] = 1
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return dst


def rows_edit(member: str, fn: Callable[[Rows], None]) -> Callable[[dict[str, bytes]], None]:
    def edit(members: dict[str, bytes]) -> None:
        rows = [json.loads(x) for x in members[member].decode().splitlines() if x.strip()]
        fn(rows)
        members[member] = "".join(json.dumps(r) + "\n" for r in rows).encode()

    return edit


def snapshot(ws) -> tuple[str, list[str], list[tuple[str, str]]]:
    """The workspace file's bytes, its logical content, and every file in its store."""
    ws.db.conn.commit()
    ws.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the main file holds everything committed
    db = hashlib.sha256(Path(ws.path).read_bytes()).hexdigest()
    files = []
    if ws.files_dir.exists():
        for p in sorted(ws.files_dir.rglob("*")):
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            files.append((str(p.relative_to(ws.files_dir)), digest))
    return db, list(ws.db.conn.iterdump()), files


def refused(ws, bundle: Path, *needles: str) -> str:
    before = snapshot(ws)
    with pytest.raises(BundleError) as e:
        import_bundle(ws, bundle)
    assert snapshot(ws) == before
    for n in needles:
        assert n in str(e.value), str(e.value)
    return str(e.value)


def test_forged_local_reviewer_never_becomes_ours(groups):
    _, maputo, good, tmp = groups
    ana_before = current_decisions(maputo, stage=TA, reviewer="ana")

    def forge(rows: Rows) -> None:
        rows[0].update(reviewer="ana@maputo", decision="exclude", reason="E1")
        rows[1].update(reviewer="ana")  # an unqualified name is the sender's own reviewer

    bad = rebuild(good, tmp / "forged.reviewbundle", rows_edit("decisions.jsonl", forge))
    s = import_bundle(maputo, bad)
    assert current_decisions(maputo, stage=TA, reviewer="ana") == ana_before
    imported = {
        r[0] for r in maputo.db.execute("SELECT reviewer FROM decisions WHERE origin != 'local'")
    }
    assert imported == {"chipo@lusaka", "ana@lusaka"}
    assert s["relayed_skipped"] == 1  # lusaka cannot speak for maputo's reviewers
    for table in ("notes", "tags"):
        who = {r[0] for r in maputo.db.execute(f"SELECT reviewer FROM {table}")}
        assert who == {"chipo@lusaka"}


def test_future_dates_are_clamped_to_the_import(groups):
    _, maputo, good, tmp = groups

    def future(rows: Rows) -> None:
        for r in rows:
            r["created_at"] = "2099-01-01T00:00:00+00:00"

    def edit(members: dict[str, bytes]) -> None:
        for name in ("decisions.jsonl", "notes.jsonl", "tags.jsonl", "records.jsonl"):
            rows_edit(name, future)(members)

    bad = rebuild(good, tmp / "future.reviewbundle", edit)
    import_bundle(maputo, bad)
    after = now()
    for table in ("decisions", "notes", "tags", "records"):
        latest = maputo.db.execute(f"SELECT MAX(created_at) FROM {table}").fetchone()[0]
        assert latest <= after, table


def _set(member: str, line: int, **fields: Any) -> Callable[[dict[str, bytes]], None]:
    def fn(rows: Rows) -> None:
        for k, v in fields.items():
            if v is _DROP:
                rows[line - 1].pop(k, None)
            else:
                rows[line - 1][k] = v

    return rows_edit(member, fn)


_DROP = object()


@pytest.mark.parametrize(
    "member, line, fields, field",
    [
        ("decisions.jsonl", 1, {"reason": "ZZ9"}, "reason"),  # line 1 is an exclusion (E2)
        ("decisions.jsonl", 2, {"decision": "yes"}, "decision"),
        ("decisions.jsonl", 2, {"stage": "abstract-only"}, "stage"),
        ("decisions.jsonl", 2, {"reason": "E1"}, "reason"),  # a reason on an include
        ("decisions.jsonl", 3, {"created_at": "yesterday"}, "created_at"),
        ("decisions.jsonl", 3, {"work_ref": 99999}, "work_ref"),
        ("decisions.jsonl", 3, {"reviewer": ""}, "reviewer"),
        ("records.jsonl", 4, {"arm": "bogus"}, "arm"),
        ("records.jsonl", 5, {"source": _DROP}, "source"),
        ("records.jsonl", 5, {"title": {"nested": 1}}, "title"),
        ("records.jsonl", 6, {"year": "twenty"}, "year"),
        ("searches.jsonl", 1, {"kind": "telepathy"}, "kind"),
        ("searches.jsonl", 1, {"arm": "bogus"}, "arm"),
        ("notes.jsonl", 1, {"text": ""}, "text"),
        ("tags.jsonl", 1, {"action": "explode"}, "action"),
    ],
    ids=[
        "unknown-reason", "decision-value", "stage", "reason-on-include", "bad-date",
        "unknown-work", "empty-reviewer", "bogus-arm", "missing-source", "nested-title",
        "year", "search-kind", "search-arm", "empty-note", "tag-action",
    ],
)  # fmt: skip
def test_bad_field_names_member_line_and_field_and_writes_nothing(
    groups, member, line, fields, field
):
    _, maputo, good, tmp = groups
    bad = rebuild(good, tmp / "bad.reviewbundle", _set(member, line, **fields))
    msg = refused(maputo, bad, member, f"line {line}", field)
    assert inspect_bundle(bad)["check"] is None  # without a workspace: no protocol to check against
    assert f"refused: {member} line {line}" in inspect_bundle(bad, maputo)["check"]
    assert "Traceback" not in msg
    r = CliRunner().invoke(cli, ["bundle", "import", str(bad), "--db", str(maputo.path)])
    assert r.exit_code not in (0, None) and member in r.output, r.output
    assert isinstance(r.exception, SystemExit)  # a message, not a traceback


def test_refused_import_with_pdfs_leaves_file_store_identical(groups):
    from conftest import DATA

    from review.harvest.pdf import add_pdfs

    lusaka, maputo, _, tmp = groups
    add_pdfs(
        lusaka, [DATA / "pdfs" / "2023-06-20-PV.pdf"], source="Municipal and government reports"
    )
    with_pdf = tmp / "pdf.reviewbundle"
    export_bundle(lusaka, with_pdf, group="lusaka", decisions=True, with_pdfs=True)
    bad = rebuild(with_pdf, tmp / "bad.reviewbundle", _set("decisions.jsonl", 1, reason="ZZ9"))
    refused(maputo, bad, "decisions.jsonl", "reason")
    bad = rebuild(with_pdf, tmp / "exe.reviewbundle", _set("documents.jsonl", 1, kind="exe"))
    refused(maputo, bad, "documents.jsonl line 1", "kind")
    assert not maputo.files_dir.exists()
    s = import_bundle(maputo, with_pdf)  # the honest bundle still imports, file and all
    assert s["files_added"] == 1


def test_bundle_claiming_our_own_group_is_refused(groups):
    _, maputo, good, tmp = groups

    def claim(members: dict[str, bytes]) -> None:
        pass

    bad = rebuild(good, tmp / "ours.reviewbundle", claim)
    with zipfile.ZipFile(bad) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members["manifest.json"])
    manifest["group"] = "maputo"
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(bad, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    refused(maputo, bad, "maputo", "own group")


def test_bundle_cannot_invent_records_of_the_receiving_group(groups):
    _, maputo, good, tmp = groups
    # maputo's own record ids are maputo/<id>; a stranger cannot add one maputo never had
    bad = rebuild(good, tmp / "mine.reviewbundle", _set("records.jsonl", 3, origin="maputo/99999"))
    refused(maputo, bad, "records.jsonl line 3", "origin", "maputo/99999")


def test_a_bundles_resolution_cannot_overrule_local_reviewers(groups):
    from review.share.agreement import resolve
    from review.store.decisions import resolved_decisions

    lusaka, maputo, _, tmp = groups
    w = works(lusaka)[1]  # chipo included it
    resolve(lusaka, work_id=w, stage=TA, resolver="lead", decision="exclude", reason="E1")
    out = tmp / "resolved.reviewbundle"
    export_bundle(lusaka, out, group="lusaka", decisions=True)
    import_bundle(maputo, out)
    origins = {r[0] for r in maputo.db.execute("SELECT origin FROM decisions WHERE reviewer = 'lead@lusaka'")}  # fmt: skip
    assert origins == {"bundle:lusaka"}  # lusaka's vote here, not a resolution of maputo's
    assert not any(d["origin"] == "resolution" for d in resolved_decisions(maputo, TA).values())
