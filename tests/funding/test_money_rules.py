"""After approval: invoices, payments and the learner's progress, what each
stores and puts on the timeline, the messages for refusals, and when a request
closes by itself (course complete and fully paid)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from funding import services
from funding.models import FundingEvent, Invoice, Payment, ProgressUpdate
from tests.accounts.factories import UserFactory

from .factories import PDF, PNG, FundingRequestFactory
from .refusals import refusal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_storage(private_media):
    """Uploaded files go to a folder of this test's own."""


DAY = dt.date(2026, 3, 5)


@pytest.fixture
def officer(db):
    return UserFactory.create(is_staff=True)


@pytest.fixture
def approved(db):
    return FundingRequestFactory.create(
        status="approved", amount_approved=Decimal("1000"), cost=Decimal("1200")
    )


def status_of(funding_request) -> str:
    funding_request.refresh_from_db()
    return funding_request.status


def last_event(funding_request) -> tuple:
    event = FundingEvent.objects.filter(request=funding_request).last()
    return (
        event.actor,
        event.actor_label,
        event.from_status,
        event.to_status,
        event.note,
    )


def invoice(funding_request, by, **fields):
    return services.record_invoice(
        funding_request,
        **{
            "supplier": "University of Westmoor",
            "number": "INV-1",
            "amount": Decimal("1000"),
            "invoice_date": DAY,
            "by": by,
            **fields,
        },
    )


# --- invoices ------------------------------------------------------------------------


def test_an_invoice_is_stored_trimmed_with_its_pdf_and_noted_on_the_timeline(
    approved, officer
):
    recorded = invoice(
        approved,
        officer,
        supplier=" University of Westmoor ",
        number=" INV-7 ",
        amount=Decimal("250.5"),
        upload=SimpleUploadedFile("scans/March invoice.PDF", PDF),
    )
    row = Invoice.objects.values().get(pk=recorded.pk)
    assert (
        row["request_id"],
        row["supplier"],
        row["number"],
        row["amount"],
        row["invoice_date"],
        row["recorded_by_id"],
        row["original_name"],
    ) == (
        approved.pk,
        "University of Westmoor",
        "INV-7",
        Decimal("250.50"),
        DAY,
        officer.pk,
        "March invoice.pdf",
    )
    assert row["file"].endswith(".pdf")
    with default_storage.open(row["file"], "rb") as stored_file:
        assert stored_file.read() == PDF
    assert last_event(approved) == (
        officer,
        "",
        "approved",
        "approved",
        "Invoice INV-7 from University of Westmoor for £250.50 recorded.",
    )
    assert status_of(approved) == "approved"


def test_an_invoice_without_a_file_is_stored_without_one(approved, officer):
    recorded = invoice(approved, officer)
    recorded.refresh_from_db()
    assert (recorded.file.name, recorded.original_name) == ("", "")


def test_an_invoice_can_be_recorded_for_a_closed_request(approved, officer):
    approved.status = "closed"
    approved.save()
    invoice(approved, officer)
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize("status", ["under_review", "declined", "more_info"])
def test_an_invoice_needs_an_approved_request(status, officer):
    funding_request = FundingRequestFactory.create(status=status)
    assert (
        refusal(invoice, funding_request, officer)
        == "Invoices can be recorded only for approved requests."
    )
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("amount", [None, Decimal("0"), Decimal("-5")])
def test_an_invoice_needs_an_amount(amount, approved, officer):
    assert (
        refusal(invoice, approved, officer, amount=amount)
        == "Enter an amount more than £0"
    )
    assert not Invoice.objects.exists()


def test_an_invoice_and_a_payment_may_be_for_a_few_pence(approved, officer):
    small = invoice(approved, officer, amount=Decimal("0.40"))
    services.record_payment(
        approved, amount=Decimal("0.40"), paid_on=DAY, invoice=small, by=officer
    )
    payment = Payment.objects.get()
    assert (payment.amount, payment.reference) == (Decimal("0.40"), "")


def test_an_invoice_file_must_be_a_pdf(approved, officer):
    assert (
        refusal(invoice, approved, officer, upload=SimpleUploadedFile("i.pdf", PNG))
        == "The selected file must be a PDF"
    )
    assert not Invoice.objects.exists()


def test_an_invoice_is_recorded_once_and_its_file_is_not_kept_twice(approved, officer):
    invoice(approved, officer, upload=SimpleUploadedFile("first.pdf", PDF))
    files_before = default_storage.listdir("funding/invoice")[1]
    assert (
        refusal(
            invoice,
            approved,
            officer,
            supplier=" University of Westmoor",
            number="INV-1 ",
            amount=Decimal("10"),
            upload=SimpleUploadedFile("again.pdf", PDF),
        )
        == "Invoice INV-1 from University of Westmoor is already recorded."
    )
    assert default_storage.listdir("funding/invoice")[1] == files_before
    assert Invoice.objects.count() == 1
    assert FundingEvent.objects.filter(request=approved).count() == 1


# --- payments ---------------------------------------------------------------------------


def test_a_payment_is_stored_against_its_invoice_and_noted_on_the_timeline(
    approved, officer
):
    against = invoice(approved, officer)
    payment = services.record_payment(
        approved,
        amount=Decimal("400"),
        paid_on=DAY,
        reference=" BACS 123 ",
        invoice=against,
        by=officer,
    )
    row = Payment.objects.values().get(pk=payment.pk)
    assert (
        row["request_id"],
        row["invoice_id"],
        row["amount"],
        row["paid_on"],
        row["reference"],
        row["recorded_by_id"],
    ) == (approved.pk, against.pk, Decimal("400.00"), DAY, "BACS 123", officer.pk)
    assert last_event(approved) == (
        officer,
        "",
        "approved",
        "approved",
        "Payment of £400.00 made on 5 March 2026.",
    )


def test_payments_may_reach_but_not_pass_the_amount_approved(approved, officer):
    services.record_payment(approved, amount=Decimal("400"), paid_on=DAY, by=officer)
    assert (
        refusal(
            services.record_payment,
            approved,
            amount=Decimal("600.01"),
            paid_on=DAY,
            by=officer,
        )
        == "Payments would come to £1,000.01, more than the £1,000.00 approved."
    )
    services.record_payment(approved, amount=Decimal("600"), paid_on=DAY, by=officer)
    assert sum(Payment.objects.values_list("amount", flat=True)) == Decimal("1000")
    # Paid in full but the course is not complete: still open.
    assert status_of(approved) == "approved"


@pytest.mark.parametrize("status", ["under_review", "closed", "declined"])
def test_a_payment_needs_an_approved_request(status, officer):
    funding_request = FundingRequestFactory.create(
        status=status, amount_approved=Decimal("1000")
    )
    assert (
        refusal(
            services.record_payment,
            funding_request,
            amount=Decimal("1"),
            paid_on=DAY,
            by=officer,
        )
        == "Payments can be recorded only for approved requests."
    )
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", [None, Decimal("0"), Decimal("-1")])
def test_a_payment_needs_an_amount(amount, approved, officer):
    assert (
        refusal(
            services.record_payment, approved, amount=amount, paid_on=DAY, by=officer
        )
        == "Enter an amount more than £0"
    )
    assert not Payment.objects.exists()


def test_a_payment_cannot_be_against_another_requests_invoice(approved, officer):
    other = FundingRequestFactory.create(
        status="approved", amount_approved=Decimal("50")
    )
    theirs = invoice(other, officer, number="OTHER-1")
    assert (
        refusal(
            services.record_payment,
            approved,
            amount=Decimal("1"),
            paid_on=DAY,
            invoice=theirs,
            by=officer,
        )
        == "That invoice belongs to another request."
    )
    assert not Payment.objects.exists()


# --- progress and closing -------------------------------------------------------------


def test_the_learner_records_progress_with_a_trimmed_note(approved):
    update = services.record_progress(
        approved, stage="in_progress", note="  Module 1 done ", by=approved.person
    )
    row = ProgressUpdate.objects.values().get(pk=update.pk)
    assert (row["request_id"], row["stage"], row["note"]) == (
        approved.pk,
        "in_progress",
        "Module 1 done",
    )


@pytest.mark.parametrize("stage", ["started", "completed"])
def test_starting_or_completing_needs_no_note(stage, approved):
    services.record_progress(approved, stage=stage, by=approved.person)
    assert ProgressUpdate.objects.get().note == ""


@pytest.mark.parametrize("stage", ["in_progress", "withdrawn"])
def test_going_on_or_withdrawing_needs_a_note(stage, approved):
    assert (
        refusal(
            services.record_progress,
            approved,
            stage=stage,
            note=" ",
            by=approved.person,
        )
        == "Add a note about how the course is going"
    )
    assert not ProgressUpdate.objects.exists()


def test_progress_is_one_of_the_stages(approved):
    assert (
        refusal(services.record_progress, approved, stage="paused", by=approved.person)
        == "Choose how the course is going"
    )


def test_only_the_learner_records_progress(approved, officer):
    assert (
        refusal(services.record_progress, approved, stage="started", by=officer)
        == "Only the learner records their progress."
    )
    assert not ProgressUpdate.objects.exists()


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("under_review", "You can record progress once the funding is approved."),
        ("declined", "You can record progress once the funding is approved."),
        ("closed", "This request is closed."),
    ],
)
def test_progress_needs_approved_funding(status, message):
    funding_request = FundingRequestFactory.create(status=status)
    assert (
        refusal(
            services.record_progress,
            funding_request,
            stage="started",
            by=funding_request.person,
        )
        == message
    )
    assert not ProgressUpdate.objects.exists()


def test_a_request_closes_when_the_course_is_complete_and_paid(approved, officer):
    services.record_progress(approved, stage="completed", by=approved.person)
    assert status_of(approved) == "approved"  # not yet paid
    services.record_payment(approved, amount=Decimal("999.99"), paid_on=DAY, by=officer)
    assert status_of(approved) == "approved"
    services.record_payment(approved, amount=Decimal("0.01"), paid_on=DAY, by=officer)
    assert status_of(approved) == "closed"
    assert last_event(approved) == (
        None,
        "Automatic",
        "approved",
        "closed",
        "The course is complete and paid, so the request is closed.",
    )


def test_a_paid_request_closes_when_the_course_is_completed(approved, officer):
    services.record_payment(approved, amount=Decimal("1000"), paid_on=DAY, by=officer)
    services.record_progress(
        approved, stage="in_progress", note="Halfway", by=approved.person
    )
    assert status_of(approved) == "approved"
    services.record_progress(approved, stage="completed", by=approved.person)
    assert status_of(approved) == "closed"


def test_only_the_latest_progress_counts_for_closing(approved, officer):
    services.record_progress(approved, stage="completed", by=approved.person)
    services.record_progress(
        approved, stage="withdrawn", note="Left the course", by=approved.person
    )
    services.record_payment(approved, amount=Decimal("1000"), paid_on=DAY, by=officer)
    assert status_of(approved) == "approved"
