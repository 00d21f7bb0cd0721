"""Reads for payment pages: each is scoped to its owner, so a page can only
ever show the signed-in person's own payments (or, for an organisation's
finance contact, the organisation's)."""

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import Organisation, User
from bookings.models import Transaction

from .models import StatementLine


def bank_details() -> dict[str, str] | None:
    """Where to send a bank transfer, from settings; None when not set up (the
    bank-transfer box is then not shown)."""
    details = {
        "account_name": getattr(settings, "BANK_ACCOUNT_NAME", ""),
        "sort_code": getattr(settings, "BANK_SORT_CODE", ""),
        "account_number": getattr(settings, "BANK_ACCOUNT_NUMBER", ""),
    }
    return details if all(details.values()) else None


def receipts_for_person(*, person: User) -> QuerySet[Transaction]:
    """The person's own payments (not their organisation's)."""
    return Transaction.objects.filter(
        person=person, organisation__isnull=True, kind=Transaction.Kind.PAYMENT
    ).select_related("person")


def receipts_for_organisation(*, organisation: Organisation) -> QuerySet[Transaction]:
    return Transaction.objects.filter(
        organisation=organisation, kind=Transaction.Kind.PAYMENT
    ).select_related("organisation")


def statement_lines_waiting() -> QuerySet[StatementLine]:
    return StatementLine.objects.filter(status=StatementLine.Status.WAITING)
