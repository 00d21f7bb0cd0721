"""A report table as CSV or XLSX bytes. Every text cell goes through
`config.spreadsheet.safe_cell`, so a course or area named "=HYPERLINK(...)"
is text, not a formula, in either file. XLSX is written by openpyxl (numbers
as numbers, hidden values as the text "<5")."""

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from config.spreadsheet import safe_cell

from .selectors import Hidden, Table


def _header(table: Table) -> list[str]:
    return [table.group_label, *(heading for heading, _ in table.columns)]


def _rows(table: Table) -> Iterable[list]:
    # Rows may be a generator (every session of a long range): read once.
    return itertools.chain(table.rows, [table.totals] if table.totals else [])


def _preamble(table: Table, filters: str) -> list[str]:
    lines = [table.title, filters]
    if table.suppressed:
        lines.append(
            "Counts below the threshold are shown as <N>, with other cells "
            "hidden so that they cannot be worked out from the totals."
        )
    return lines


# Rows written between the pieces a CSV download is sent in.
CSV_ROWS_PER_PIECE = 1000


def table_csv(table: Table, *, filters: str) -> Iterator[bytes]:
    """The CSV, a thousand rows at a time, so that a download of every
    session in five years is never held whole (the view streams it)."""
    out = io.StringIO()
    writer = csv.writer(out)

    def piece() -> bytes:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text.encode("utf-8")

    # A byte-order mark: spreadsheets then read "£" and accents as UTF-8.
    yield "\ufeff".encode()
    for line in _preamble(table, filters):
        writer.writerow([safe_cell(line)])
    writer.writerow([safe_cell(h) for h in _header(table)])
    for n, row in enumerate(_rows(table), 1):
        writer.writerow([_csv_cell(v) for v in row])
        if n % CSV_ROWS_PER_PIECE == 0:
            yield piece()
    yield piece()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Hidden):
        return str(value)
    return safe_cell(value)


def table_xlsx(table: Table, *, filters: str) -> bytes:
    # Write-only: rows are streamed out, so ten thousand sessions stay cheap.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.key[:31])
    for line in _preamble(table, filters):
        sheet.append([safe_cell(line)])
    header = []
    for heading in _header(table):
        cell = WriteOnlyCell(sheet, value=safe_cell(heading))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in _rows(table):
        sheet.append([_xlsx_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return safe_cell(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    # Hidden values and labels are text, made formula-safe.
    return safe_cell(value)
