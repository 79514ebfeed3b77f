"""Excel workbooks (.xlsx/.xlsm): the first sheet's rows go through the CSV column mapping.

The first non-empty row is the header; cells become text the way a CSV export would show them
(integral numbers without ``.0``, dates as ISO ``YYYY-MM-DD``). openpyxl is imported lazily.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...errors import FormatError
from ...models import Record
from . import csvfmt

EXTENSIONS = (".xlsx", ".xlsm")


def looks_like(path: str | Path) -> bool:
    """An OOXML workbook: a zip archive holding ``xl/workbook.xml``."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            if f.read(4) != b"PK\x03\x04":
                return False
        with zipfile.ZipFile(p) as z:
            return "xl/workbook.xml" in z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read(path: str | Path) -> tuple[list[Record], str, str | None]:
    """Records, format name (``xlsx`` or the vendor's ``*-csv`` flavour) and source name."""
    try:
        import openpyxl
    except ImportError as e:  # pragma: no cover - openpyxl is a dependency
        raise FormatError("reading Excel files needs openpyxl (pip install openpyxl)") from e
    name = str(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises zip, XML and its own errors
        raise FormatError(f"unreadable Excel workbook ({type(e).__name__}: {e})", path=name) from e
    try:
        if not wb.worksheets:
            raise FormatError("workbook has no sheets", path=name)
        sheet = wb.worksheets[0]
        rows: Iterator[list[str]] = (
            [cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)
        )
        header: list[str] | None = None
        header_row = 0
        while header is None:
            row = next(rows, None)
            if row is None:
                break
            header_row += 1
            if any(c.strip() for c in row):
                header = row
        if header is None:
            raise FormatError(f"first sheet {sheet.title!r} is empty", path=name)
        records, fmt, source = csvfmt.read_rows(
            header, rows, name, header_at=f"sheet {sheet.title!r} row {header_row}", generic="xlsx"
        )
    finally:
        wb.close()
    return records, fmt, source
