"""Reads for payment pages: each is scoped to its owner, so a page can only
ever show the signed-in person's own payments (or, for an organisation's
finance contact, the organisation's)."""

from decimal import Decimal

from django.conf import settings
from django.db.models import Q, QuerySet, Sum

from accounts.models import Organisation, User
from bookings.models import Transaction

from .models import CardPayment, StatementLine


def bank_details() -> dict[str, str] | None:
    """Where to send a bank transfer, from settings; None when not set up (the
    bank-transfer box is then not shown)."""
    details = {
        "account_name": getattr(settings, "BANK_ACCOUNT_NAME", ""),
        "sort_code": getattr(settings, "BANK_SORT_CODE", ""),
        "account_number": getattr(settings, "BANK_ACCOUNT_NUMBER", ""),
    }
    return details if all(details.values()) else None


def card_payments_enabled() -> bool:
    from .gateway import enabled

    return enabled()


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


def balances(*, person: User) -> tuple[Decimal, Decimal]:
    """In one query, what the person's transactions add up to, and what they
    owe themself: the same less the places charged to their organisation."""
    totals = Transaction.objects.filter(person=person).aggregate(
        every=Sum("amount"), own=Sum("amount", filter=Q(organisation__isnull=True))
    )
    return (totals["every"] or Decimal("0.00"), totals["own"] or Decimal("0.00"))


def own_balance(*, person: User) -> Decimal:
    """What the person owes themself (not places charged to their organisation)."""
    return balances(person=person)[1]


def unpaid_places(*, person: User) -> dict[int, Transaction]:
    """The person's live places not yet paid for, as {booking id: its charge}.

    A person's own balance (not their organisation's) is one sum, so payments
    are taken to pay the oldest charges first: what is still owed belongs to
    the newest charges. A place partly paid counts as unpaid."""
    from bookings.models import Booking

    rows = Transaction.objects.filter(person=person, organisation__isnull=True)
    owed = own_balance(person=person)
    unpaid: dict[int, Transaction] = {}
    if owed <= 0:
        return unpaid
    live = (
        Booking.Status.CONFIRMED,
        Booking.Status.AWAITING_APPROVAL,
        Booking.Status.OFFERED,
        Booking.Status.ATTENDED,
        Booking.Status.NO_SHOW,
    )
    charges = (
        rows.filter(kind=Transaction.Kind.CHARGE)
        .filter(Q(booking__isnull=True) | Q(booking__status__in=live))
        .order_by("-created_at", "-pk")
    )
    for charge in charges.iterator():
        if owed <= 0:
            break
        if charge.booking_id is not None:
            unpaid[charge.booking_id] = charge
        owed -= charge.amount
    return unpaid


def card_payment_for(*, user: User, pk: int) -> CardPayment | None:
    """A card payment the user may see: their own, or their organisation's
    when they are its finance contact."""
    from accounts.selectors import holds_role

    payment = (
        CardPayment.objects.select_related("reference__organisation", "transaction")
        .filter(pk=pk)
        .first()
    )
    if payment is None:
        return None
    reference = payment.reference
    if reference.person_id == user.pk:
        return payment
    if reference.organisation_id and holds_role(
        user, reference.organisation, "is_finance_contact"
    ):
        return payment
    return None
