"""Reading bank statements into lines: SWIFT MT940 with the `mt-940` parser,
or CSV with a column mapping chosen by the person uploading. Nothing here
touches the database; a problem with the file is a `StatementError` whose
message says what to fix (never a 500)."""

import csv
import datetime as dt
import hashlib
import io
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import mt940
from django.utils.translation import gettext as _

MAX_LINES = 20_000


class StatementError(Exception):
    """The file cannot be read as a statement; the message is safe to show."""


@dataclass(frozen=True)
class ParsedLine:
    booked_on: dt.date
    amount: Decimal  # positive: money in
    description: str
    bank_id: str = ""


@dataclass(frozen=True)
class ParsedStatement:
    account: str
    lines: list[ParsedLine]


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementError(_("The file is not text."))


def parse_mt940(data: bytes) -> ParsedStatement:
    transactions = mt940.models.Transactions()
    try:
        transactions.parse(_text(data))
    except StatementError:
        raise
    except Exception as exc:  # the parser raises many kinds on a bad file
        raise StatementError(
            _("The file could not be read as an MT940 statement (%(error)s).")
            % {"error": type(exc).__name__}
        ) from exc
    lines = []
    for item in transactions:
        data_ = item.data
        amount = data_.get("amount")
        when = data_.get("date")
        if amount is None or when is None:
            continue
        bank_id = data_.get("bank_reference") or ""
        if bank_id.upper() == "NONREF":
            bank_id = ""
        description = " ".join(
            part
            for part in (
                data_.get("transaction_details") or "",
                data_.get("extra_details") or "",
            )
            if part
        )
        lines.append(
            ParsedLine(
                booked_on=dt.date(when.year, when.month, when.day),
                amount=Decimal(amount.amount).quantize(Decimal("0.01")),
                description=description.strip(),
                bank_id=bank_id.strip(),
            )
        )
    if not lines:
        raise StatementError(
            _("No transactions were found: is this an MT940 statement?")
        )
    if len(lines) > MAX_LINES:
        raise StatementError(_("The statement has too many lines."))
    account = str(transactions.data.get("account_identification") or "")
    return ParsedStatement(account=account.strip(), lines=lines)


def csv_header(data: bytes) -> list[str]:
    """The first row's column names, for the mapping form."""
    rows = csv.reader(io.StringIO(_text(data)))
    try:
        return [name.strip() for name in next(rows)]
    except (StopIteration, csv.Error) as exc:
        raise StatementError(_("The CSV file is empty.")) from exc


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d %b %Y")


def _date(raw: str, row: int, column: str) -> dt.date:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(raw.strip(), fmt).date()  # noqa: DTZ007
        except ValueError:
            continue
    raise StatementError(
        _(
            'Row %(row)d: "%(value)s" in column "%(column)s" is not a date '
            "(use 2026-11-27 or 27/11/2026). Is that the date column?"
        )
        % {"row": row, "value": raw[:40], "column": column}
    )


def _amount(raw: str, row: int, column: str) -> Decimal:
    text = raw.strip().replace("£", "").replace(",", "")
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or abs(value) >= Decimal("1e10"):
        raise StatementError(
            _(
                'Row %(row)d: "%(value)s" in column "%(column)s" is not an amount. '
                "Is that the amount column?"
            )
            % {"row": row, "value": raw[:40], "column": column}
        )
    return value.quantize(Decimal("0.01"))


def parse_csv(
    data: bytes,
    *,
    date_column: str,
    amount_column: str,
    description_column: str,
    bank_id_column: str = "",
    account: str = "",
) -> ParsedStatement:
    """Money in is a positive amount (a bank's "paid in" column)."""
    reader = csv.DictReader(io.StringIO(_text(data)))
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    chosen = [date_column, amount_column, description_column]
    if bank_id_column:
        chosen.append(bank_id_column)
    missing = [c for c in chosen if c not in header]
    if missing:
        raise StatementError(
            _("The file has no column %(names)s. Its columns are: %(header)s.")
            % {
                "names": ", ".join(f'"{c}"' for c in missing),
                "header": ", ".join(f'"{c}"' for c in header) or _("none"),
            }
        )
    if len({date_column, amount_column, description_column}) < 3:
        raise StatementError(
            _("Choose a different column for each of date, amount and description.")
        )
    lines = []
    try:
        for number, row in enumerate(reader, start=2):
            if not any((value or "").strip() for value in row.values()):
                continue
            if len(lines) >= MAX_LINES:
                raise StatementError(_("The statement has too many lines."))
            lines.append(
                ParsedLine(
                    booked_on=_date(row[date_column] or "", number, date_column),
                    amount=_amount(row[amount_column] or "", number, amount_column),
                    description=(row[description_column] or "").strip()[:1000],
                    bank_id=(row[bank_id_column] or "").strip()[:64]
                    if bank_id_column
                    else "",
                )
            )
    except csv.Error as exc:
        raise StatementError(
            _("The CSV file could not be read (%(error)s).") % {"error": exc}
        ) from exc
    if not lines:
        raise StatementError(_("The CSV file has no rows under its header."))
    return ParsedStatement(account=account.strip()[:64], lines=lines)


def fingerprints(statement: ParsedStatement) -> list[str]:
    """One per line, the same every time the same statement is read: the bank's
    id where it gives one (with the date and amount, as some banks reuse ids
    across days), else account, date, amount and description with the line's
    occurrence among identical lines in the file, so two real payments that
    look alike stay two lines."""
    seen: Counter = Counter()
    out = []
    for line in statement.lines:
        if line.bank_id:
            key = ("id", statement.account, line.bank_id, line.booked_on, line.amount)
        else:
            base = (statement.account, line.booked_on, line.amount, line.description)
            seen[base] += 1
            key = ("line", *base, seen[base])
        out.append(hashlib.sha256(repr(key).encode()).hexdigest())
    return out
