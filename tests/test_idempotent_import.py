"""Idempotent imports (issue 12.3) and within-file duplicates (issue 14.4).

- a file whose normalised content was already imported into a source adds nothing and says so;
- records without IDs are matched by a content hash of the mapped record, so importing the same
  records again (renamed, re-encoded or in a longer file) adds only what is new;
- within one file, records that repeat an ID (or repeat each other exactly) are all stored and
  counted as identified; the import names them; dedup removes them as duplicates.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from review.cli import cli
from review.harvest.files import import_files
from review.store.records import count_records

RIS_NO_IDS = """TY  - JOUR
TI  - Smart city governance in Lusaka
AU  - Banda, J.
PY  - 2021
JO  - Urban Studies
ER  -

TY  - JOUR
TI  - E-government adoption in Gaborone
AU  - Mosweu, T.
PY  - 2019
JO  - Telematics and Informatics
ER  -

TY  - JOUR
TI  - Digital twins for Windhoek water networks
AU  - Shikongo, P.
PY  - 2022
ER  -
""".replace("ER  -\n", "ER  - \n")  # RIS end tags carry a trailing blank

CSV_NO_IDS = """title,authors,year,abstract
Smart city governance in Lusaka,Banda J,2021,A study of municipal data platforms.
E-government adoption in Gaborone,Mosweu T,2019,Survey of 400 civil servants.
Digital twins for Windhoek water networks,Shikongo P,2022,A simulation study.
"""

JSON_NO_IDS = [
    {"title": "Smart city governance in Lusaka", "year": 2021, "abstract": "Municipal data."},
    {"title": "E-government adoption in Gaborone", "year": 2019},
    {"title": "Digital twins for Windhoek water networks", "year": 2022},
]


def _write(tmp_path: Path, name: str, text: str, newline: str = "\n") -> Path:
    p = tmp_path / name
    p.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return p


def _files(tmp_path: Path) -> dict[str, Path]:
    return {
        "ris": _write(tmp_path, "a.ris", RIS_NO_IDS),
        "csv": _write(tmp_path, "a.csv", CSV_NO_IDS),
        "json": _write(tmp_path, "a.json", json.dumps(JSON_NO_IDS, indent=1)),
    }


def _searches(ws) -> list[dict]:
    return list(ws.db.query("SELECT * FROM searches ORDER BY id"))


def test_same_file_twice_adds_nothing_and_says_so(ws, tmp_path):
    for kind, path in _files(tmp_path).items():
        first = import_files(ws, [path], source=f"S-{kind}")
        assert first.records_stored == 3, kind
        again = import_files(ws, [path], source=f"S-{kind}")
        assert again.records_stored == 0, kind
        [res] = again.imported
        assert res.records_found == 3 and res.records_stored == 0
        assert res.duplicate_of == first.imported[0].search_id
        assert "already imported" in (res.note or "")
        row = _searches(ws)[-1]
        assert row["records_stored"] == 0 and row["status"] == "complete"
        assert "already imported" in row["notes"]
    assert count_records(ws) == 9
    assert ws.db.execute("SELECT COUNT(*) FROM works").fetchone()[0] == 9


def test_renamed_and_re_encoded_copy_is_the_same_content(ws, tmp_path):
    path = _write(tmp_path, "export.ris", RIS_NO_IDS)
    import_files(ws, [path], source="Scopus")
    copy = tmp_path / "copy" / "export (1).ris"
    copy.parent.mkdir()
    copy.write_bytes(b"\xef\xbb\xbf" + RIS_NO_IDS.replace("\n", "\r\n").encode("utf-8"))
    rep = import_files(ws, [copy], source="Scopus")
    assert rep.records_stored == 0 and rep.imported[0].duplicate_of is not None
    assert count_records(ws) == 3


def test_records_without_ids_are_matched_by_content_in_a_longer_file(ws, tmp_path):
    import_files(ws, [_write(tmp_path, "a.ris", RIS_NO_IDS)], source="Scopus")
    longer = (
        RIS_NO_IDS
        + "\nTY  - JOUR\nTI  - Mobile money and urban services in Maputo\nPY  - 2020\nER  - \n"
    )
    rep = import_files(ws, [_write(tmp_path, "b.ris", longer)], source="Scopus")
    [res] = rep.imported
    assert res.records_found == 4 and res.records_stored == 1
    assert res.duplicate_of is None
    assert "3 already stored" in (res.note or "")
    assert count_records(ws) == 4


def test_the_same_file_into_another_source_is_imported(ws, tmp_path):
    path = _write(tmp_path, "a.csv", CSV_NO_IDS)
    import_files(ws, [path], source="Scopus")
    assert import_files(ws, [path], source="Web of Science").records_stored == 3
    assert count_records(ws) == 6


RIS_REPEATED_AN = """TY  - JOUR
AN  - 10001
TI  - Smart city governance in Lusaka
PY  - 2021
ER  -

TY  - JOUR
AN  - 10002
TI  - E-government adoption in Gaborone
PY  - 2019
ER  -

TY  - JOUR
AN  - 10001
TI  - Smart city governance in Lusaka
PY  - 2021
ER  -

TY  - JOUR
AN  - 10001
TI  - Smart city governance in Lusaka
PY  - 2021
ER  -

TY  - JOUR
TI  - Digital twins for Windhoek water networks
PY  - 2022
ER  -

TY  - JOUR
TI  - Digital twins for Windhoek water networks
PY  - 2022
ER  -
""".replace("ER  -\n", "ER  - \n")


def test_within_file_duplicates_are_stored_counted_and_named(ws, tmp_path):
    from review import prisma

    path = _write(tmp_path, "ovid.ris", RIS_REPEATED_AN)
    rep = import_files(ws, [path], source="Ovid MEDLINE")
    [res] = rep.imported
    assert res.records_found == 6 and res.records_stored == 6  # not "6 found, 4 stored"
    assert "10001" in (res.note or "") and "3 records repeat" in (res.note or "")
    row = _searches(ws)[-1]
    assert row["records_found"] == 6 and row["records_stored"] == 6
    assert "10001" in row["notes"]
    counts = prisma.counts(ws)
    assert counts["database_results"] == 6

    # a second import of the same file still adds nothing
    assert import_files(ws, [path], source="Ovid MEDLINE").records_stored == 0
    assert count_records(ws) == 6


def test_dedup_removes_within_file_duplicates(ws, tmp_path):
    from review import prisma
    from review.dedup.engine import run as deduplicate

    import_files(ws, [_write(tmp_path, "ovid.ris", RIS_REPEATED_AN)], source="Ovid MEDLINE")
    deduplicate(ws)
    counts = prisma.counts(ws)
    assert counts["database_results"] == 6
    assert counts["duplicates"] == 3
    active = ws.db.execute("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0]
    assert active == 3


def test_an_id_already_stored_from_another_file_of_the_source_is_skipped(ws, tmp_path):
    one = RIS_REPEATED_AN.split("\n\n")[0] + "\n"
    import_files(ws, [_write(tmp_path, "one.ris", one)], source="Ovid MEDLINE")
    rep = import_files(ws, [_write(tmp_path, "all.ris", RIS_REPEATED_AN)], source="Ovid MEDLINE")
    [res] = rep.imported
    # 10001 appears 3 times in the file and once in the workspace: 2 more copies are stored
    assert res.records_found == 6 and res.records_stored == 5
    assert "1 already stored" in (res.note or "")
    assert count_records(ws) == 6


def test_cli_says_already_imported(db_path, tmp_path):
    path = _write(tmp_path, "a.ris", RIS_NO_IDS)
    runner = CliRunner()
    r1 = runner.invoke(cli, ["import", str(path), "--source", "Scopus", "--db", db_path])
    assert r1.exit_code == 0, r1.output
    r2 = runner.invoke(cli, ["import", str(path), "--source", "Scopus", "--db", db_path])
    assert r2.exit_code == 0, r2.output
    assert "already imported" in r2.output
    assert "0 records stored" in r2.output


def test_a_renamed_copy_without_source_is_the_same_import(ws, tmp_path):
    """Without --source the source comes from the file (its name for a plain RIS): a renamed copy
    must not count as a new source."""
    path = _write(tmp_path, "export.ris", RIS_NO_IDS)
    first = import_files(ws, [path])
    copy = _write(tmp_path, "export (1).ris", RIS_NO_IDS)
    rep = import_files(ws, [copy])
    assert rep.records_stored == 0
    assert rep.imported[0].duplicate_of == first.imported[0].search_id
    assert "export.ris" in (rep.imported[0].note or "")
    assert count_records(ws) == 3


RIS_REPEATED_REVISED = """TY  - JOUR
AN  - 20002
TI  - Mobile money and municipal revenue in Blantyre, Malawi
AU  - Phiri, K.
PY  - 2020
ER  -

TY  - JOUR
AN  - 20002
TI  - Mobile money and municipal revenue collection in Blantyre, Malawi
AU  - Phiri, K.
PY  - 2020
ER  -
""".replace("ER  -\n", "ER  - \n")


def test_dedup_merges_repeats_of_one_accession_number_even_when_their_text_differs(ws, tmp_path):
    """A database that lists one accession number twice in one export (a revised record) lists one
    record: the repeat is an identified record that dedup removes, though the titles differ in
    wording (too far apart for the fuzzy title rule, close enough to corroborate an identifier)."""
    from review.dedup.engine import run as deduplicate

    import_files(ws, [_write(tmp_path, "ovid.ris", RIS_REPEATED_REVISED)], source="Ovid MEDLINE")
    assert count_records(ws) == 2
    deduplicate(ws)
    active = ws.db.execute("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0]
    assert active == 1
    [merge] = list(ws.db.query("SELECT rule FROM merges"))
    assert merge["rule"] == "source_id"


def test_two_different_titles_under_one_accession_number_go_to_review_not_merge(ws, tmp_path):
    from review.dedup.engine import run as deduplicate

    text = RIS_REPEATED_REVISED.replace(
        "TI  - Mobile money and municipal revenue collection in Blantyre, Malawi",
        "TI  - Flood early warning for informal settlements in Lilongwe",
    )
    import_files(ws, [_write(tmp_path, "ovid.ris", text)], source="Ovid MEDLINE")
    deduplicate(ws)
    active = ws.db.execute("SELECT COUNT(*) FROM works WHERE active = 1").fetchone()[0]
    assert active == 2


def test_content_hash_is_of_the_text_the_reader_decoded_not_a_second_read(tmp_path):
    """The import's content hash comes from the text parse_file already read and decoded: the
    file is not read again (it may be gone or changed by then), and a re-encoded CRLF copy with a
    BOM still hashes the same."""
    from review.harvest.files import parse_file
    from review.harvest.files.idempotency import content_sha256

    path = _write(tmp_path, "export.ris", RIS_NO_IDS)
    parsed = parse_file(path)
    same = tmp_path / "copy.ris"
    same.write_bytes(b"\xef\xbb\xbf" + RIS_NO_IDS.replace("\n", "\r\n").encode("cp1252"))
    expected = content_sha256(parse_file(same))
    path.unlink()  # read once, at parse time
    assert content_sha256(parsed) == expected
    path.write_text(CSV_NO_IDS, encoding="utf-8")  # another file under the same name
    assert content_sha256(parsed) == expected
    assert content_sha256(parse_file(path)) != expected
