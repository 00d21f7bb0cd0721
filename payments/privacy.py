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

from privacy.registry import Category, not_personal, register

from .models import BankStatement, PaymentReference, StatementLine

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

not_personal(
    BankStatement,
    ["filename"],
    reason="The name staff gave the statement file they uploaded.",
)
