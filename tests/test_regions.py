"""Study-location gazetteer, affiliation countries kept apart, reviewer fixes, trends (no model)."""

from __future__ import annotations

from collections import Counter

import pytest

from review.errors import ThemeError
from review.models import Record
from review.store.records import add_records, start_search
from review.themes import regions, trends
from review.themes.regions import find_countries, study_countries


def codes(text: str) -> set[str]:
    return set(find_countries(text))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Smart city readiness in Swaziland", {"SZ"}),
        ("E-government in the Kingdom of Eswatini", {"SZ"}),
        ("Mining towns of the DRC and Congo-Kinshasa", {"CD"}),
        ("Urban data in the Democratic Republic of the Congo", {"CD"}),
        ("Dar es Salaam and the United Republic of Tanzania", {"TZ"}),
        ("Tanzania's municipal ICT", {"TZ"}),
        ("Conflict and displacement in Cabo Delgado", {"MZ"}),
        (
            "Villes intelligentes en Afrique du Sud et en République démocratique du Congo",
            {"ZA", "CD"},
        ),
        ("Cidades inteligentes em Moçambique e na África do Sul", {"MZ", "ZA"}),
        ("Governação digital em Angola", {"AO"}),
        ("Johannesburg, Cape Town and eThekwini compared", {"ZA"}),
        ("Informal trade in Lusaka, Ndola, Harare and Bulawayo", {"ZM", "ZW"}),
        (
            "Transport in Maputo, Windhoek, Gaborone, Luanda and Lilongwe",
            {"MZ", "NA", "BW", "AO", "MW"},
        ),
        (
            "Maseru, Mbabane, Port Louis, Antananarivo, Kinshasa, Lubumbashi, Blantyre",
            {"LS", "SZ", "MU", "MG", "CD", "MW"},
        ),
        ("Pretoria (Tshwane) municipal services", {"ZA"}),
        ("South African municipalities", {"ZA"}),
    ],
)
def test_gazetteer_finds_aliases_cities_and_other_languages(text: str, expected: set[str]) -> None:
    assert codes(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Oil revenue in Nigeria", {"NG"}),  # not Niger
        ("Flooding in Niger and Nigeria", {"NE", "NG"}),
        ("Interviews by Chad Smith with planners in Lagos", {"NG"}),  # Chad is a name here
        ("Refugee settlements in Chad", {"TD"}),
        ("Experiments on guinea pigs", set()),
        ("Smart grids in Papua New Guinea", {"PG"}),  # not Guinea
        ("South Sudan's capital", {"SS"}),  # not Sudan
        ("The Dominican Republic", {"DO"}),  # not Dominica
        ("Nigerian cities", {"NG"}),
        ("A turkey farm and a jersey cow", set()),  # lower-case: a bird, a cow
        ("Africa-wide policy without countries", set()),
    ],
)
def test_gazetteer_avoids_false_hits(text: str, expected: set[str]) -> None:
    assert codes(text) == expected


def test_full_text_needs_two_mentions_and_skips_affiliation_lines() -> None:
    fulltext = (
        "Department of Urban Planning, University of Cape Town, South Africa\n"
        "We study smart-city projects in Zambia. Zambia's councils ...\n"
        "Kenya is mentioned once.\n"
    )
    found = study_countries("Smart cities", "An analysis of councils.", fulltext)
    assert set(found) == {"ZM"}
    assert "full text" in found["ZM"]
    assert set(study_countries("Smart cities in Namibia", None)) == {"NA"}


def _work(
    ws, title: str, abstract: str | None = None, affil: tuple[str, ...] = (), year: int = 2020
) -> int:
    sid = start_search(ws, source="test", arm="databases", kind="file")
    rid = add_records(
        ws, sid, [Record(title=title, abstract=abstract, year=year, affiliation_countries=affil)]
    )[0]
    return int(ws.db.execute("SELECT work_id FROM records WHERE id = ?", [rid]).fetchone()[0])


def test_affiliation_and_study_location_are_kept_apart(ws) -> None:
    w = _work(
        ws, "Smart city governance in Maputo", "Case study of Mozambique.", affil=("ZA", "GB")
    )
    ws.db.execute(
        "INSERT INTO documents (work_id, kind, text, created_at) VALUES (?, 'txt', ?, '2024')",
        [
            w,
            "School of Architecture, University of the Witwatersrand, Johannesburg, South Africa\nMaputo Maputo",
        ],
    )
    s = regions.detect(ws)
    assert s.with_study == 1
    assert regions.countries(ws, "study")[w] == ["MZ"]
    assert regions.countries(ws, "affiliation")[w] == ["GB", "ZA"]
    origins = {
        (r["kind"], r["origin"]) for r in ws.db.query("SELECT kind, origin FROM work_countries")
    }
    assert origins == {("study", "gazetteer"), ("affiliation", "openalex")}


def test_reviewer_fixes_win_and_survive_redetection(ws) -> None:
    w = _work(ws, "Smart grids in Namibia and Zambia")
    regions.detect(ws)
    assert regions.countries(ws)[w] == ["NA", "ZM"]
    regions.set_country(ws, w, "ZM", "remove", reviewer="ana")
    regions.set_country(ws, w, "Botswana", "add", reviewer="ana")  # a name works too
    regions.detect(ws)  # re-detection rewrites gazetteer rows only
    assert regions.countries(ws)[w] == ["BW", "NA"]
    regions.set_country(ws, w, "ZM", "add", reviewer="ana")  # the latest reviewer row wins
    assert regions.countries(ws)[w] == ["BW", "NA", "ZM"]
    with pytest.raises(ThemeError, match="unknown country"):
        regions.set_country(ws, w, "Atlantis")
    with pytest.raises(ThemeError, match="no work"):
        regions.set_country(ws, 9999, "ZA")


def test_detection_crosses_the_read_batches_and_rewrites_every_work(ws) -> None:
    """More works than one batch of ids (500): every work gets its rows, from its own title,
    documents and affiliations; re-detection replaces them all and keeps reviewer rows."""
    sid = start_search(ws, source="test", arm="databases", kind="file")
    names = [("Zambia", "ZM"), ("Kenya", "KE"), ("Ghana", "GH")]
    recs = [
        Record(
            title=f"Smart city platforms in {names[i % 3][0]}, case {i}",
            affiliation_countries=(names[(i + 1) % 3][1],),
            source_record_id=str(i),
        )
        for i in range(1203)
    ]
    rids = add_records(ws, sid, recs)
    marks = ",".join("?" * len(rids))
    works = [
        r[0] for r in ws.db.execute(f"SELECT work_id FROM records WHERE id IN ({marks})", rids)
    ]
    last = works[-1]  # in the third batch; a full text names another country twice
    ws.db.execute(
        "INSERT INTO documents (work_id, kind, text, created_at) VALUES (?, 'txt', ?, '2024')",
        [last, "Fieldwork in Malawi.\nMore fieldwork in Malawi."],
    )
    ws.db.conn.commit()
    s = regions.detect(ws)
    assert (s.works, s.study_rows, s.affiliation_rows, s.with_study) == (1203, 1204, 1203, 1203)
    study, affil = regions.countries(ws, "study"), regions.countries(ws, "affiliation")
    for i, w in enumerate(works):
        assert study[w] == sorted({names[i % 3][1]} | ({"MW"} if w == last else set())), i
        assert affil[w] == [names[(i + 1) % 3][1]], i
    regions.set_country(ws, works[700], "BW", reviewer="ana")
    before = ws.db.execute("SELECT COUNT(*) FROM work_countries").fetchone()[0]
    regions.detect(ws)
    assert ws.db.execute("SELECT COUNT(*) FROM work_countries").fetchone()[0] == before
    assert regions.countries(ws, "study")[works[700]] == ["BW", names[700 % 3][1]]


def test_regions_and_trend_counts() -> None:
    groups = {"SADC": ("ZA", "MZ", "NA"), "SACU": ("ZA", "NA")}
    assert regions.regions_of(["ZA"], groups) == ["SADC", "SACU"]
    assert regions.regions_of(["KE"], groups) == ["Other"]
    assert regions.regions_of([], groups) == ["Unknown"]
    counts = trends.trend_counts(
        {1: "governance", 2: "governance", 3: "technology"},
        {1: 2020, 2: 2020, 3: None},
        {1: ["ZA", "NA"], 2: ["MZ"], 3: []},
        groups,
    )
    assert counts[("SADC", "", "governance", "2020")] == 2  # work 1 counted once in SADC
    assert counts[("SADC", "ZA", "governance", "2020")] == 1
    assert counts[("SACU", "", "governance", "2020")] == 1
    assert counts[("Unknown", "", "technology", "")] == 1
    rows, cols, m = trends.matrix(Counter(counts))
    assert rows[0] == "SACU" and cols[0] == "governance"
    assert m[rows.index("SADC")][cols.index("governance")] == 2


def test_regions_cli(db_path: str, ws) -> None:
    from click.testing import CliRunner

    from review.cli import cli

    w = _work(ws, "Smart city policy in Lesotho")
    r = CliRunner().invoke(cli, ["regions", "--db", db_path])
    assert r.exit_code == 0, r.output
    assert "1 with a study country" in r.output
    r = CliRunner().invoke(
        cli, ["regions", "remove", str(w), "LS", "--reviewer", "bo", "--db", db_path]
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["regions", "show", str(w), "--db", db_path])
    assert "study: -" in r.output and "reviewer" in r.output
    r = CliRunner().invoke(cli, ["regions", "add", str(w), "XX", "--db", db_path])
    assert r.exit_code != 0 and "unknown country" in r.output
