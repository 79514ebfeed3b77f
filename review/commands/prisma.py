"""`review prisma`: the PRISMA 2020 flow diagram, its CSV, its queries and its arithmetic."""

from __future__ import annotations

import click

from ._common import db_option, open_ws


@click.command("prisma")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output file; the format follows the extension: .svg .pdf .png .html .csv"
    " (default exports/prisma.svg unless --check/--explain alone).",
)
@click.option(
    "--dpi", type=click.IntRange(36, 1200), default=200, show_default=True, help="PNG resolution."
)
@click.option(
    "--explain",
    "explain",
    is_flag=False,
    flag_value="*",
    default=None,
    metavar="[NUMBER]",
    help="Print each number with its SQL and the work ids it counts; --explain NAME"
    " (e.g. records_excluded) lists every id of one number.",
)
@click.option(
    "--check",
    "check_",
    is_flag=True,
    help="Verify the PRISMA arithmetic; exit 1 naming a broken identity.",
)
@click.option(
    "--reasons-at-screening",
    is_flag=True,
    help="Also list exclusion reasons at title/abstract screening.",
)
@db_option
def prisma_cmd(
    output: str | None,
    dpi: int,
    explain: str | None,
    check_: bool,
    reasons_at_screening: bool,
    db_path: str,
) -> None:
    """Draw the PRISMA 2020 flow diagram (both arms) from the workspace logs.

    \b
    review prisma -o exports/prisma.svg          # also .pdf .png (--dpi) .html .csv
    review prisma --check                        # verify the arithmetic
    review prisma --explain                      # every number with its SQL and work ids
    review prisma --explain records_excluded     # one number down to all its work ids
    The .csv is the PRISMA2020 R package's template (PRISMA_flowdiagram).
    """
    from ..prisma import compute
    from ..prisma import explain as explain_text
    from ..prisma.check import check, identities, pending
    from ..prisma.render import write

    ws = open_ws(db_path)
    flow = compute(ws, reasons_at_screening=reasons_at_screening)
    if explain:
        box = None if explain == "*" else explain
        click.echo(explain_text(flow, ws, box=box))
    if check_:
        for ident in identities(flow):
            click.echo(str(ident))
        for note in pending(flow):
            click.echo(f"in progress: {note}")
        check(flow)  # raises PrismaError naming the broken identities
    if output is None and (explain or check_):
        return
    path = write(flow, output or "exports/prisma.svg", dpi=dpi)
    click.echo(f"Wrote {path}")


COMMANDS: list[click.Command] = [prisma_cmd]
