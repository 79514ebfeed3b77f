"""Vendor mapping rules (review/harvest/files/vendors.py): one test per rule, each on a sample.

``tests/data/formats/vendors/`` holds small files written in the layout of real Ovid, Scopus and
Web of Science exports (see tests/data/formats/README.md); the other samples are real exports.
"""

from __future__ import annotations

from pathlib import Path

from conftest import DATA, shared_path

from review.harvest.files import import_files, read_file
from review.store.records import record_counts_by_source

VENDORS = DATA / "formats" / "vendors"


def _ovid() -> list:
    return read_file(VENDORS / "ovid_multi.ris")


def test_ovid_venue_is_jf_not_the_original_title_in_t2():
    rec = _ovid()[0]
    assert rec.venue == "Drug and alcohol dependence"  # JF > JO > T2 (T2: the German title)


def test_ovid_doi_is_url_decoded():
    assert _ovid()[0].doi == "10.1016/0376-8716(76)90010-7"


def test_ovid_medline_accession_number_is_the_pmid_and_the_record_id():
    rec = _ovid()[0]
    assert rec.pmid == "1021234" and rec.source_record_id == "1021234"


def test_ovid_chapter_venue_is_the_book_and_t3_the_series():
    chap = _ovid()[1]
    assert chap.record_type == "CHAP"
    assert chap.venue == "Psychedelic Medicine: New Evidence"
    assert chap.extra["series"] == "Advances in Neuropharmacology"
    assert chap.isbn == "978-3-030-12345-6" and chap.issn is None


def test_central_one_line_author_list_is_split():
    central = _ovid()[2]
    assert central.authors == ("Griffiths RR", "Johnson MW", "Carducci MA", "Garcia-Romeu A")


def test_ovid_database_comes_from_each_records_link():
    assert [r.database for r in _ovid()] == ["MEDLINE", "Embase", "CENTRAL", "PsycINFO"]
    assert [r.source_record_id for r in _ovid()][1:] == [
        "633333333",
        "CN-01234567",
        "2019-12345-001",
    ]


def test_ovid_import_counts_records_per_database_not_per_file(ws):
    report = import_files(ws, [VENDORS / "ovid_multi.ris"])
    assert record_counts_by_source(ws) == {
        "CENTRAL": 1,
        "Embase": 1,
        "MEDLINE": 1,
        "PsycINFO": 1,
    }
    f = report.imported[0]
    assert f.records_found == f.records_stored == 4 and len(f.search_ids) == 4
    names = {r["file_name"] for r in ws.db.query("SELECT file_name FROM searches")}
    assert names == {"ovid_multi.ris"}


def test_cli_names_the_databases_of_one_file(db_path: str):
    from click.testing import CliRunner

    from review.cli import cli

    r = CliRunner().invoke(cli, ["import", str(VENDORS / "ovid_multi.ris"), "--db", db_path])
    assert r.exit_code == 0, r.output
    assert "databases: MEDLINE 1, Embase 1, CENTRAL 1, PsycINFO 1" in r.output


def test_explicit_source_still_wins(ws):
    import_files(ws, [VENDORS / "ovid_multi.ris"], source="Ovid")
    assert record_counts_by_source(ws) == {"Ovid": 4}
    dbs = [r[0] for r in ws.db.execute("SELECT database FROM records ORDER BY id")]
    assert dbs == ["MEDLINE", "Embase", "CENTRAL", "PsycINFO"]


def test_scopus_eid_from_the_ur_link_is_the_record_id():
    (rec,) = read_file(VENDORS / "scopus.ris")
    assert rec.source_record_id == "2-s2.0-85091557653"
    assert rec.doi == "10.1063/5.0020407" and rec.database == "Scopus"
    assert rec.issn == "00218979" and rec.issue == "12"


def test_wos_year_falls_back_to_early_access():
    recs = read_file(VENDORS / "wos_early_access.txt")
    assert [r.year for r in recs] == [2021, 2019]  # EA JUL 2021; EY 2019 (PY > EY > EA)


def test_wos_keyword_wrapped_over_lines_stays_one_keyword():
    rec = read_file(VENDORS / "wos_early_access.txt")[0]
    assert rec.keywords == (
        "Machine learning",
        "Malaria surveillance",
        "Zambia",
        "RANDOM FOREST",
        "PREDICTION",
    )


def test_wos_real_sample_keyword_continuation():
    rec = read_file(DATA / "formats" / "rispy" / "example_wos.ris")[1]
    assert "CARBON-MONOXIDE BINDING" in rec.keywords
    assert "BINDING" not in rec.keywords
    assert rec.source_record_id and rec.source_record_id.startswith("WOS:")
    assert rec.issn == "0006-2960"


def test_psycinfo_ris_keeps_pmid_line_and_accession_number():
    rec = read_file(DATA / "formats" / "colrev" / "psycinfo_ris.ris")[0]
    assert rec.pmid == "33355555"
    assert rec.source_record_id == "2020-55555-005"
    assert rec.venue == "Journal/Periodical name: full format"  # JF
    assert rec.issn == "1999-7777; 0222-6666"  # electronic and print, both kept


def test_endnote_pubmed_ris_an_is_the_pmid():
    recs = read_file(shared_path("formats", "reflib", "blue-light.ris"))
    assert len(recs) == 102
    first = recs[0]
    assert first.pmid == "29657938" and first.source_record_id == "29657938"
    assert first.database == "PubMed"
    assert first.extra["pmcid"] == "PMC5887696"
    assert first.keywords[:2] == ("Acne", "Antirrhinum majus")  # untagged KW lines are items


def test_medline_nbib_issn_and_pmid():
    recs = read_file(shared_path("formats", "reflib", "blue-light.nbib"))
    assert all(r.pmid and r.pmid == r.source_record_id for r in recs)
    assert sum(1 for r in recs if r.issn) >= len(recs) - 2


def test_vendor_tables_are_data(tmp_path: Path):
    """The precedence rules live in vendors.py tables, in the documented order."""
    from review.harvest.files import vendors

    assert vendors.RIS_FIELDS["venue"][:3] == ("JF", "JO", "T2")
    assert vendors.WOS_FIELDS["year"][:3] == ("PY", "EY", "EA")
    assert vendors.RIS_TYPE_FIELDS["CHAP"]["venue"][0] == "T2"
