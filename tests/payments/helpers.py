import datetime as dt
from decimal import Decimal

from bookings.models import Transaction
from payments.models import PaymentReference
from payments.references import format_reference
from payments.statements import ParsedLine, ParsedStatement
from tests.accounts.factories import UserFactory


def reference(body: str, *, person=None, organisation=None) -> PaymentReference:
    if person is None and organisation is None:
        person = UserFactory.create()
    return PaymentReference.objects.create(
        code=format_reference(body), person=person, organisation=organisation
    )


def owes(person, amount: str) -> Transaction:
    return Transaction.objects.create(
        person=person,
        kind=Transaction.Kind.CHARGE,
        amount=Decimal(amount),
        description="Place on a course",
    )


def line(description: str, amount: str = "25.00", *, day: int = 1, bank_id: str = ""):
    return ParsedLine(
        booked_on=dt.date(2026, 11, day),
        amount=Decimal(amount),
        description=description,
        bank_id=bank_id,
    )


def statement(*lines: ParsedLine, account: str = "20-00-00/12345678"):
    return ParsedStatement(account=account, lines=list(lines))
