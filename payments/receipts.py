"""What a receipt says, shared by its page and its PDF."""

from django.utils import timezone

from bookings.models import Transaction


def receipt_number(payment: Transaction) -> str:
    return f"R-{payment.pk:06d}"


def receipt_filename(payment: Transaction) -> str:
    return f"receipt-{receipt_number(payment)}.pdf"


def receipt_facts(payment: Transaction, *, payer: str) -> list[tuple[str, str]]:
    facts = [
        ("Receipt number", receipt_number(payment)),
        ("Date", f"{timezone.localtime(payment.created_at):%d %B %Y}"),
        ("Received from", payer),
        ("Amount", f"£{abs(payment.amount):,.2f}"),
        ("Paid by", payment.get_means_display() or "Recorded by staff"),
    ]
    if payment.reference:
        facts.append(("Reference", payment.reference))
    return facts
