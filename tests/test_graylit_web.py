"""add-web: real saved UNDP pages (Markdown) and an HTML page, boilerplate stripped."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS, DATA

from review.cli import cli
from review.errors import HarvestError
from review.harvest.documents import country_code, parse_date
from review.harvest.web import add_web, common_lines, read_page

PAGES = DATA / "graylit"
NAMIBIA = PAGES / "blog_a_first_mapping_of_local_innovators_in_namibia.md"
PLACEHOLDER_WITH_DATE = (
    PAGES
    / "blog_a_model_for_circular_and_sustainable_food_production_localisation_and_replication.md"
)
LISTING_1970 = PAGES / "blog_home_lesotho_blogs_lesotho_blogs.md"
ANGOLA_PT = PAGES / "blog_angola_no_equador_a_experi_ncia.md"
MD_FILES = sorted(PAGES.glob("*.md"))
PAGE_FILES = [p for p in MD_FILES if p.name != "README.md"]


def test_markdown_page_fields_and_boilerplate():
    page = read_page(NAMIBIA)
    assert page.title == "A first mapping of local innovators in Namibia"
    assert page.url == "https://www.undp.org/namibia/blog/first-mapping-local-innovators-namibia"
    assert page.year == 2019 and page.date == "2019-09-12"
    assert page.countries == ("Namibia",) and page.country_codes == ("NA",)
    assert page.record_type == "blog" and page.kind == "md" and page.language == "en"
    for junk in (
        "Skip to main content",
        "WHO WE ARE",
        "READ MORE",
        "Report Fraud",
        "© 2023",
        "[[",
        "Scam Alert",
    ):
        assert junk not in page.text, junk
    assert "the new UNDP Accelerator Labs could not have come at better time." in page.text
    assert (
        "the sky’s the limit!" in page.text
    )  # the article's last sentence survives the footer cut
    assert "A Toolkit for Public Sector Innovators" not in page.text  # related items are gone
    assert page.abstract and page.abstract.startswith(
        "With the Namibian government’s recent declaration"
    )
    assert "Skip" not in page.abstract


def test_placeholder_year_1970():
    listing = read_page(LISTING_1970)
    assert listing.year is None and listing.date is None
    # year tag 1970 (unknown) but a real date tag: the date gives the year
    dated = read_page(PLACEHOLDER_WITH_DATE)
    assert dated.tags["year"] == ["1970"]
    assert dated.year == 2021 and dated.date == "2021-12-08"
    assert dated.countries == ("South Africa",) and dated.country_codes == ("ZA",)


def test_portuguese_page_without_year_tag():
    page = read_page(ANGOLA_PT)
    assert page.language == "pt"
    assert page.year == 2019 and page.date == "2019-11-05"  # from "5 DE NOVEMBER DE 2019"
    assert "QUEM SOMOS" not in page.text
    assert "o quarteto angolano aterrou em Quito" in page.text


def test_dates_and_countries():
    assert parse_date("15 SEPTEMBRE 2024") == "2024-09-15"
    assert parse_date("January 1, 1970") is None
    assert parse_date("2023-06-20T10:00:00Z") == "2023-06-20"
    assert [country_code(c) for c in ("Eswatini", "Swaziland", "Tanzania", "Mauritius", "Atlantis")] == [
        "SZ", "SZ", "TZ", "MU", None
    ]  # fmt: skip


def test_html_page_drops_nav_header_footer_script(tmp_path: Path):
    html = tmp_path / "page.html"
    html.write_text(
        """<!doctype html><html lang="en"><head><title>Smart Lusaka | City Portal</title>
        <link rel="canonical" href="https://example.org/smart-lusaka">
        <meta property="article:published_time" content="2022-04-05T08:00:00Z">
        <script>var tracking = "Skip to main content";</script><style>p {color: red}</style></head>
        <body><a class="skip-link" href="#main">Skip to main content</a>
        <header><nav><ul><li>Home</li><li>About us</li><li>Projects</li></ul></nav></header>
        <main><h1>Smart Lusaka: a digital city strategy</h1>
        <p>The city council adopted a digital strategy that links open data, e-services and
        street lighting in three wards of Lusaka.</p>
        <p>Residents were consulted through ward meetings &amp; an SMS survey before the plan was approved.</p>
        </main><div class="share-buttons">Share on Facebook</div>
        <footer><p>Contact us</p><p>&copy; 2024 City Portal</p></footer></body></html>""",
        encoding="utf-8",
    )
    page = read_page(html)
    assert page.kind == "html"
    assert page.title == "Smart Lusaka: a digital city strategy"
    assert page.url == "https://example.org/smart-lusaka"
    assert page.date == "2022-04-05" and page.year == 2022
    for junk in (
        "Skip to main content",
        "About us",
        "tracking",
        "color",
        "Share on Facebook",
        "2024 City Portal",
    ):
        assert junk not in page.text, junk
    assert "ward meetings & an SMS survey" in page.text
    assert page.abstract and page.abstract.startswith("The city council adopted a digital strategy")


def test_add_web_batch_log_countries_and_readd(ws, tmp_path: Path):
    result = add_web(ws, [PAGES], source="UNDP Accelerator Labs")
    assert len(result.added) == len(PAGE_FILES) == 6
    search = ws.db.execute(
        "SELECT source, arm, kind, records_found, records_stored FROM searches"
    ).fetchone()
    assert search == ("UNDP Accelerator Labs", "other", "web", 6, 6)
    rec = ws.db.execute(
        "SELECT source_record_id, year, published_date, extra, work_id, arm, file_sha256, url FROM records"
        " WHERE source_record_id LIKE '%first-mapping%'"
    ).fetchone()
    assert rec[1] == 2019 and rec[2] == "2019-09-12" and rec[5] == "other"
    assert json.loads(rec[3])["countries"] == ["Namibia"]
    assert rec[0] == rec[7]
    wc = ws.db.execute(
        "SELECT country, kind, origin FROM work_countries WHERE work_id = ?", [rec[4]]
    ).fetchall()
    assert wc == [("NA", "study", "source-tag")]
    codes = {r[0] for r in ws.db.execute("SELECT country FROM work_countries")}
    assert codes == {"NA", "ZA", "LS", "AO", "SZ", "TZ"}
    doc = ws.db.execute(
        "SELECT kind, path, text FROM documents WHERE work_id = ?", [rec[4]]
    ).fetchone()
    assert doc[0] == "md" and (ws.files_dir / doc[1]).read_bytes() == NAMIBIA.read_bytes()
    assert "Skip to main content" not in doc[2]
    # re-adding (even from a copy elsewhere) stores nothing new
    copy = tmp_path / "again"
    shutil.copytree(PAGES, copy)
    again = add_web(ws, [copy], source="UNDP Accelerator Labs")
    assert again.added == [] and len(again.duplicates) == 6
    assert ws.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 6
    assert ws.db.execute("SELECT COUNT(*) FROM work_countries").fetchone()[0] == 6


def test_gray_literature_refuses_a_databases_arm_source(ws):
    with pytest.raises(HarvestError, match="other"):
        add_web(ws, [NAMIBIA], source="OpenAlex")


def test_cli_add_web_with_url(db_path: str, tmp_path: Path):
    page = tmp_path / "saved.md"
    page.write_text("# Digital municipal services in Maputo\n\nSkip to main content\nMENU\n"
                    "The municipality of Maputo moved permit applications online in 2021, and queues fell sharply.\n",
                    encoding="utf-8")  # fmt: skip
    r = CliRunner().invoke(
        cli, ["add-web", str(page), "--url", "https://example.org/maputo", "--db", db_path]
    )
    assert r.exit_code == 0, r.output
    assert "1 pages added" in r.output
    out = CliRunner().invoke(cli, ["searches", "--json", "--db", db_path])
    assert json.loads(out.output)[0]["kind"] == "web"
    bad = CliRunner().invoke(
        cli, ["add-web", str(page), str(NAMIBIA), "--url", "https://x.org", "--db", db_path]
    )
    assert bad.exit_code != 0


def test_common_lines_are_navigation():
    common = common_lines(PAGE_FILES)
    assert "Skip to main content" in common
    assert not any(len(line.split()) > 8 for line in common)


def test_demo_corpus_is_fast(ws):
    folder = CORPUS / "gray" / "undp"
    if not folder.exists():
        pytest.skip("demo corpus absent")
    t = time.perf_counter()
    result = add_web(ws, [folder], source="UNDP Accelerator Labs")
    assert time.perf_counter() - t < 20  # < 10 s on an idle machine; CI boxes are shared
    assert len(result.added) == 176
    years = [r[0] for r in ws.db.execute("SELECT year FROM records")]
    assert 1970 not in years and years.count(None) == 5
    text = ws.db.execute("SELECT group_concat(text, ' ') FROM documents").fetchone()[0]
    assert "Skip to main content" not in text
