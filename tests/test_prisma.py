"""PRISMA 2020 numbers, CSV and check on hand-built workspaces with known counts.

Workspaces are built through the real store API: searches + records, merges done the way dedup
does them (records move to the surviving work, the other work becomes inactive), decisions through
``record_decision`` and retrieval rows in the append-only log.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from review import prisma
from review.cli import cli
from review.errors import PrismaError
from review.models import Record
from review.prisma import check, csvfmt, flow, queries
from review.prisma.svg import to_svg
from review.store import now
from review.store.decisions import record_decision, resolved_decisions
from review.store.records import add_records, finish_search, start_search

# -- builders ------------------------------------------------------------------------------------


def add(ws, source: str, arm: str, kind: str, n: int) -> list[int]:
    """``n`` records from one search; returns their work ids."""
    sid = start_search(ws, source=source, arm=arm, kind=kind)
    recs = [
        Record(title=f"{source} record {i}", source_record_id=f"{source}-{i}") for i in range(n)
    ]
    ids = add_records(ws, sid, recs)
    finish_search(ws, sid, records_found=n, records_stored=len(ids))
    q = f"SELECT work_id FROM records WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id"
    return [r[0] for r in ws.db.execute(q, ids)] if ids else []


def merge(ws, keep: int, gone: int) -> None:
    """What dedup does: move the records, deactivate the merged work, log the merge."""
    with ws.transaction():
        rids = [r[0] for r in ws.db.execute("SELECT id FROM records WHERE work_id = ?", [gone])]
        ws.db.execute("UPDATE records SET work_id = ? WHERE work_id = ?", [keep, gone])
        ws.db.execute("UPDATE works SET active = 0, merged_into = ? WHERE id = ?", [keep, gone])
        ws.db.execute(
            "INSERT INTO merges (created_at, action, work_id, record_ids, from_work_ids, rule)"
            " VALUES (?, 'merge', ?, ?, ?, 'test')",
            [now(), keep, json.dumps(rids), json.dumps([gone])],
        )


def decide(
    ws, wid: int, stage: str, decision: str, reason: str | None = None, reviewer: str = "ana", **kw
) -> None:
    record_decision(
        ws, work_id=wid, stage=stage, reviewer=reviewer, decision=decision, reason=reason, **kw
    )


def retrieval(ws, wid: int, status: str) -> None:
    with ws.transaction():
        ws.db.execute(
            "INSERT INTO retrieval (work_id, status, reviewer, created_at) VALUES (?, ?, 'ana', ?)",
            [wid, status, now()],
        )


TA, FT = "title-abstract", "full-text"


def build_full(ws) -> dict[str, list[int]]:
    """A finished review with both arms and known numbers (see test_full_review_numbers)."""
    oa = add(ws, "OpenAlex", "databases", "openalex", 12)
    sc = add(ws, "Scopus", "databases", "file", 5)
    reg = add(ws, "ClinicalTrials.gov", "registers", "file", 2)
    web = add(ws, "UNDP Accelerator Labs", "other", "web", 4)
    pdf = add(ws, "Municipal and government reports", "other", "pdf", 3)
    # 3 Scopus records duplicate OpenAlex ones; 1 web page duplicates an OpenAlex record;
    # 1 PDF duplicates another PDF
    for i in range(3):
        merge(ws, oa[i], sc[i])
    merge(ws, oa[3], web[0])
    merge(ws, pdf[0], pdf[1])
    dbr = oa + sc[3:] + reg  # 12 + 2 + 2 = 16 works
    # title/abstract: 6 excluded (4 E1, 2 E2), 9 included, 1 'maybe' (a vote to go on: sought)
    for w in dbr[:4]:
        decide(ws, w, TA, "exclude", "E1")
    for w in dbr[4:6]:
        decide(ws, w, TA, "exclude", "E2")
    for w in dbr[6:15]:
        decide(ws, w, TA, "include")
    decide(ws, dbr[15], TA, "maybe")
    sought = dbr[6:15]
    # 2 not retrieved; 7 assessed: 3 excluded (2 E3, 1 E4), 4 included; the maybe awaits
    retrieval(ws, sought[0], "not-retrieved")
    retrieval(ws, sought[1], "retrieved")
    retrieval(ws, sought[1], "not-retrieved")  # latest row counts
    retrieval(ws, sought[2], "not-retrieved")
    retrieval(ws, sought[2], "retrieved")
    for w in sought[2:4]:
        decide(ws, w, FT, "exclude", "E3")
    decide(ws, sought[4], FT, "exclude", "E4")
    for w in sought[5:9]:
        decide(ws, w, FT, "include")
    # other methods: works web[1..3], pdf[0], pdf[2] -> 5 sought; 1 not retrieved;
    # web[1] excluded at title/abstract (E2), web[2] included at full text, pdf[0] excluded at full
    # text (E3), pdf[2] included at TA, FT pending -> 1 awaiting? no: assessed, undecided
    retrieval(ws, web[3], "not-retrieved")
    decide(ws, web[1], TA, "exclude", "E2")
    decide(ws, web[2], TA, "include")
    decide(ws, web[2], FT, "include")
    decide(ws, pdf[0], FT, "exclude", "E3")  # gray literature can go straight to full text
    decide(ws, pdf[2], TA, "include")
    decide(ws, pdf[2], FT, "include")
    return {"dbr": dbr, "sought": sought, "web": web, "pdf": pdf}


def parse_csv(text: str) -> dict[str, str]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(csvfmt.HEADER)
    return {r["data"]: r["n"] for r in rows if r["data"] != "NA"}


# -- tests ---------------------------------------------------------------------------------------


def test_full_review_numbers(ws):
    build_full(ws)
    f = prisma.compute(ws)
    v = f.values
    assert v["database_results"] == 17 and v["register_results"] == 2
    assert f.reasons("database_specific_results") == [("OpenAlex", 12), ("Scopus", 5)]
    assert v["duplicates"] == 3 and v["excluded_automatic"] == 0 and v["excluded_other"] == 0
    assert v["records_screened"] == 16 and v["records_excluded"] == 6 and v["records_awaiting"] == 0
    assert f.reasons("records_excluded_reasons") == [("E1", 4), ("E2", 2)]
    assert v["dbr_sought_reports"] == 10 and v["dbr_notretrieved_reports"] == 2
    assert v["dbr_awaiting"] == 1
    assert v["dbr_assessed"] == 7 and v["dbr_excluded"] == 3 and v["dbr_included"] == 4
    assert f.reasons("dbr_excluded_reasons") == [("E3", 2), ("E4", 1)]
    assert (
        v["website_results"] == 4 and v["organisation_results"] == 3 and v["citations_results"] == 0
    )
    assert v["other_duplicates"] == 2
    assert v["other_sought_reports"] == 5 and v["other_notretrieved_reports"] == 1
    assert v["other_assessed"] == 4 and v["other_excluded"] == 2 and v["other_included"] == 2
    assert f.reasons("other_excluded_reasons") == [("E2", 1), ("E3", 1)]
    assert v["new_reports"] == 6 and v["new_studies"] == 6
    ids = check.check(f)
    assert all(i.ok for i in ids) and len(ids) >= 12
    assert check.pending(f) == ["1 reports awaiting retrieval or full-text assessment"]
    # status keeps working through prisma.counts
    assert prisma.counts(ws)["records_screened"] == 16


def test_resolved_view_matches_store_rule(ws):
    """The SQL 'ta' view gives the same decisions as store.decisions.resolved_decisions."""
    w = add(ws, "OpenAlex", "databases", "openalex", 4)
    decide(ws, w[0], TA, "include", reviewer="ana")
    decide(ws, w[0], TA, "exclude", "E1", reviewer="ben")  # conflict -> left out
    decide(ws, w[1], TA, "include", reviewer="ana")
    decide(ws, w[1], TA, "exclude", "E1", reviewer="ben")
    decide(ws, w[1], TA, "exclude", "E2", reviewer="lead", origin="resolution")  # resolved
    decide(ws, w[2], TA, "exclude", "E1", reviewer="ana")
    decide(ws, w[2], TA, "retract", reviewer="ana")  # undone
    decide(ws, w[3], TA, "include", reviewer="ana")
    decide(ws, w[3], TA, "include", reviewer="ben")
    f = prisma.compute(ws)
    store = resolved_decisions(ws, TA)
    assert {k: d["decision"] for k, d in store.items()} == {w[1]: "exclude", w[3]: "include"}
    assert (
        f["records_excluded"] == 1 and f["dbr_sought_reports"] == 1 and f["records_awaiting"] == 2
    )
    assert f.reasons("records_excluded_reasons") == [("E2", 1)]
    check.check(f)


def test_csv_template_values(ws):
    build_full(ws)
    text = csvfmt.to_csv(prisma.compute(ws))
    vals = parse_csv(text)
    assert vals["database_results"] == "17"
    assert vals["database_specific_results"] == "OpenAlex, 12; Scopus, 5"
    assert vals["register_specific_results"] == "ClinicalTrials.gov, 2"
    assert (
        vals["duplicates"] == "3"
        and vals["records_screened"] == "16"
        and vals["records_excluded"] == "6"
    )
    assert vals["dbr_sought_reports"] == "10" and vals["dbr_notretrieved_reports"] == "2"
    assert vals["dbr_assessed"] == "7" and vals["dbr_excluded"] == "E3, 2; E4, 1"
    assert vals["website_results"] == "4" and vals["organisation_results"] == "3"
    assert vals["other_sought_reports"] == "5" and vals["other_excluded"] == "E2, 1; E3, 1"
    assert vals["new_studies"] == "6" and vals["new_reports"] == "6"
    assert vals["previous_studies"] == "0" and vals["previous_reports"] == "0"
    # the template's rows, in its order, with its wording
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + len(csvfmt.TEMPLATE)
    assert rows[5][:5] == [
        "database_results",
        "node7",
        "box2",
        "Records identified from: Databases",
        "Databases",
    ]
    for key in (
        "excluded_automatic", "excluded_other", "citations_results", "other_notretrieved_reports",
        "other_assessed", "register_results", "total_studies", "total_reports",
    ):  # fmt: skip
        assert key in vals


def test_zero_counts_empty_workspace(ws):
    f = prisma.compute(ws)
    assert set(f.values.values()) == {0}
    vals = parse_csv(csvfmt.to_csv(f))
    assert vals["database_specific_results"] == "" and vals["dbr_excluded"] == "0"
    check.check(f)
    svg = to_svg(f)
    assert "Records screened (n = 0)" in svg and "other methods" not in svg


def test_only_databases_review(ws):
    w = add(ws, "OpenAlex", "databases", "openalex", 3)
    decide(ws, w[0], TA, "include")
    decide(ws, w[0], FT, "include")
    f = prisma.compute(ws)
    assert not f.has_other_arm and f["new_studies"] == 1
    svg = to_svg(f)
    assert "Identification of new studies via other methods" not in svg
    assert "Databases (n = 3)" in svg and "OpenAlex (n = 3)" in svg
    assert "2 records awaiting screening" in svg
    check.check(f)


def test_only_other_methods_review(ws):
    w = add(ws, "UNDP Accelerator Labs", "other", "web", 3)
    p = add(ws, "Municipal and government reports", "other", "pdf", 2)
    c = add(ws, "Snowballing", "other", "manual", 1)
    decide(ws, w[0], TA, "exclude", "E1")
    decide(ws, p[0], FT, "include")  # gray literature can go straight to full text
    f = prisma.compute(ws)
    v = f.values
    assert v["database_results"] == 0 and v["records_screened"] == 0
    # protocol kinds: UNDP = website, Municipal = organisation; unknown manual source -> organisation
    assert (v["website_results"], v["organisation_results"], v["citations_results"]) == (3, 3, 0)
    assert v["other_sought_reports"] == 6 and v["other_assessed"] == 2 and v["other_awaiting"] == 4
    assert v["other_excluded"] == 1 and v["new_reports"] == 1
    check.check(f)
    svg = to_svg(f)
    assert "Identification of new studies via other methods" in svg and "Snowballing (n = 1)" in svg
    assert c


def test_many_sources_and_reasons(ws, tmp_path):
    from review import protocol

    reasons = [f"R{i}" for i in range(12)]
    (tmp_path / "p.toml").write_text(
        ws.protocol().text
        + "".join(
            f'\n[[criteria.exclusion]]\ncode = "{r}"\ntext = "Reason number {r}"\n' for r in reasons
        )
    )
    ws.set_protocol(protocol.load(tmp_path / "p.toml"))
    long_name = "The Very Long Name of a Regional Bibliographic Database of Southern African Municipal Research"
    works = []
    for i in range(9):
        works += add(ws, f"Database {i}" if i else long_name, "databases", "file", i + 2)
    for i, w in enumerate(works[:48]):
        decide(ws, w, TA, "include")
        decide(ws, w, FT, "exclude", reasons[i % 12])
    f = prisma.compute(ws)
    assert len(f.reasons("database_specific_results")) == 9
    assert len(f.reasons("dbr_excluded_reasons")) == 12 and f["dbr_excluded"] == 48
    check.check(f)
    svg = to_svg(f)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "R11 (n = 4)" in texts and "R11: Reason number R11" in " ".join(texts)
    assert long_name + " (n = 2)" in " ".join(texts)  # wrapped, nothing cut
    assert not any(long_name in t for t in texts)  # over several lines
    vals = parse_csv(csvfmt.to_csv(f))
    assert vals["dbr_excluded"].count(";") == 11


def test_reason_with_comma_or_semicolon_is_rejected(ws):
    w = add(ws, "OpenAlex", "databases", "openalex", 2)
    decide(ws, w[0], TA, "include")
    decide(ws, w[0], FT, "exclude", "wrong, population")
    with pytest.raises(PrismaError, match="wrong, population"):
        prisma.compute(ws)
    assert prisma.counts(ws)["dbr_excluded"] == 1  # status still works


def test_source_name_with_comma_is_kept_in_svg_and_escaped_in_csv(ws):
    add(ws, "Web of Science, Core Collection", "databases", "file", 2)
    f = prisma.compute(ws)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", to_svg(f))
    assert "Web of Science, Core Collection (n = 2)" in " ".join(texts)
    assert (
        parse_csv(csvfmt.to_csv(f))["database_specific_results"]
        == "Web of Science - Core Collection, 2"
    )


def test_fulltext_without_title_abstract_inclusion_is_not_counted_but_reported(ws):
    w = add(ws, "OpenAlex", "databases", "openalex", 3)
    decide(ws, w[0], TA, "exclude", "E1")
    decide(ws, w[0], FT, "include")  # never moved on at title/abstract
    f = prisma.compute(ws)
    check.check(f)
    assert f["dbr_included"] == 0 and f["dbr_fulltext_not_sought"] == 1
    assert any(n.startswith("1 works with full-text votes") for n in check.pending(f))


def test_not_retrieved_report_assessed_anyway_counts_as_assessed(ws):
    w = add(ws, "OpenAlex", "databases", "openalex", 2)
    decide(ws, w[0], TA, "include")
    retrieval(ws, w[0], "not-retrieved")
    decide(ws, w[0], FT, "exclude", "E3")
    f = prisma.compute(ws)
    check.check(f)
    assert f["dbr_assessed"] == 1 and f["dbr_notretrieved_reports"] == 0


def test_check_fails_on_a_work_without_records(ws):
    add(ws, "OpenAlex", "databases", "openalex", 2)
    with ws.transaction():  # not something review does: a hand-edited database
        ws.db.execute("INSERT INTO works (active, created_at, updated_at) VALUES (1, 'x', 'x')")
    f = prisma.compute(ws)
    broken = [i.name for i in check.identities(f) if not i.ok]
    assert "every record is a work, a duplicate or removed" in broken
    with pytest.raises(PrismaError, match="every record is a work"):
        check.check(f)


def test_automation_and_removed_records(ws):
    w = add(ws, "OpenAlex", "databases", "openalex", 5)
    decide(ws, w[0], TA, "exclude", "E1", reviewer="classifier", origin="automation")
    with ws.transaction():  # a record removed for another reason: work deactivated, not merged
        ws.db.execute("UPDATE works SET active = 0 WHERE id = ?", [w[1]])
    f = prisma.compute(ws)
    assert f["excluded_automatic"] == 1 and f["excluded_other"] == 1 and f["records_screened"] == 3
    assert f["records_excluded"] == 0
    check.check(f)


def test_studies_grouped_by_tag(ws):
    w = add(ws, "OpenAlex", "databases", "openalex", 3)
    for x in w:
        decide(ws, x, TA, "include")
        decide(ws, x, FT, "include")
    with ws.transaction():
        for x in w[:2]:
            ws.db.execute(
                "INSERT INTO tags (work_id, tag, action, reviewer, created_at) VALUES (?, 'study:S1', 'add', 'ana', ?)",
                [x, now()],
            )
    f = prisma.compute(ws)
    assert f["new_reports"] == 3 and f["new_studies"] == 2
    check.check(f)


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_check_explain_and_csv(ws, db_path, tmp_path):
    build_full(ws)
    r = CliRunner().invoke(cli, ["prisma", "--check", "--db", db_path])
    assert r.exit_code == 0, r.output
    assert "ok" in r.output and "1 reports awaiting retrieval" in r.output
    r = CliRunner().invoke(cli, ["prisma", "--explain", "--db", db_path])
    assert r.exit_code == 0, r.output
    assert "records_screened = 16" in r.output and "FROM dbr" in r.output
    assert "  works: " in r.output and "  records: " in r.output
    out = tmp_path / "x" / "prisma.csv"
    r = CliRunner().invoke(cli, ["prisma", "-o", str(out), "--db", db_path])
    assert r.exit_code == 0, r.output
    assert parse_csv(out.read_text())["dbr_assessed"] == "7"


def test_cli_check_fails_naming_identity(ws, db_path):
    add(ws, "OpenAlex", "databases", "openalex", 2)
    with ws.transaction():
        ws.db.execute("INSERT INTO works (active, created_at, updated_at) VALUES (1, 'x', 'x')")
    r = CliRunner().invoke(cli, ["prisma", "--check", "--db", db_path])
    assert r.exit_code == 1
    assert "every record is a work, a duplicate or removed" in r.output


def test_cli_explain_one_number_lists_every_work_id(ws, db_path):
    ids = build_full(ws)
    r = CliRunner().invoke(cli, ["prisma", "--explain", "records_excluded", "--db", db_path])
    assert r.exit_code == 0, r.output
    listed = r.output.split("works: ")[1].strip().split(", ")
    assert sorted(int(x) for x in listed) == sorted(ids["dbr"][:6])
    assert r.output.startswith("records_excluded = 6")
    r = CliRunner().invoke(cli, ["prisma", "--explain", "duplicates", "--db", db_path])
    assert r.exit_code == 0 and r.output.count("(work ") == 3
    r = CliRunner().invoke(cli, ["prisma", "--explain", "nonsense", "--db", db_path])
    assert r.exit_code == 1 and "unknown PRISMA number 'nonsense'" in r.output


def test_every_count_is_the_number_of_its_items(ws):
    build_full(ws)
    f = prisma.compute(ws)
    for q in queries.QUERIES:
        if q.items_sql is not None:
            assert len(flow.items(ws, f, q.name)) == f[q.name], q.name


def test_cli_unknown_format(ws, db_path, tmp_path):
    r = CliRunner().invoke(cli, ["prisma", "-o", str(tmp_path / "p.docx"), "--db", db_path])
    assert r.exit_code == 1 and "unknown output format" in r.output
