"""Gray-literature commands: add-pdf, add-web (PRISMA's "other methods" arm)."""

from __future__ import annotations

from typing import Any

import click

from ._common import db_option, open_ws

# PRISMA 2020's other-methods boxes: websites, organisations, citation searching
_KIND = click.Choice(["website", "organisation", "citations"])


def _report(result: Any, what: str) -> None:
    click.echo(
        f"Search #{result.search_id}: {len(result.added)} {what} added to the 'other' arm"
        f" ({result.found} read, {len(result.duplicates)} already stored)"
    )
    for path, message in result.failed:
        click.secho(f"skipped bad file {path}: {message}", fg="yellow", err=True)
    for warning in result.warnings:  # an AddResult (harvest/batch.py)
        click.secho(f"warning: {warning}", fg="yellow", err=True)


@click.command("add-pdf")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--source",
    help="Source name (a protocol source, e.g. an organisation). Default: 'PDF reports'.",
)
@click.option(
    "--kind",
    type=_KIND,
    help="PRISMA box: website, organisation or citations (citation searching). Default: the"
    " protocol source's kind, else organisation.",
)
@click.option("--url", help="Where the PDF was downloaded from (one file only).")
@click.option(
    "--skip-bad", is_flag=True, help="In a batch, add the good files and report the bad ones."
)
@db_option
def add_pdf(
    paths: tuple[str, ...],
    source: str | None,
    kind: str | None,
    url: str | None,
    skip_bad: bool,
    db_path: str,
) -> None:
    """Add PDF reports (files or folders) as gray literature.

    Text, page count, metadata, title, year, DOI, ISBN and language are extracted (DOI, year and
    ISBN from the metadata and first pages only, never a reference list; the abstract from an
    Abstract/Summary heading; degree and institution for theses). Pages without a text layer are
    reported, and read by OCR when Tesseract is installed. Each file is copied into the
    workspace's file store (by SHA-256), so adding the same file twice does nothing. A corrupt or
    encrypted PDF stops the batch and changes nothing, unless --skip-bad.
    """
    from ..harvest.pdf import add_pdfs

    result = add_pdfs(open_ws(db_path), paths, source=source, kind=kind, url=url, skip_bad=skip_bad)
    _report(result, "PDFs")


@click.command("add-web")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--url", help="The page's address, when the saved file does not carry it (one file only)."
)
@click.option(
    "--source", help="Source name (a protocol source, e.g. a website). Default: 'Web pages'."
)
@click.option(
    "--kind",
    type=_KIND,
    help="PRISMA box: website, organisation or citations (citation searching). Default: the"
    " protocol source's kind, else website.",
)
@click.option(
    "--skip-bad", is_flag=True, help="In a batch, add the good pages and report the bad ones."
)
@db_option
def add_web(
    paths: tuple[str, ...],
    url: str | None,
    source: str | None,
    kind: str | None,
    skip_bad: bool,
    db_path: str,
) -> None:
    """Add saved web pages (HTML or Markdown files, or folders of them) as gray literature.

    Navigation, menus and footers are stripped; title, URL, date, year, type and country tags
    ([[source:…]] [[year:…]] [[date:…]] [[country:…]] [[type:…]]) are kept. Year 1970 means unknown.
    """
    from ..harvest.web import add_web as add_pages

    result = add_pages(
        open_ws(db_path), paths, url=url, source=source, kind=kind, skip_bad=skip_bad
    )
    _report(result, "pages")


COMMANDS: list[click.Command] = [add_pdf, add_web]
