"""Organisation account writes: consolidated invoices and credit notes over an
organisation's ledger (`bookings.Transaction` rows with `organisation` set),
and payments received on the account.

- Each organisation is invoiced in its own transaction, with its row locked, so
  two runs at once never put a ledger row on two documents (the database also
  refuses it: `InvoiceLine.transaction` is unique). Running the same period
  again issues nothing new.
- Numbers come from `InvoiceSequence` rows locked in that same transaction:
  consecutive, and a run that fails gives its numbers back.
- An issued document is never changed. A refund of a place whose charge is on
  an issued invoice is put on a credit note that names that invoice; a refund
  made before the charge was invoiced is netted on the same invoice.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from bookings import services as booking_services
from bookings.models import Transaction

from .models import Invoice, InvoiceLine, InvoiceSequence

CENT = Decimal("0.01")
INVOICED_KINDS = (
    Transaction.Kind.CHARGE,
    Transaction.Kind.REFUND,
    Transaction.Kind.CREDIT,
)
REDUCING_KINDS = (Transaction.Kind.REFUND, Transaction.Kind.CREDIT)


class OrganisationsError(Exception):
    """A refusal whose message is safe to show."""


def _check_period(period_start: dt.date, period_end: dt.date) -> None:
    if period_end < period_start:
        raise OrganisationsError(
            _("The end of the period must be the same as or after its start.")
        )
    if period_end > timezone.localdate():
        raise OrganisationsError(
            _("The period cannot end after today: charges after today are not known.")
        )


def _lock_sequences() -> dict[str, InvoiceSequence]:
    """Both counters, created if missing, locked in one fixed order so two runs
    never wait on each other in a cycle."""
    names = sorted(Invoice.Kind.values)
    InvoiceSequence.objects.bulk_create(
        [InvoiceSequence(name=name) for name in names], ignore_conflicts=True
    )
    locked = InvoiceSequence.objects.select_for_update().filter(name__in=names)
    return {s.name: s for s in locked.order_by("name")}


def _take_number(sequences: dict[str, InvoiceSequence], kind: str) -> str:
    sequence = sequences[kind]
    number = sequence.next_number
    InvoiceSequence.objects.filter(pk=sequence.pk).update(
        next_number=F("next_number") + 1
    )
    sequence.next_number = number + 1
    return f"{Invoice.PREFIX[kind]}-{number:06d}"


def _vat(net: Decimal, rate: Decimal) -> Decimal:
    return (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _attendee(row: Transaction) -> str:
    person = row.person
    if person is None or person.erased_at is not None:
        return ""
    return person.get_full_name() or person.email


def _issue(
    *,
    kind: str,
    organisation: Organisation,
    rows: list[Transaction],
    period: tuple[dt.date, dt.date],
    vat_rate: Decimal,
    by: User | None,
    sequences: dict[str, InvoiceSequence],
    purchase_order: str | None = None,
    credits_invoice: Invoice | None = None,
) -> Invoice:
    line_pos = [row.booking.purchase_order if row.booking else "" for row in rows]
    if purchase_order is None:
        # One PO for the whole document when every line names the same one;
        # otherwise the organisation's yearly PO, with each line's own shown.
        shared = set(line_pos)
        purchase_order = (
            shared.pop()
            if len(shared) == 1 and "" not in shared
            else organisation.purchase_order
        )
    net = sum((row.amount for row in rows), start=Decimal("0"))
    vat = _vat(net, vat_rate)
    invoice = Invoice.objects.create(
        number=_take_number(sequences, kind),
        kind=kind,
        organisation=organisation,
        organisation_name=organisation.name,
        period_start=period[0],
        period_end=period[1],
        purchase_order=purchase_order,
        credits_invoice=credits_invoice,
        vat_rate=vat_rate,
        net_total=net,
        vat_amount=vat,
        total=net + vat,
        issued_by=by,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            transaction=row,
            description=row.description,
            attendee_name=_attendee(row),
            purchase_order=po,
            amount=row.amount,
        )
        for row, po in zip(rows, line_pos, strict=True)
    )
    return invoice


def _invoice_organisation(
    organisation: Organisation,
    *,
    period: tuple[dt.date, dt.date],
    vat_rate: Decimal,
    by: User | None,
) -> list[Invoice]:
    # The organisation's row lock makes concurrent runs for it take turns; the
    # second one then finds every row already on a document.
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    uninvoiced = Transaction.objects.filter(
        organisation=organisation,
        kind__in=INVOICED_KINDS,
        invoice_line__isnull=True,
    ).select_related("person", "booking")
    rows = list(uninvoiced.filter(created_at__date__range=period))
    charged = {r.booking_id for r in rows if r.kind == Transaction.Kind.CHARGE}
    charged.discard(None)
    # A refund made after the period but before its charge is invoiced is
    # netted now, rather than needing a credit note later.
    rows += list(
        uninvoiced.filter(
            created_at__date__gt=period[1],
            booking_id__in=charged,
            kind__in=REDUCING_KINDS,
        )
    )
    reducing_bookings = {
        r.booking_id
        for r in rows
        if r.kind in REDUCING_KINDS and r.booking_id and r.booking_id not in charged
    }
    invoiced_charge = {
        line.transaction.booking_id: line.invoice
        for line in InvoiceLine.objects.filter(
            transaction__booking_id__in=reducing_bookings,
            transaction__kind=Transaction.Kind.CHARGE,
        ).select_related("transaction", "invoice")
    }
    on_invoice: list[Transaction] = []
    credits: dict[Invoice, list[Transaction]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.created_at, r.pk)):
        if (
            row.kind == Transaction.Kind.CHARGE
            or row.booking_id is None
            or row.booking_id in charged
        ):
            on_invoice.append(row)
        elif row.booking_id in invoiced_charge:
            credits[invoiced_charge[row.booking_id]].append(row)
        # Otherwise the place's charge is not invoiced yet (an earlier period
        # not run): the refund waits, and is netted when that charge is.
    if not credits and not on_invoice:
        return []
    sequences = _lock_sequences()
    issued = []
    for invoice, refunds in sorted(credits.items(), key=lambda item: item[0].pk):
        issued.append(
            _issue(
                kind=Invoice.Kind.CREDIT_NOTE,
                organisation=organisation,
                rows=refunds,
                period=period,
                vat_rate=invoice.vat_rate,
                by=by,
                sequences=sequences,
                purchase_order=invoice.purchase_order,
                credits_invoice=invoice,
            )
        )
    if on_invoice:
        # Every charge ends up on a document, even a place charged and refunded
        # before invoicing (a £0.00 invoice says so). Credits with nothing to
        # net against (a goodwill credit alone in the period) are a credit
        # note of their own rather than a negative invoice.
        net = sum((r.amount for r in on_invoice), start=Decimal("0"))
        issued.append(
            _issue(
                kind=Invoice.Kind.INVOICE if net >= 0 else Invoice.Kind.CREDIT_NOTE,
                organisation=organisation,
                rows=on_invoice,
                period=period,
                vat_rate=vat_rate,
                by=by,
                sequences=sequences,
            )
        )
    return issued


def raise_invoices(
    period_start: dt.date,
    period_end: dt.date,
    *,
    by: User | None,
    organisations: Iterable[Organisation] | None = None,
    vat_rate: Decimal = Decimal("0"),
) -> list[Invoice]:
    """Invoice every organisation (or those given) for the uninvoiced ledger
    rows dated in the period (inclusive, local dates): one invoice each, and
    one credit note per earlier invoice a refund in the period credits.
    Idempotent: a second run over the same period issues nothing. Each
    organisation is committed on its own, so one failing leaves the others'
    documents issued and takes no number."""
    _check_period(period_start, period_end)
    if not Decimal("0") <= vat_rate <= Decimal("100"):
        raise OrganisationsError(_("Enter a VAT rate from 0 to 100%."))
    period = (period_start, period_end)
    if organisations is None:
        candidates = Organisation.objects.filter(
            transactions__kind__in=INVOICED_KINDS,
            transactions__invoice_line__isnull=True,
            transactions__created_at__date__range=period,
        ).distinct()
    else:
        candidates = Organisation.objects.filter(pk__in=[o.pk for o in organisations])
    issued: list[Invoice] = []
    for organisation in candidates.order_by("name", "pk"):
        with transaction.atomic():
            issued += _invoice_organisation(
                organisation, period=period, vat_rate=vat_rate, by=by
            )
    return issued


def record_payment(
    organisation: Organisation,
    *,
    amount: Decimal,
    reference: str,
    by: User,
) -> Transaction:
    """A payment received on the organisation's account (a negative ledger
    row). It reduces the balance; it is not put on an invoice."""
    reference = reference.strip()
    if not reference:
        raise OrganisationsError(
            _("Enter the payment's reference, such as the remittance number.")
        )
    try:
        return booking_services.record_ledger_entry(
            person=None,
            organisation=organisation,
            kind=Transaction.Kind.PAYMENT,
            amount=amount,
            description=_("Payment received"),
            reference=reference[:100],
            by=by,
        )
    except booking_services.BookingError as exc:
        raise OrganisationsError(str(exc)) from exc
