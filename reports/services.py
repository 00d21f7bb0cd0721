"""The one write of the reports: a download. Each CSV or XLSX download is
recorded in the audit trail (who, which report, which filters) before the
file is handed over; the file itself is made by `reports.exports`."""

from collections.abc import Iterator
from typing import BinaryIO

from django.db import transaction

from accounts.models import User
from privacy.services import audit

from .exports import table_csv, table_xlsx
from .selectors import Table

FORMATS = {
    "csv": ("text/csv; charset=utf-8", table_csv),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        table_xlsx,
    ),
}


class ReportsError(Exception):
    pass


@transaction.atomic
def download_report(
    table: Table, *, fmt: str, filters: str, by: User
) -> tuple[Iterator[bytes] | BinaryIO, str, str]:
    """(content, content type, file name) of `table` as `fmt`, audited. CSV
    content is an iterator of pieces, XLSX a temporary file at its start:
    both to be streamed, neither held in memory whole."""
    if fmt not in FORMATS:
        raise ReportsError("Choose CSV or XLSX.")
    content_type, build = FORMATS[fmt]
    content = build(table, filters=filters)
    audit(
        "report downloaded",
        person=None,
        by=by,
        detail=f"{table.key} report as {fmt.upper()}: {filters}"
        + ("; suppressed" if table.suppressed else ""),
    )
    return content, content_type, f"{table.key}-report.{fmt}"
