"""Consolidated invoices and credit notes over an organisation's ledger: totals
are always the charges less the credits, an issued invoice is never edited,
numbers run without gaps (under concurrent runs and after a failed one), a
second run issues nothing, and erasure keeps the invoice without the name."""

import datetime as dt
import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum

from bookings.models import Transaction
from bookings.services import record_ledger_entry
from config.pdf import pdf_text
from organisations import services
from organisations.models import Invoice, InvoiceLine
from organisations.pdf import render_invoice_pdf
from privacy import services as privacy_services
from tests.accounts.factories import UserFactory

from .helpers import cancel, charged_place, on_account, today

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def _raise(start=None, end=None, **kwargs):
    return services.raise_invoices(
        start or today() - 40 * DAY, end or today(), by=None, **kwargs
    )


def _ledger_sum(organisation, **filters) -> Decimal:
    return Transaction.objects.filter(organisation=organisation, **filters).aggregate(
        s=Sum("amount")
    )["s"] or Decimal("0")


def _snapshot(invoice: Invoice) -> tuple:
    fresh = Invoice.objects.get(pk=invoice.pk)
    lines = list(
        InvoiceLine.objects.filter(invoice=invoice)
        .order_by("pk")
        .values_list("transaction_id", "description", "attendee_name", "amount")
    )
    fields = [f.attname for f in Invoice._meta.concrete_fields]
    return tuple(getattr(fresh, f) for f in fields), lines


def test_the_total_is_the_charges_less_the_credits_netted_before_invoicing():
    org = on_account()
    places = [
        charged_place(org, price=price)
        for price in ("120.00", "80.00", "45.50", "300.00")
    ]
    cancel(places[1])  # refunded before any invoice: nets on the same invoice

    [invoice] = _raise()

    charges = _ledger_sum(org, kind="charge")
    credits = -_ledger_sum(org, kind__in=["refund", "credit"])
    assert charges == Decimal("545.50")
    assert credits == Decimal("80.00")
    assert invoice.kind == Invoice.Kind.INVOICE
    assert invoice.number == "INV-000001"
    assert invoice.net_total == invoice.total == charges - credits == Decimal("465.50")
    assert invoice.vat_rate == 0
    assert invoice.vat_amount == 0
    lines = list(invoice.lines.all())
    assert len(lines) == 5  # four charges and the refund
    assert sum(line.amount for line in lines) == invoice.total
    assert (
        Transaction.objects.filter(organisation=org, invoice_line__isnull=True).count()
        == 0
    )


def test_a_refund_after_invoicing_is_a_credit_note_and_the_invoice_is_unchanged():
    org = on_account()
    kept = charged_place(org, price="100.00")
    refunded = charged_place(org, price="60.00")
    [invoice] = _raise()
    before = _snapshot(invoice)

    cancel(refunded)
    [note] = _raise()

    assert note.kind == Invoice.Kind.CREDIT_NOTE
    assert note.number == "CN-000001"
    assert note.credits_invoice == invoice
    assert note.total == Decimal("-60.00")
    assert [line.transaction.kind for line in note.lines.all()] == ["refund"]
    assert _snapshot(invoice) == before
    # Everything issued adds up to the ledger's charges less its credits.
    issued = Invoice.objects.filter(organisation=org).aggregate(s=Sum("total"))["s"]
    assert issued == _ledger_sum(org) == Decimal("100.00")
    assert kept.transactions.get().invoice_line.invoice == invoice


def test_running_the_same_period_again_issues_nothing():
    org = on_account()
    charged_place(org)
    first = _raise()
    assert len(first) == 1
    assert _raise() == []
    assert _raise(organisations=[org]) == []
    assert Invoice.objects.count() == 1


def test_each_organisation_gets_its_own_invoice_with_consecutive_numbers():
    orgs = [on_account(name=f"School {n}") for n in range(3)]
    for org in orgs:
        charged_place(org)
        charged_place(org, price="10.00")
    issued = _raise()
    assert [i.number for i in issued] == ["INV-000001", "INV-000002", "INV-000003"]
    assert [i.organisation for i in issued] == orgs
    assert all(i.total == Decimal("130.00") for i in issued)


def test_only_rows_dated_in_the_period_are_invoiced():
    org = on_account()
    charged_place(org, price="50.00", day=today() - 40 * DAY)
    charged_place(org, price="70.00", day=today() - 5 * DAY)

    [march] = _raise(today() - 45 * DAY, today() - 30 * DAY)
    [april] = _raise(today() - 29 * DAY, today())

    assert march.total == Decimal("50.00")
    assert april.total == Decimal("70.00")
    assert (march.period_start, april.period_end) == (today() - 45 * DAY, today())


def test_a_refund_waits_for_its_charge_when_that_period_was_not_invoiced():
    org = on_account()
    place = charged_place(org, price="90.00", day=today() - 40 * DAY)
    cancel(place, day=today() - 5 * DAY)

    assert _raise(today() - 10 * DAY, today()) == []  # the charge is not invoiced
    [invoice] = _raise(today() - 45 * DAY, today() - 30 * DAY)

    # The later refund is netted on the charge's invoice, not credited later:
    # the place is on a £0.00 invoice rather than on no document at all.
    assert invoice.total == Decimal("0.00")
    assert sorted(invoice.lines.values_list("amount", flat=True)) == [
        Decimal("-90.00"),
        Decimal("90.00"),
    ]
    assert _raise(today() - 10 * DAY, today()) == []


def test_a_purchase_order_shared_by_every_place_is_the_invoices():
    org = on_account(purchase_order="YEAR-PO")
    charged_place(org, purchase_order="PO-7")
    charged_place(org, purchase_order="PO-7")
    [invoice] = _raise()
    assert invoice.purchase_order == "PO-7"


def test_places_with_different_purchase_orders_use_the_yearly_one_and_list_theirs():
    org = on_account(purchase_order="YEAR-PO")
    charged_place(org, purchase_order="PO-7")
    charged_place(org)
    [invoice] = _raise()
    assert invoice.purchase_order == "YEAR-PO"
    assert sorted(invoice.lines.values_list("purchase_order", flat=True)) == [
        "",
        "PO-7",
    ]


def test_a_goodwill_credit_alone_is_a_credit_note_of_its_own():
    org = on_account()
    record_ledger_entry(
        person=None,
        organisation=org,
        kind="credit",
        amount=Decimal("25.00"),
        description="Goodwill",
        by=UserFactory.create(is_staff=True),
    )
    [note] = _raise()
    assert note.kind == Invoice.Kind.CREDIT_NOTE
    assert note.credits_invoice is None
    assert note.total == Decimal("-25.00")


def test_a_refund_of_a_place_on_a_credit_note_is_credited_against_that_note():
    org = on_account()
    place = charged_place(org, price="30.00")
    record_ledger_entry(
        person=None,
        organisation=org,
        kind="credit",
        amount=Decimal("50.00"),
        description="Goodwill",
        by=UserFactory.create(is_staff=True),
    )
    [first] = _raise()
    assert (first.kind, first.total) == ("credit_note", Decimal("-20.00"))
    cancel(place)
    [second] = _raise()
    assert (second.number, second.credits_invoice) == ("CN-000002", first)
    assert second.total == Decimal("-30.00")
    assert _ledger_sum(org) == first.total + second.total


def test_payments_are_on_the_ledger_but_never_on_an_invoice():
    org = on_account()
    charged_place(org, price="100.00")
    [invoice] = _raise()
    payment = services.record_payment(
        org,
        amount=Decimal("100.00"),
        reference=f"BACS {invoice.number}",
        by=UserFactory.create(is_staff=True),
    )
    assert payment.kind == "payment"
    assert payment.amount == Decimal("-100.00")
    assert payment.person is None
    assert _raise() == []
    assert _ledger_sum(org) == 0


@pytest.mark.parametrize(
    ("end_after_start", "message"),
    [(-DAY, "same as or after its start"), (DAY, "cannot end after today")],
)
def test_a_period_that_makes_no_sense_is_refused(end_after_start, message):
    # Today is read when the test runs, not when it is collected: a run that
    # passes midnight would otherwise ask for a period ending "today".
    start = today()
    end = start + end_after_start
    charged_place(on_account())
    with pytest.raises(services.OrganisationsError, match=message):
        services.raise_invoices(start, end, by=None)
    assert Invoice.objects.count() == 0


def test_a_payment_needs_an_amount_and_a_reference():
    org = on_account()
    staff = UserFactory.create(is_staff=True)
    with pytest.raises(services.OrganisationsError, match="reference"):
        services.record_payment(org, amount=Decimal("5"), reference=" ", by=staff)
    with pytest.raises(services.OrganisationsError, match="more than"):
        services.record_payment(org, amount=Decimal("0"), reference="R", by=staff)
    assert not Transaction.objects.filter(organisation=org).exists()


def test_an_issued_invoice_cannot_be_edited_or_deleted_even_in_sql():
    org = on_account()
    charged_place(org)
    [invoice] = _raise()
    with pytest.raises(ValueError, match="never edited"):
        invoice.save()
    with pytest.raises(ValueError, match="never edited"):
        Invoice.objects.filter(pk=invoice.pk).update(total=0)
    for sql in (
        "UPDATE organisations_invoice SET total = 0, net_total = 0",
        "DELETE FROM organisations_invoiceline",
        "UPDATE organisations_invoiceline SET amount = 0",
    ):
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert Invoice.objects.get().total == Decimal("120.00")


# --- numbers: no gaps, under concurrency and after failures -----------------------


@pytest.mark.django_db(transaction=True)
def test_a_failed_run_takes_no_number():
    first, failing, last = (on_account(name=f"Org {n}") for n in "ABC")
    for org in (first, failing, last):
        charged_place(org)
    real = InvoiceLine.objects.bulk_create

    def fail_for_b(lines, *args, **kwargs):
        lines = list(lines)
        if lines[0].invoice.organisation == failing:
            raise DatabaseError("disk full")
        return real(lines, *args, **kwargs)

    with (
        mock.patch.object(InvoiceLine.objects, "bulk_create", fail_for_b),
        pytest.raises(DatabaseError),
    ):
        _raise()
    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-000001"]

    issued = _raise()
    assert [(i.organisation, i.number) for i in issued] == [
        (failing, "INV-000002"),
        (last, "INV-000003"),
    ]


@pytest.mark.django_db(transaction=True)
def test_invoice_numbers_have_no_gaps_under_concurrent_invoicing():
    orgs = [on_account(name=f"Concurrent {n}") for n in range(6)]
    for org in orgs:
        charged_place(org, price="40.00")
        charged_place(org, price="2.50")
    # One run per organisation and two runs over all of them, all at once.
    targets = [[org] for org in orgs] + [None, None]
    barrier = threading.Barrier(len(targets))
    errors = []

    def run(target):
        barrier.wait()
        try:
            _raise(organisations=target)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-{n:06d}" for n in range(1, 7)]
    assert sorted(Invoice.objects.values_list("organisation", flat=True)) == sorted(
        o.pk for o in orgs
    )
    assert all(i.total == Decimal("42.50") for i in Invoice.objects.all())
    assert InvoiceLine.objects.count() == 12


@pytest.mark.django_db(transaction=True)
def test_credit_notes_are_numbered_without_gaps_beside_invoices():
    orgs = [on_account(name=f"Credited {n}") for n in range(4)]
    places = [charged_place(org) for org in orgs]
    _raise()
    for place in places:
        cancel(place)
        charged_place(place.organisation, price="15.00")
    barrier = threading.Barrier(len(orgs))
    errors = []

    def run(org):
        barrier.wait()
        try:
            _raise(organisations=[org])
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(o,)) for o in orgs]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert errors == []
    notes = sorted(
        Invoice.objects.filter(kind="credit_note").values_list("number", flat=True)
    )
    invoices = sorted(
        Invoice.objects.filter(kind="invoice").values_list("number", flat=True)
    )
    assert notes == [f"CN-{n:06d}" for n in range(1, 5)]
    assert invoices == [f"INV-{n:06d}" for n in range(1, 9)]


# --- the PDF -------------------------------------------------------------------------


def test_the_pdf_is_a_pdf_naming_the_invoice_and_its_total():
    org = on_account(name="Westmoor Primary", purchase_order="YEAR-PO")
    charged_place(org, price="1250.00", purchase_order="PO-99")
    charged_place(org, price="80.00")
    [invoice] = _raise()
    pdf = render_invoice_pdf(invoice)
    assert pdf.startswith(b"%PDF-")
    assert invoice.number.encode() in pdf
    assert b"Westmoor Primary" in pdf
    assert b"1,330.00" in pdf
    assert b"PO-99" in pdf  # the line's own PO, beside the yearly one
    assert pdf.rstrip().endswith(b"%%EOF")


def test_names_outside_the_pdf_fonts_are_written_in_latin_letters():
    assert pdf_text("Łucja Żak-Nguyễn") == "Lucja Zak-Nguyen"
    # Windows-1252 has curly quotes, dashes and the pound sign.
    typeset = "Zo\u00eb O\u2019Brien \u2013 \u00a35"
    assert pdf_text(typeset) == typeset
    assert pdf_text("王") == "?"
    org = on_account()
    person = UserFactory.create(first_name="Łucja", last_name="王")
    charged_place(org, person=person)
    [invoice] = _raise()
    assert render_invoice_pdf(invoice).startswith(b"%PDF-")


# --- personal data -------------------------------------------------------------------


def test_erasure_keeps_the_invoice_and_removes_the_name(private_media):
    org = on_account()
    person = UserFactory.create(first_name="Gwendolyn", last_name="Marchbanks")
    charged_place(org, person=person, price="75.00")
    charged_place(org, price="25.00")
    [invoice] = _raise()
    assert invoice.lines.filter(attendee_name="Gwendolyn Marchbanks").exists()

    privacy_services.erase_person(person)

    invoice.refresh_from_db()
    assert invoice.total == Decimal("100.00")
    assert invoice.lines.count() == 2
    assert not InvoiceLine.objects.filter(attendee_name__contains="Marchbanks").exists()
    mine = InvoiceLine.objects.get(transaction__person=person)
    assert mine.attendee_name == ""
    assert mine.amount == Decimal("75.00")
    assert b"Marchbanks" not in render_invoice_pdf(invoice)


def test_the_download_of_my_data_lists_my_invoice_lines(private_media):
    import io
    import json
    import zipfile

    org = on_account()
    person = UserFactory.create(first_name="Ada", last_name="Quill")
    charged_place(org, person=person, price="75.00")
    charged_place(org, price="25.00")
    [invoice] = _raise()
    archive = zipfile.ZipFile(io.BytesIO(privacy_services.export_person(person)))
    rows = json.loads(archive.read("data.json"))["categories"][
        "organisation_invoice_lines"
    ]
    assert [(r["number"], r["attendee_name"], r["amount"]) for r in rows] == [
        (invoice.number, "Ada Quill", "75.00")
    ]
