"""What payments holds about a person: their payment reference, and the bank
statement lines of payments they made (the bank's description usually carries
the payer's name).

Erasure: the ledger rows (bookings' `transactions`) and the statement lines
are kept, with dates and amounts, as accounting law requires; the lines'
description and staff note are cleared, so the payment stays without the
person's name. The reference code is kept: it is printed on bank records
and on the payment rows themselves, and names no one once the account is
anonymised. Lines that are waiting or ignored belong to no one we know and
are not in anyone's export.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from privacy.registry import Category, not_personal, register, register_retention

from .models import (
    BankStatement,
    CardPayment,
    CardRefund,
    PaymentReference,
    StatementLine,
)

FINANCE = (
    "Financial records are kept for six years (HMRC); the reference payers "
    "quote on bank transfers, which names no one once the account is anonymised."
)


def export_references(person) -> list[dict]:
    return list(
        PaymentReference.objects.filter(person=person).values("code", "created_at")
    )


def export_statement_lines(person) -> list[dict]:
    return [
        {
            "date": line.booked_on,
            "amount": line.amount,
            "description": line.description,
            "status": line.get_status_display(),
            "reference": line.reference.code if line.reference else "",
            "note": line.note,
        }
        for line in StatementLine.objects.filter(transaction__person=person)
        .select_related("reference")
        .order_by("booked_on", "pk")
    ]


def erase_statement_lines(person) -> None:
    StatementLine.objects.filter(transaction__person=person).update(
        description="", note=""
    )


register(
    Category(
        name="payment_references",
        model=PaymentReference,
        fields=["code"],
        export=export_references,
        erase=lambda person: None,
        kept_on_erasure={"code": FINANCE},
        note="The reference you quote when you pay by bank transfer.",
    )
)
register(
    Category(
        name="bank_statement_lines",
        model=StatementLine,
        owner="transaction__person",
        fields=["description", "note"],
        export=export_statement_lines,
        erase=erase_statement_lines,
        note="The lines of our bank statement for bank transfers you made: the "
        "date, the amount and what your bank sent with it (usually your name). "
        "Kept as accounting law requires; what your bank sent is removed on "
        "erasure.",
    )
)

STRIPE_IDS = (
    "Stripe's own references for a card payment or refund, kept for six years "
    "(HMRC) so a refund or a disputed payment can be traced; they name no one "
    "once the account is anonymised."
)


def export_card_payments(person) -> list[dict]:
    rows = CardPayment.objects.filter(
        Q(reference__person=person) | Q(started_by=person)
    ).select_related("reference__organisation")
    return [
        {
            "started": payment.created_at,
            "amount": payment.amount,
            "status": payment.get_status_display(),
            "for": payment.reference.organisation.name
            if payment.reference.organisation_id
            else "yourself",
            "stripe_checkout_session": payment.checkout_session_id or "",
            "stripe_payment": payment.payment_intent_id,
            "checkout_url": payment.checkout_url,
        }
        for payment in rows.order_by("created_at", "pk")
    ]


def erase_card_payments(person) -> None:
    CardPayment.objects.filter(
        Q(reference__person=person) | Q(started_by=person)
    ).update(checkout_url="")


def export_card_refunds(person) -> list[dict]:
    return [
        {
            "asked": refund.created_at,
            "amount": refund.amount,
            "status": refund.get_status_display(),
            "stripe_refund": refund.stripe_refund_id or "",
        }
        for refund in CardRefund.objects.filter(
            card_payment__reference__person=person
        ).order_by("created_at", "pk")
    ]


register(
    Category(
        name="card_payments",
        model=CardPayment,
        owner=("reference__person", "started_by"),
        fields=["checkout_session_id", "payment_intent_id", "checkout_url"],
        export=export_card_payments,
        erase=erase_card_payments,
        kept_on_erasure={
            "checkout_session_id": STRIPE_IDS,
            "payment_intent_id": STRIPE_IDS,
        },
        note="Card payments you made (or began for your organisation) through "
        "Stripe: the amount, whether it was paid, and Stripe's references. "
        "Never your card details, which only Stripe sees.",
    )
)
register(
    Category(
        name="card_refunds",
        model=CardRefund,
        owner="card_payment__reference__person",
        fields=["stripe_refund_id"],
        export=export_card_refunds,
        erase=lambda person: None,
        kept_on_erasure={"stripe_refund_id": STRIPE_IDS},
        note="Money refunded to your card through Stripe.",
    )
)
not_personal(
    CardRefund,
    ["last_error"],
    reason="Why Stripe could not refund: Stripe's status word, no personal data.",
)

not_personal(
    BankStatement,
    ["filename"],
    reason="The name staff gave the statement file they uploaded.",
)


def clear_old_bank_lines() -> int:
    """After the accounting period, a statement line keeps its date, amount
    and fingerprint (so the statement is still never paid twice) but loses
    what the payer's bank sent with it, usually their name: matched or not,
    waiting, ignored or money out."""
    years = settings.PRIVACY_RETENTION["bank_lines_years"]
    cutoff = timezone.localdate() - dt.timedelta(days=365 * years + years // 4)
    return (
        StatementLine.objects.filter(booked_on__lt=cutoff)
        .exclude(description="", note="")
        .update(description="", note="")
    )


register_retention("bank statement line descriptions", clear_old_bank_lines)
