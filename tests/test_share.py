"""Sharing between groups: bundles, provenance, idempotent merge, malicious bundles, dual screening."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS, PROTOCOLS

from review import protocol
from review.cli import cli
from review.errors import BundleError
from review.models import Record
from review.share.agreement import (
    agreement,
    cohen_kappa,
    conflicts,
    fleiss_kappa,
    resolve,
    visible_decisions,
)
from review.share.bundle import export_bundle, inspect_bundle
from review.share.merge import import_bundle
from review.store import init
from review.store.decisions import decision_counts, record_decision, resolved_decisions
from review.store.records import add_records, finish_search, start_search


def academic() -> list[Record]:
    out = []
    for line in (CORPUS / "academic.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        out.append(
            Record(
                title=d["title"], abstract=d.get("abstract"), authors=tuple(d.get("authors") or ()),
                year=d.get("year"), doi=d.get("doi"), venue=d.get("venue"), url=d.get("url"),
                source_record_id=d.get("doi") or d["title"], raw=d, raw_format="jsonl",
            )
        )  # fmt: skip
    return out


def group_ws(path: Path, records: list[Record], source: str):
    ws = init(path, protocol.load(PROTOCOLS / "sadc-smart-cities.toml"))
    sid = start_search(ws, source=source, arm="databases", kind="file", file_name="academic.jsonl")
    ids = add_records(ws, sid, records)
    finish_search(ws, sid, records_found=len(records), records_stored=len(ids))
    return ws


def works(ws) -> list[int]:
    return [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]


def dump(ws) -> list[str]:
    return list(ws.db.conn.iterdump())


@pytest.fixture
def two_groups(tmp_path):
    recs = academic()
    lusaka = group_ws(tmp_path / "lusaka.db", recs[:25], "Scopus")
    maputo = group_ws(tmp_path / "maputo.db", recs[15:], "Web of Science")
    for i, w in enumerate(works(lusaka)):
        if i % 3 == 0:
            record_decision(
                lusaka,
                work_id=w,
                stage="title-abstract",
                reviewer="chipo",
                decision="exclude",
                reason="E2",
            )
        else:
            record_decision(
                lusaka, work_id=w, stage="title-abstract", reviewer="chipo", decision="include"
            )
    lusaka.db.execute(
        "INSERT INTO notes (work_id, stage, reviewer, text, created_at) VALUES (1, 'title-abstract', 'chipo', 'check Lusaka', '2026-01-01')"
    )
    lusaka.db.conn.commit()
    return lusaka, maputo, tmp_path


def test_export_inspect_import_with_provenance(two_groups):
    lusaka, maputo, tmp = two_groups
    out = tmp / "lusaka.reviewbundle"
    m = export_bundle(lusaka, out, group="lusaka", decisions=True)
    assert m["counts"]["records"] == 25 and "records.jsonl" in m["members"]
    info = inspect_bundle(out)
    assert info["records_by_source"] == {"Scopus": 25} and info["decisions"] == 25
    before_records = maputo.db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    s = import_bundle(maputo, out)
    assert s["records_added"] == 25 and s["decisions_added"] == 25 and s["notes_added"] == 1
    assert maputo.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == before_records + 25
    rows = list(maputo.db.query("SELECT * FROM records WHERE group_name = 'lusaka'"))
    assert len(rows) == 25 and all(r["origin"].startswith("lusaka/") for r in rows)
    assert {r["source"] for r in rows} == {"Scopus"}
    assert json.loads(rows[0]["raw"])["title"] == rows[0]["title"]  # raw payload travelled
    # the new works take their records' best fields (title, abstract, content hash for embeddings)
    blank = maputo.db.execute(
        "SELECT COUNT(*) FROM works w JOIN records r ON r.work_id = w.id"
        " WHERE r.group_name = 'lusaka' AND (w.title IS NULL OR w.content_hash IS NULL)"
    ).fetchone()[0]
    assert blank == 0
    search = maputo.db.execute(
        "SELECT source, group_name, records_stored FROM searches WHERE group_name = 'lusaka'"
    ).fetchall()
    assert search == [("Scopus", "lusaka", 25)]
    reviewers = {r[0] for r in maputo.db.execute("SELECT DISTINCT reviewer FROM decisions")}
    assert reviewers == {"chipo@lusaka"}
    origins = {r[0] for r in maputo.db.execute("SELECT DISTINCT origin FROM decisions")}
    assert origins == {"bundle:lusaka"}


def test_import_twice_changes_nothing(two_groups):
    lusaka, maputo, tmp = two_groups
    out = tmp / "b.reviewbundle"
    export_bundle(lusaka, out, group="lusaka", decisions=True)
    import_bundle(maputo, out)
    snap = dump(maputo)
    again = import_bundle(maputo, out)
    assert again["already_imported"] is True
    assert dump(maputo) == snap
    # a fresh export of the same content is also a no-op (records known by origin)
    out2 = tmp / "b2.reviewbundle"
    export_bundle(lusaka, out2, group="lusaka", decisions=True)
    s = import_bundle(maputo, out2)
    assert s["records_added"] == 0 and s["decisions_added"] == 0 and s["searches_added"] == 0


def test_round_trip_does_not_duplicate_own_records(two_groups):
    lusaka, maputo, tmp = two_groups
    a = tmp / "a.reviewbundle"
    export_bundle(lusaka, a, group="lusaka", decisions=True)
    import_bundle(maputo, a)
    b = tmp / "m.reviewbundle"
    export_bundle(maputo, b, group="maputo", decisions=True)
    s = import_bundle(lusaka, b)
    assert s["records_added"] == 22  # only Maputo's own records are new to Lusaka
    assert s["records_skipped"] == 25
    assert s["searches_added"] == 1  # Lusaka's own search, relayed back by Maputo, is not copied
    assert {r[0] for r in lusaka.db.execute("SELECT DISTINCT reviewer FROM decisions")} == {"chipo"}


def test_cli_bundle_round(two_groups):
    lusaka, maputo, tmp = two_groups
    out = tmp / "c.reviewbundle"
    r = CliRunner().invoke(
        cli,
        [
            "bundle",
            "export",
            "-o",
            str(out),
            "--group",
            "lusaka",
            "--decisions",
            "--db",
            str(lusaka.path),
        ],
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["bundle", "inspect", str(out)])
    assert r.exit_code == 0 and "lusaka" in r.output and "Scopus" in r.output
    r = CliRunner().invoke(cli, ["bundle", "import", str(out), "--db", str(maputo.path), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["records_added"] == 25
    r = CliRunner().invoke(cli, ["bundle", "import", str(out), "--db", str(maputo.path)])
    assert "already imported" in r.output


def _rezip(src: Path, dst: Path, edit) -> None:
    with zipfile.ZipFile(src) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members = edit(members)
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _tamper(members):
    members["records.jsonl"] = members["records.jsonl"].replace(b"Smart", b"Smurf", 1)  # same size
    return members


def _newer(members):
    m = json.loads(members["manifest.json"])
    m["migrations"].append("m999_from_the_future")
    m["schema_version"] = 999
    members["manifest.json"] = json.dumps(m).encode()
    return members


def _slip(members):
    members["../../evil.jsonl"] = b"{}"
    return members


def _absolute(members):
    members["/tmp/evil.jsonl"] = b"{}"
    return members


def _extra(members):
    members["extra.jsonl"] = b"{}\n"
    return members


@pytest.mark.parametrize(
    "edit, message",
    [(_tamper, "checksum mismatch"), (_newer, "newer schema"), (_slip, "unsafe member"),
     (_absolute, "unsafe member"), (_extra, "not listed")],
    ids=["tampered", "newer-schema", "zip-slip", "absolute", "unlisted"],
)  # fmt: skip
def test_malicious_bundles_leave_workspace_identical(two_groups, edit, message):
    lusaka, maputo, tmp = two_groups
    good = tmp / "good.reviewbundle"
    export_bundle(lusaka, good, group="lusaka", decisions=True)
    bad = tmp / "bad.reviewbundle"
    _rezip(good, bad, edit)
    snap = dump(maputo)
    with pytest.raises(BundleError, match=message):
        import_bundle(maputo, bad)
    assert dump(maputo) == snap
    assert not maputo.files_dir.exists()
    r = CliRunner().invoke(cli, ["bundle", "import", str(bad), "--db", str(maputo.path)])
    assert r.exit_code != 0 and str(bad) in r.output


def test_zip_bomb_symlink_and_corrupt_zip(two_groups):
    _, maputo, tmp = two_groups
    snap = dump(maputo)
    bomb = tmp / "bomb.reviewbundle"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", "{}")
        zf.writestr("records.jsonl", b"\0" * 50_000_000)
    with pytest.raises(BundleError, match="zip bomb"):
        import_bundle(maputo, bomb)
    link = tmp / "link.reviewbundle"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("records.jsonl")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(BundleError, match="symbolic link"):
        import_bundle(maputo, link)
    corrupt = tmp / "corrupt.reviewbundle"
    corrupt.write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(BundleError, match="corrupt"):
        import_bundle(maputo, corrupt)
    assert dump(maputo) == snap


def test_kappa_against_hand_computed_values():
    a = ["include"] * 4 + ["exclude"] * 6
    b = ["include"] * 3 + ["exclude"] * 6 + ["include"]
    # po = 0.8; pe = 0.4*0.4 + 0.6*0.6 = 0.52; kappa = 0.28 / 0.48
    assert cohen_kappa(a, b) == pytest.approx(0.28 / 0.48)
    assert cohen_kappa(a, a) == 1.0
    # Fleiss' classic example (Wikipedia, 10 items, 14 raters, 5 categories): kappa = 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]  # fmt: skip
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=0.001)


def test_dual_screening_agreement_conflicts_and_resolution(ws):
    sid = start_search(ws, source="S", arm="databases", kind="manual")
    add_records(ws, sid, [Record(title=f"Study {i}") for i in range(10)])
    w = works(ws)
    a = ["include"] * 4 + ["exclude"] * 6
    b = ["maybe"] * 3 + ["exclude"] * 6 + ["include"]  # maybe counts as include
    for work, x, y in zip(w, a, b, strict=True):
        record_decision(
            ws,
            work_id=work,
            stage="title-abstract",
            reviewer="ana",
            decision=x,
            reason="E1" if x == "exclude" else None,
        )
        record_decision(
            ws,
            work_id=work,
            stage="title-abstract",
            reviewer="ben",
            decision=y,
            reason="E2" if y == "exclude" else None,
        )
    res = agreement(ws, "title-abstract")
    (pair,) = res["pairs"]
    assert pair["n"] == 10 and pair["agree"] == 8 and pair["percent_agreement"] == 80.0
    assert pair["cohen_kappa"] == pytest.approx(0.5833, abs=1e-4)
    assert "maybe" in res["rule"]
    conf = conflicts(ws, "title-abstract")
    assert [c["work_id"] for c in conf] == [w[3], w[9]]
    # PRISMA counts use resolved decisions only: the two conflicts are not counted yet
    counts = decision_counts(ws)["title-abstract"]
    assert {k: counts[k] for k in ("include", "exclude", "maybe")} == {
        "include": 3,
        "exclude": 5,
        "maybe": 0,
    }
    resolve(
        ws, work_id=w[3], stage="title-abstract", resolver="lead", decision="exclude", reason="E2"
    )
    assert [c["work_id"] for c in conflicts(ws, "title-abstract")] == [w[9]]
    assert resolved_decisions(ws, "title-abstract")[w[3]]["decision"] == "exclude"
    r = CliRunner().invoke(cli, ["agreement", "--json", "--db", str(ws.path)])
    assert json.loads(r.output)["pairs"][0]["cohen_kappa"] == pytest.approx(0.5833, abs=1e-4)
    r = CliRunner().invoke(
        cli, ["resolve", str(w[9]), "--include", "--reviewer", "lead", "--db", str(ws.path)]
    )
    assert r.exit_code == 0
    assert "No conflicts" in CliRunner().invoke(cli, ["conflicts", "--db", str(ws.path)]).output
    # three reviewers -> Fleiss
    for work in w:
        record_decision(ws, work_id=work, stage="title-abstract", reviewer="cy", decision="include")
    assert agreement(ws, "title-abstract")["fleiss"]["n"] == 10


def test_blind_screening_hides_others_until_decided(tmp_path):
    text = (
        (PROTOCOLS / "sadc-smart-cities.toml").read_text().replace("blind = false", "blind = true")
    )
    ws = init(tmp_path / "b.db", protocol.loads(text))
    sid = start_search(ws, source="S", arm="databases", kind="manual")
    add_records(ws, sid, [Record(title="Smart Harare")])
    (w,) = works(ws)
    record_decision(ws, work_id=w, stage="title-abstract", reviewer="ana", decision="include")
    assert visible_decisions(ws, w, "title-abstract", "ben") == []
    record_decision(
        ws, work_id=w, stage="title-abstract", reviewer="ben", decision="exclude", reason="E1"
    )
    assert {d["reviewer"] for d in visible_decisions(ws, w, "title-abstract", "ben")} == {
        "ana",
        "ben",
    }


def test_bundle_with_pdfs_carries_files_and_documents(two_groups):
    from conftest import DATA

    from review.harvest.pdf import add_pdfs

    lusaka, maputo, tmp = two_groups
    add_pdfs(
        lusaka, [DATA / "pdfs" / "2023-06-20-PV.pdf"], source="Municipal and government reports"
    )
    out = tmp / "pdfs.reviewbundle"
    m = export_bundle(lusaka, out, group="lusaka", with_pdfs=True)
    assert m["counts"]["files"] == 1
    s = import_bundle(maputo, out)
    assert s["files_added"] == 1
    doc = maputo.db.execute("SELECT path, sha256, pages, language FROM documents").fetchone()
    assert doc is not None and doc[3] == "fr"
    stored = maputo.files_dir / doc[0]
    import hashlib

    assert hashlib.sha256(stored.read_bytes()).hexdigest() == doc[1]
    # the record of the PDF keeps its arm and source
    row = maputo.db.execute(
        "SELECT arm, source FROM records WHERE file_sha256 = ?", [doc[1]]
    ).fetchone()
    assert row == ("other", "Municipal and government reports")


def test_imported_records_dedup_against_local_works_and_decisions_follow(two_groups):
    from review.dedup.engine import run

    lusaka, maputo, tmp = two_groups
    out = tmp / "d.reviewbundle"
    export_bundle(lusaka, out, group="lusaka", decisions=True)
    import_bundle(maputo, out)
    assert len(works(maputo)) == 22 + 25
    r = run(maputo)
    assert r["active_works"] == 37  # the 10 shared publications are merged across groups
    # every imported decision still counts, on the surviving work
    counts = decision_counts(maputo)["title-abstract"]
    assert counts["include"] + counts["exclude"] == 25
    merged = maputo.db.execute(
        "SELECT COUNT(*) FROM works WHERE active = 0 AND merged_into IS NOT NULL"
    ).fetchone()[0]
    assert merged == 10
    r = CliRunner().invoke(cli, ["bundle", "import", str(out), "--db", str(maputo.path)])
    assert "already imported" in r.output
