"""Gray literature without DOIs: mirrored PDFs, same text, corporate authors, translations, drafts.

The cases are built in code in the shape our harvesters store (titles and organisations in the
style of the UNDP pages in ../shared/data/graylit, not copied from them); the translated pair is the
real Paganini et al. 2008 pair from the respiratory set (bib-dedupe @ c66515a6, MIT), where one
database gives the Spanish title and the other the English translation.
"""

from __future__ import annotations

from review.dedup import engine
from review.models import Record
from review.store.records import add_records, start_search
from review.store.workspace import now


def load(ws, records, source, kind="web"):
    sid = start_search(ws, source=source, arm="other", kind=kind)
    return add_records(ws, sid, records)


def work_of(ws, rid):
    return ws.db.execute("SELECT work_id FROM records WHERE id = ?", [rid]).fetchone()[0]


def rule_of(ws, work_id):
    return ws.db.execute(
        "SELECT rule FROM merges WHERE from_work_ids = ?", [f"[{work_id}]"]
    ).fetchone()[0]


def test_same_pdf_mirrored_on_two_sites(ws):
    sha = "9f2c" * 16
    a = load(
        ws,
        [
            Record(
                title="Digital Transformation Strategy 2021-2025",
                file_sha256=sha,
                url="https://www.undp.org/namibia/publications/dts.pdf",
            )
        ],
        "undp.org",
        "pdf",
    )
    b = load(
        ws,
        [
            Record(
                title="DTS_final_web",
                file_sha256=sha.upper(),
                url="https://mict.gov.na/documents/DTS_final_web.pdf",
            )
        ],
        "mict.gov.na",
        "pdf",
    )
    res = engine.run(ws)
    assert work_of(ws, a[0]) == work_of(ws, b[0])
    assert res["merged_by_rule"] == {"sha256": 1}


def test_same_text_different_files(ws):
    text = (
        "Accelerator Lab Eswatini. Mapping informal traders in Manzini: a rapid survey of 412 vendors on "
        "mobile money use, access to credit and the effect of the 2021 unrest on daily sales. " * 3
    )
    a = load(ws, [Record(title="Mapping informal traders in Manzini")], "undp.org", "pdf")
    b = load(
        ws, [Record(title="Informal traders survey (Manzini) - report")], "reliefweb.int", "pdf"
    )
    ts = now()
    for rid in (a[0], b[0]):
        ws.db["documents"].insert(
            {
                "record_id": rid,
                "work_id": work_of(ws, rid),
                "kind": "pdf",
                "text": text,
                "created_at": ts,
            }
        )
    res = engine.run(ws)
    assert work_of(ws, a[0]) == work_of(ws, b[0])
    assert res["merged_by_rule"] == {"text": 1}


def test_corporate_author_name_and_acronym(ws):
    a = load(
        ws,
        [
            Record(
                title="Smart Cities and Inclusive Growth in Southern Africa",
                year=2022,
                authors=("United Nations Development Programme",),
            )
        ],
        "undp.org",
    )
    b = load(
        ws,
        [
            Record(
                title="Smart cities and inclusive growth in Southern Africa.",
                year=2022,
                authors=("UNDP",),
            )
        ],
        "google-scholar",
    )
    c = load(
        ws,
        [
            Record(
                title="Smart cities and inclusive growth in Southern Africa",
                year=2022,
                authors=("Mokoena, T",),
            )
        ],
        "openalex",
    )
    engine.run(ws)
    assert work_of(ws, a[0]) == work_of(ws, b[0])
    # a source listing the lead author instead of the organisation: same title and year, nothing
    # conflicts (a corporate author against a person counts as unknown, not as a mismatch)
    assert work_of(ws, c[0]) == work_of(ws, a[0])


def test_different_reports_same_organisation_stay_apart(ws):
    recs = [
        Record(title="Annual Report 2021", year=2021, authors=("UNDP Zambia",)),
        Record(title="Annual Report 2022", year=2022, authors=("UNDP Zambia",)),
        Record(title="Namibia: Digital Finance Country Report", year=2020, authors=("UNDP",)),
        Record(title="Lesotho: Digital Finance Country Report", year=2020, authors=("UNDP",)),
    ]
    ids = load(ws, recs, "undp.org")
    engine.run(ws)
    assert len({work_of(ws, r) for r in ids}) == 4


def test_draft_and_final_go_to_review_not_merged(ws):
    ids = load(
        ws,
        [
            Record(
                title="Draft National Urban Policy for Malawi",
                year=2019,
                authors=("Ministry of Lands, Housing and Urban Development",),
            ),
            Record(
                title="National Urban Policy for Malawi",
                year=2020,
                authors=("Ministry of Lands, Housing and Urban Development",),
            ),
        ],
        "gov.mw",
    )
    res = engine.run(ws)
    assert work_of(ws, ids[0]) != work_of(ws, ids[1])
    assert res["candidates_pending"] == 1


def test_translated_title_same_article(ws):
    es = load(
        ws,
        [
            Record(
                title="Estudio multicéntrico sobre las infecciones pediátricas por Staphylococcus aureus meticilino "
                "resistente provenientes de la comunidad en la Argentina",
                authors=("Paganini, Hugo", "Della Latta, María P.", "Muller Opet, Beatriz"),
                year=2008,
                pages="397-403",
                volume="106",
                venue="Arch Argent Pediatr",
            )
        ],
        "lilacs",
        "file",
    )
    en = load(
        ws,
        [
            Record(
                title="[Community-acquired methicillin-resistant Staphylococcus aureus infections in children: "
                "multicenter trial]",
                authors=("Paganini, Hugo", "Della Latta, Maria P.", "Muller Opet, Beatriz"),
                year=2008,
                pages="397-403",
                volume="106",
                venue="Archivos Argentinos de Pediatria",
            )
        ],
        "medline",
        "file",
    )
    engine.run(ws)
    assert work_of(ws, es[0]) == work_of(ws, en[0])
    assert rule_of(ws, max(es[0], en[0])) == "bibliographic"


def test_real_pages_with_the_same_generic_title_stay_apart(ws):
    """Two real UNDP pages whose scrape lost the headline: different addresses and different text
    are different documents even when their titles (here forced to be equal) match exactly."""
    from conftest import CORPUS

    from review.harvest.web import read_page

    pages = sorted((CORPUS / "gray" / "undp").glob("blog_skip_to_main_content*.md"))[:2]
    assert len(pages) == 2
    recs = []
    for p in pages[:2]:
        page = read_page(p)
        recs.append(
            Record(title="Skip to main content", abstract=page.abstract, url=page.url,
                   year=2022, source_record_id=page.url)
        )  # fmt: skip
    ids = load(ws, recs, "UNDP Accelerator Labs")
    engine.run(ws)
    assert work_of(ws, ids[0]) != work_of(ws, ids[1])
    # while the same page at two addresses (same text) still merges
    same = Record(title="Skip to main content", abstract=recs[0].abstract, url=recs[0].url + "?amp",
                  year=2022, source_record_id="mirror")  # fmt: skip
    (mirror,) = load(ws, [same], "Mirror site")
    engine.run(ws)
    assert work_of(ws, mirror) == work_of(ws, ids[0])
