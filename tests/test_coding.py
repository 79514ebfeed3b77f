"""Coding: the codebook in the protocol, the append-only coding log, agreement, exports and the
synthesis -- on a real workspace built from the demo corpus (no model: suggestion runs are
stored through ``log_run``, the function ``review suggest`` stores its own with)."""

from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS, PROTOCOLS

from review import protocol
from review.cli import cli
from review.coding import CodingError, agreement, export, store
from review.coding.scope import select
from review.coding.suggest import Suggestion, latest, log_run
from review.coding.synthesis import write as write_synthesis
from review.errors import ProtocolError
from review.harvest.files.importer import import_files
from review.harvest.web import add_web
from review.store import Workspace, init

PAGES = [
    "blog_a_day_in_a_life_of_waste_collectors_at_lusaka_and_ndola_dumpsites.md",
    "blog_moving_from_access_to_accessibility_the_deception_of_the_digital_divide_in_development.md",
    "blog_reconsidering_government_through_five_new_e-governance_ideas.md",
]
OPTS = ("sociopolitical", "technological", "governance", "environmental", "economic")


def build(db: Path) -> Workspace:
    """The demo protocol, its 37 academic records and three UNDP pages (full text)."""
    ws = init(db, protocol.load(PROTOCOLS / "sadc-smart-cities.toml"))
    import_files(ws, [CORPUS / "academic.jsonl"], source="Academic records (demo)")
    add_web(ws, [CORPUS / "gray" / "undp" / p for p in PAGES], source="UNDP Accelerator Labs")
    return ws


@pytest.fixture
def cws(tmp_path: Path):
    w = build(tmp_path / "coding.db")
    yield w
    w.close()


def work_of_page(ws: Workspace, name: str) -> int:
    return ws.db.execute(
        "SELECT work_id FROM documents WHERE original_name = ?", [name]
    ).fetchone()[0]


def fake_run(ws: Workspace, yes: dict[int, tuple[str, ...]], method: str = "zero-shot") -> int:
    """A suggestion run: options in ``yes`` scored 0.8 (suggested), the others 0.2."""
    sugg = [
        Suggestion(wid, "challenges", c, 0.8 if c in opts else 0.2, c in opts,
                   f"evidence for {c} in work {wid}.", "abstract")
        for wid, opts in yes.items()
        for c in OPTS
    ]  # fmt: skip
    return log_run(ws, sugg, method, "challenges", select(ws, "all"), {"test": True})


# -- the codebook ---------------------------------------------------------------------------------
def test_demo_codebook() -> None:
    p = protocol.load(PROTOCOLS / "sadc-smart-cities.toml")
    f = p.coding_field("challenges")
    assert f is not None and f.kind == "multi" and f.codes == OPTS
    assert "digital divide as a social gap" in f.description("sociopolitical")
    assert [(x.name, x.kind) for x in p.codebook[1:]] == [
        ("city", "text"),
        ("study_countries", "countries"),
    ]


BASE = """[review]
title = "t"
question = "q"
[[criteria.inclusion]]
code = "I1"
text = "in"
[[criteria.exclusion]]
code = "E1"
text = "out"
"""


@pytest.mark.parametrize(
    ("coding", "message", "line"),
    [
        ('[[coding.fields]]\nname = "x"\nkind = "many"\n', "unknown kind 'many'", "12"),
        ('[[coding.fields]]\nname = "x"\nkind = "multi"\n', "needs [coding.fields.options]", None),
        (
            '[[coding.fields]]\nname = "x"\nkind = "text"\n[coding.fields.options]\na = "b"\n',
            "takes no options",
            None,
        ),
        (
            '[[coding.fields]]\nname = "x"\nkind = "text"\n[[coding.fields]]\nname = "x"\nkind = "text"\n',
            "duplicate coding field 'x'",
            None,
        ),
        (
            '[[coding.fields]]\nname = "x"\nkind = "multi"\n[coding.fields.options]\na = ""\n',
            "must be a description",
            None,
        ),
        (
            '[[coding.fields]]\nname = "x"\nkind = "multi"\nthreshold = 1.5\n'
            '[coding.fields.options]\na = "b"\n',
            "a similarity between 0 and 1",
            None,
        ),
        (
            '[[coding.fields]]\nname = "x"\nkind = "multi"\nthreshold = "high"\n'
            '[coding.fields.options]\na = "b"\n',
            "a similarity between 0 and 1",
            None,
        ),
        (
            '[[coding.fields]]\nname = "x"\nkind = "text"\nthreshold = 0.4\n',
            "only multi and single fields take a threshold",
            None,
        ),
    ],
)
def test_bad_codebook_names_the_place(coding: str, message: str, line: str | None) -> None:
    with pytest.raises(ProtocolError) as e:
        protocol.loads(BASE + coding, path="p.toml")
    assert message in str(e.value)
    assert str(e.value).startswith("p.toml")
    if line:
        assert e.value.where == line


def test_field_threshold_is_read_and_defaults_to_none() -> None:
    opts = '[coding.fields.options]\na = "b"\n'
    p = protocol.loads(
        BASE + '[[coding.fields]]\nname = "x"\nkind = "multi"\nthreshold = 0.42\n' + opts
        + '[[coding.fields]]\nname = "y"\nkind = "single"\n' + opts,
        path="p.toml",
    )  # fmt: skip
    assert [f.threshold for f in p.codebook] == [0.42, None]


# -- the coding log -------------------------------------------------------------------------------
def test_coding_error_is_in_the_error_tree() -> None:
    """CodingError lives in review.errors beside the other stages' errors (a ReviewError, exit 1);
    ``from review.coding import CodingError`` still works and names the same class."""
    import review.errors as errors

    assert errors.CodingError is CodingError
    assert issubclass(CodingError, errors.ReviewError) and CodingError.exit_code == 1
    assert "CodingError" in (errors.__doc__ or "")


def test_log_is_append_only_and_checked(cws: Workspace) -> None:
    wid = work_of_page(cws, PAGES[0])
    rid = store.record(cws, wid, "challenges", "ana", ["economic", "environmental"], "draft")
    with pytest.raises(sqlite3.IntegrityError):
        cws.db.execute("UPDATE coding_log SET value = '[]' WHERE id = ?", [rid])
    with pytest.raises(sqlite3.IntegrityError):
        cws.db.execute("DELETE FROM coding_log WHERE id = ?", [rid])
    before = cws.db.execute("SELECT COUNT(*) FROM coding_log").fetchone()[0]
    for bad in (["cultural"], "economic,foo"):
        with pytest.raises(CodingError, match="unknown option"):
            store.record(cws, wid, "challenges", "ana", bad)
    with pytest.raises(CodingError, match="no coding field 'topics'"):
        store.record(cws, wid, "topics", "ana", ["x"])
    with pytest.raises(CodingError, match="no work with id 999999"):
        store.record(cws, 999999, "challenges", "ana", ["economic"])
    assert cws.db.execute("SELECT COUNT(*) FROM coding_log").fetchone()[0] == before
    # codebook order, once each; countries by name or code
    store.record(cws, wid, "challenges", "ana", ["environmental", "economic", "environmental"])
    assert store.work_codes(cws, wid, "ana")["challenges"].value == ["environmental", "economic"]
    store.record(cws, wid, "study_countries", "ana", ["Zambia", "za"])
    assert store.work_codes(cws, wid, "ana")["study_countries"].value == ["ZA", "ZM"]


def test_undo_and_history(cws: Workspace) -> None:
    wid = work_of_page(cws, PAGES[1])
    a = store.record(cws, wid, "challenges", "ana", ["technological"], "draft")
    b = store.record(cws, wid, "challenges", "ana", ["technological", "economic"], "draft")
    assert store.work_codes(cws, wid, "ana")["challenges"].value == ["technological", "economic"]
    c = store.undo(cws, b)
    assert c is not None and c.value == ["technological"] and c.status == "draft"
    assert store.undo(cws, a) is None  # the first change: undone to nothing
    assert "challenges" not in store.work_codes(cws, wid, "ana")
    h = store.history(cws, wid)
    assert [r.status for r in h] == ["draft", "draft", "draft", "retract"]
    # the CLI undo takes the reviewer's latest change not undone yet
    store.record(cws, wid, "city", "ana", "Cape Town")
    c2 = store.undo(cws, reviewer="ana")
    assert c2 is None and "city" not in store.work_codes(cws, wid, "ana")


def test_confirmed_conflicts_resolution_and_kappa(cws: Workspace) -> None:
    ids = [work_of_page(cws, p) for p in PAGES]
    ana = [["economic", "environmental"], ["sociopolitical", "technological"], ["governance"]]
    ben = [["economic", "environmental"], ["sociopolitical", "economic"], ["governance"]]
    for wid, a, b in zip(ids, ana, ben, strict=True):
        store.record(cws, wid, "challenges", "ana", a)
        store.record(cws, wid, "challenges", "ben", b)
    conf = store.confirmed(cws, "challenges")
    assert set(conf) == {(ids[0], "challenges"), (ids[2], "challenges")}
    assert conf[(ids[0], "challenges")].reviewers == ("ana", "ben")
    (c,) = store.conflicts(cws, "challenges")
    assert c["work_id"] == ids[1] and c["codes"]["ben"] == ["sociopolitical", "economic"]
    ag = agreement.agreement(cws, "challenges")
    (pair,) = ag["pairs"]
    assert pair["n"] == 3
    assert pair["options"]["sociopolitical"]["kappa"] == 1.0
    assert pair["options"]["governance"]["kappa"] == 1.0
    # technological: ana yes/no/no vs ben no/no/no -> po 2/3, pe = (1/3*0 + 2/3*1) = 2/3 -> 0
    assert pair["options"]["technological"]["kappa"] == 0.0
    # economic: ana [1,0,0] ben [1,1,0] -> po 2/3, pe = 1/3*2/3 + 2/3*1/3 = 4/9 -> 0.4
    assert pair["options"]["economic"]["kappa"] == pytest.approx(0.4, abs=1e-4)
    store.resolve(cws, ids[1], "challenges", ["sociopolitical", "technological"], "cleo")
    assert store.conflicts(cws, "challenges") == []
    r = store.confirmed(cws, "challenges")[(ids[1], "challenges")]
    assert r.resolved and r.value == ["sociopolitical", "technological"]
    # a resolution is not a coder's vote
    assert agreement.agreement(cws, "challenges")["pairs"][0]["reviewers"] == ["ana", "ben"]


# -- suggestions and exports ----------------------------------------------------------------------
def test_runs_are_kept_and_latest_wins(cws: Workspace) -> None:
    wid = work_of_page(cws, PAGES[0])
    r1 = fake_run(cws, {wid: ("environmental",)})
    r2 = fake_run(cws, {wid: ("economic",)})
    assert r2 > r1
    assert cws.db.execute("SELECT COUNT(*) FROM coding_suggestions").fetchone()[0] == 10
    rows = latest(cws, [wid])[(wid, "challenges")]
    assert {r["run_id"] for r in rows} == {r2}
    assert [r["value"] for r in rows if r["suggested"]] == ["economic"]


def test_codes_export_statuses(cws: Workspace, tmp_path: Path) -> None:
    a, b = (work_of_page(cws, p) for p in PAGES[:2])
    fake_run(cws, {a: ("environmental", "economic"), b: ("technological",)})
    store.record(cws, b, "challenges", "ana", ["sociopolitical", "technological"])
    sug = export.rows(cws, "suggested", "challenges")
    assert [(r["work_id"], r["value"]) for r in sug] == [
        (a, "environmental"), (a, "economic"), (b, "technological"),
    ]  # fmt: skip
    con = export.rows(cws, "confirmed", "challenges")
    assert [(r["work_id"], r["value"], r["reviewer"]) for r in con] == [
        (b, "sociopolitical", "ana"), (b, "technological", "ana"),
    ]  # fmt: skip
    best = export.rows(cws, "best", "challenges")
    assert [(r["work_id"], r["value"], r["status"]) for r in best] == [
        (a, "environmental", "suggested"), (a, "economic", "suggested"),
        (b, "sociopolitical", "confirmed"), (b, "technological", "confirmed"),
    ]  # fmt: skip
    out = tmp_path / "codes.csv"
    res = CliRunner().invoke(
        cli, ["codes", "--format", "csv", "-o", str(out), "--status", "best", "--db", str(cws.path)]
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["work_id", "field", "value", "status", "score", "evidence", "reviewer"]
    assert {r["status"] for r in rows} == {"suggested", "confirmed"}
    assert rows[0]["evidence"] == f"abstract: evidence for environmental in work {a}."


def test_cli_code_set_resolve_and_agreement(cws: Workspace) -> None:
    db = str(cws.path)
    wid = work_of_page(cws, PAGES[2])
    run = CliRunner()
    for who, val in (("ana", "governance,technological"), ("ben", "governance")):
        r = run.invoke(cli, ["code", "--work", str(wid), "--set", f"challenges={val}",
                             "--set", "city=Windhoek", "--reviewer", who, "--db", db])  # fmt: skip
        assert r.exit_code == 0, r.output
    r = run.invoke(cli, ["codes", "--conflicts", "--db", db])
    assert f"#{wid}" in r.output and "ben: ['governance']" in r.output
    r = run.invoke(cli, ["agreement", "--coding", "--db", db])
    assert r.exit_code == 0, r.output
    assert "technological" in r.output and "kappa" in r.output
    r = run.invoke(cli, ["code", "--work", str(wid), "--set", "challenges=governance",
                         "--resolve", "--reviewer", "cleo", "--db", db])  # fmt: skip
    assert r.exit_code == 0 and "resolution" in r.output
    assert "No coding conflicts" in run.invoke(cli, ["codes", "--conflicts", "--db", db]).output
    bad = run.invoke(cli, ["code", "--work", str(wid), "--set", "challenges=cultural",
                           "--reviewer", "ana", "--db", db])  # fmt: skip
    assert bad.exit_code == 1 and "unknown option 'cultural'" in bad.output


# -- synthesis ------------------------------------------------------------------------------------
def test_synthesis_counts_confirmed_share_and_each_country_once(
    cws: Workspace, tmp_path: Path
) -> None:
    from review.themes import regions

    ids = [work_of_page(cws, p) for p in PAGES]
    regions.detect(cws, ids)
    fake_run(
        cws, {ids[0]: ("environmental", "economic"), ids[1]: ("economic",), ids[2]: ("governance",)}
    )
    store.record(cws, ids[2], "study_countries", "ana", ["BW"])  # in SADC and in SACU
    out = tmp_path / "syn"
    r1 = write_synthesis(cws, out)
    assert r1.n_confirmed == 0
    html1 = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html1 and ".png'" not in html1  # self-contained
    store.record(cws, ids[1], "challenges", "ana", ["economic", "sociopolitical"])
    store.record(cws, ids[2], "challenges", "ana", ["governance"])
    r2 = write_synthesis(cws, out)
    assert r2.n_confirmed == 2
    rows = list(csv.DictReader((out / "by_country.csv").open(encoding="utf-8")))
    bw = [r for r in rows if r["country"] == "BW"]
    assert bw and {r["region"] for r in bw} == {"SADC"}  # once, under its first region
    reg = list(csv.DictReader((out / "by_region.csv").open(encoding="utf-8")))
    assert {r["region"] for r in reg if r["option"] == "governance"} == {"SADC", "SACU"}
    econ = [r for r in reg if r["option"] == "economic" and r["region"] == "SADC"]
    assert sum(int(r["works"]) for r in econ) == 2 and sum(int(r["confirmed"]) for r in econ) == 1
    html2 = (out / "report.html").read_text(encoding="utf-8")
    assert html2.count("BW Botswana") == 1
    # each country row ends with its works in scope, the denominator a reader needs
    assert re.search(
        r"BW Botswana</td>(<td class='n'>[^<]*</td>){5}<td class='n'>1</td></tr>", html2
    )
    from review.coding.synthesis import collect
    from review.coding.synthesis_report import row_label

    works = collect(cws, cws.require_protocol().coding_field("challenges"))
    assert row_label(works, "SADC", "BW") == "SADC · BW Botswana (1 work)"
    assert "2 confirmed by a reviewer" in html2 and "(1 ✓)" in html2
    ev = list(csv.DictReader((out / "evidence.csv").open(encoding="utf-8")))
    assert {"work_id", "countries", "year", "option", "quote"} <= set(ev[0])
    assert any(r["option"] == "sociopolitical" and r["status"] == "confirmed" for r in ev)


def test_pdf_sentences_carry_their_page(cws: Workspace, tmp_path: Path) -> None:
    from test_screen import make_pdf

    from review.coding.text import sentences
    from review.harvest.pdf import add_pdfs

    pdf = make_pdf(
        tmp_path / "lusaka-report.pdf",
        ["Lusaka City Council smart city report.", "Flooding damaged the drainage in 2023."],
    )
    add_pdfs(cws, [pdf], source="Municipal and government reports")
    wid = cws.db.execute(
        "SELECT work_id FROM documents WHERE original_name = ?", [pdf.name]
    ).fetchone()[0]
    got = {s.text: s for s in sentences(cws, [wid])[wid]}
    s = got["Flooding damaged the drainage in 2023."]
    assert s.page == 2 and s.place == "p. 2" and s.document_id is not None
    # the page travels with a suggestion into the export's evidence
    log_run(cws, [Suggestion(wid, "challenges", "environmental", 0.9, True, s.text, s.place, s.page,
                             s.document_id)], "zero-shot", "challenges", select(cws, "all"), {})  # fmt: skip
    (row,) = export.rows(cws, "suggested", "challenges", [wid])
    assert row["evidence"] == "p. 2: Flooding damaged the drainage in 2023."


def test_codes_follow_a_merged_work(cws: Workspace) -> None:
    from review.dedup.merges import merge_works

    a, b = (work_of_page(cws, p) for p in PAGES[:2])
    store.record(cws, b, "challenges", "ana", ["technological"])
    merge_works(cws, a, [(b, "manual", None)], actor="test")
    assert store.work_codes(cws, a, "ana")["challenges"].value == ["technological"]
    assert (a, "challenges") in store.confirmed(cws, "challenges")
    assert [r["work_id"] for r in export.rows(cws, "confirmed", "challenges")] == [a]


def test_current_is_the_latest_row_of_each_work_field_reviewer(cws: Workspace) -> None:
    """current() reads only the latest row per (final work, field, reviewer) in SQL; it must equal
    folding the whole history in order (merges followed, retracts left out)."""
    from review.dedup.merges import merge_works

    a, b, c = (work_of_page(cws, p) for p in PAGES)
    store.record(cws, b, "challenges", "ana", ["technological"])
    store.record(cws, a, "challenges", "ana", ["economic"])  # a's row is later than b's
    store.record(cws, a, "challenges", "ben", ["governance"], "draft")
    store.record(cws, c, "challenges", "ben", ["economic"])
    r = store.record(cws, c, "city", "ben", "Ndola")
    store.undo(cws, r)  # a retract: no current city code for ben
    store.record(cws, b, "city", "ana", "Lusaka")
    merge_works(cws, a, [(b, "manual", None)], actor="test")
    store.record(cws, b, "challenges", "ben", ["environmental"])  # on the absorbed work: a's
    folded: dict[tuple[int, str, str], store.Code] = {}
    for row in store.history(cws):
        folded[(row.work_id, row.field, row.reviewer)] = row
    want = {k: v for k, v in folded.items() if v.status != "retract"}
    assert store.current(cws) == want
    assert store.current(cws)[(a, "challenges", "ana")].value == ["economic"]
    assert store.current(cws)[(a, "challenges", "ben")].value == ["environmental"]
    assert (c, "city", "ben") not in store.current(cws)
    assert store.current(cws, [c], "challenges") == {
        k: v for k, v in want.items() if k[0] == c and k[1] == "challenges"
    }
