"""A report table as CSV or XLSX. Every text cell goes through
`config.spreadsheet.safe_cell`, so a course or area named "=HYPERLINK(...)"
is text, not a formula, in either file. XLSX is written by openpyxl (numbers
as numbers, hidden values as the text "<5")."""

import csv
import io
import itertools
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import BinaryIO

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


def table_xlsx(table: Table, *, filters: str) -> BinaryIO:
    """The XLSX in a temporary file, at its start, for the view to send and
    close (which deletes it). openpyxl's write-only mode writes the rows to
    a file as they come, and the zip it saves is written to this one, so a
    download of every session in five years is never held in memory whole,
    and is whole before the first byte is sent: an error while writing it
    is an error page, not a cut-off file."""
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
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
    try:
        book.save(out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out


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
