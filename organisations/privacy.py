"""What the organisations app holds about a person: their name on the lines of
their organisation's invoices and credit notes (places charged to its account).

Invoices are under the finance legal hold: erasure keeps every document, line
and amount, and removes only the attendee's name from the lines. The ledger rows
behind them are declared by bookings (`transactions`)."""

from privacy.registry import Category, not_personal, register

from .models import Invoice, InvoiceLine, InvoiceSequence

FINANCE_HOLD = (
    "Finance: accounting law requires the invoices and credit notes we issue "
    "to organisations to be kept for six years, so they are kept; the "
    "attendee's name is removed from them."
)


def export_invoice_lines(person) -> list[dict]:
    return [
        {
            "document": line.invoice.get_kind_display(),
            "number": line.invoice.number,
            "issued_at": line.invoice.issued_at,
            "billed_to": line.invoice.organisation_name,
            "description": line.description,
            "attendee_name": line.attendee_name,
            "purchase_order": line.purchase_order,
            "amount": line.amount,
        }
        for line in InvoiceLine.objects.filter(transaction__person=person)
        .select_related("invoice")
        .order_by("invoice__issued_at", "pk")
    ]


def erase_invoice_lines(person) -> None:
    InvoiceLine.objects.filter(transaction__person=person).update(attendee_name="")


register(
    Category(
        name="organisation_invoice_lines",
        owner="transaction__person",
        model=InvoiceLine,
        fields=["attendee_name", "description"],
        export=export_invoice_lines,
        erase=erase_invoice_lines,
        legal_hold=FINANCE_HOLD,
        kept_on_erasure={
            "description": "Financial records are kept for six years (HMRC); "
            "the course and date of the place, written by our code.",
        },
        note="Your name on your organisation's invoices for places charged to "
        "its account. The invoices are kept, as accounting law requires; your "
        "name is removed from them.",
    )
)

not_personal(
    InvoiceLine,
    ["purchase_order"],
    reason="The organisation's purchase-order number for the place.",
)
not_personal(
    Invoice,
    ["organisation_name", "purchase_order"],
    reason="The organisation billed and its purchase-order number.",
)
not_personal(InvoiceSequence, ["name"], reason="The name of a numbering series.")
