"""`review import` (export files into the workspace) and `review export` (works out)."""

from __future__ import annotations

import click

from ..harvest.formats import FILE_FORMATS  # a tuple only: keeps --help light
from ._common import db_option, open_ws


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=False))
@click.option(
    "--source", help="Source name for the search log (default: from the file, e.g. Scopus)."
)
@click.option(
    "--arm",
    type=click.Choice(["databases", "registers", "other"]),
    default="databases",
    show_default=True,
    help="PRISMA arm the records count under.",
)
@click.option(
    "--skip-bad", is_flag=True, help="Import the good files of a folder and report the bad ones."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FILE_FORMATS),
    help="Force a format instead of detecting it.",
)
@db_option
def import_cmd(
    paths: tuple[str, ...],
    source: str | None,
    arm: str,
    skip_bad: bool,
    fmt: str | None,
    db_path: str,
) -> None:
    """Import export files (RIS, BibTeX, PubMed/MEDLINE, Web of Science, EndNote, CSV/TSV, OpenAlex
    JSON) or folders of them. Each file is one search-log row and one transaction: a malformed
    file changes nothing."""
    from ..harvest.files import import_files

    ws = open_ws(db_path)
    try:
        report = import_files(ws, list(paths), source=source, arm=arm, skip_bad=skip_bad, fmt=fmt)
    finally:
        ws.close()
    for f in report.imported:
        searches = ", ".join(map(str, f.search_ids or [f.search_id]))
        if len(f.stored_by_source) > 1:  # one search per database the file's records name
            by_db = ", ".join(f"{s} {n}" for s, n in f.stored_by_source.items())
            where = f"databases: {by_db}; searches {searches}"
        else:
            where = f"source {f.source!r}, search {searches}"
        click.echo(
            f"{f.path}: {f.format}, {f.records_found} records found, {f.records_stored} stored "
            f"({where})"
        )
    for f in report.imported:
        if f.note:  # already imported / already stored / repeated within the file
            click.echo(f"{f.path}: {f.note}")
        for warning in f.warnings:
            click.secho(f"warning: {warning}", fg="yellow", err=True)
    for _path, message in report.bad:
        click.secho(f"skipped bad file: {message}", fg="yellow", err=True)
    click.echo(f"{report.records_stored} records stored from {len(report.imported)} file(s).")


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "ris", "bib"]),
    default="csv",
    show_default=True,
    help="Output format.",
)
@click.option("--stage", help="Only works with a decision at this screening stage.")
@click.option(
    "--decision",
    type=click.Choice(["include", "exclude", "maybe"]),
    help="Only works with this decision.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout."
)
@click.option(
    "--records",
    is_flag=True,
    help="One CSV row per record: source, source_record_id, database, search, file, work.",
)
@click.option(
    "--raw",
    is_flag=True,
    help="CSV: keep cells starting with = + - @ as they are (by default they get a ' so "
    "spreadsheets do not run them).",
)
@db_option
def export_cmd(
    fmt: str,
    stage: str | None,
    decision: str | None,
    output: str | None,
    records: bool,
    raw: bool,
    db_path: str,
) -> None:
    """Export every active work (work_id, source, source_record_id, title, abstract, authors, year,
    doi, venue, countries, ..., volume, issue, pages, issn, isbn, pmid, database), optionally only
    those with a screening decision. A merged work lists each record's source, id and database in
    the same order ("; "-separated). RIS and BibTeX keep types, identifiers and the vendor id
    (RIS AN, BibTeX source_record_id), so a re-import gives the same fields back."""
    from ..harvest.export import export

    ws = open_ws(db_path)
    try:
        text, n = export(
            ws, fmt, stage=stage, decision=decision, output=output, records=records, raw=raw
        )
    finally:
        ws.close()
    if output:
        click.echo(f"{n} {'records' if records else 'works'} written to {output}", err=True)
    else:
        click.echo(text, nl=False)


COMMANDS: list[click.Command] = [import_cmd, export_cmd]
