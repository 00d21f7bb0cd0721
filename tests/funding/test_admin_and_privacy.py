import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from funding import selectors, services
from funding.models import FundingDocument, FundingRequest, Invoice
from funding.privacy import (
    erase_applications,
    erase_documents,
    erase_events,
    erase_invoices,
    erase_mail,
    erase_manager_support,
    erase_progress,
    erase_requests,
    export_requests,
)

from .factories import PDF, ApplicationFactory, FundingRequestFactory, cheap_people

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_admin_lists_and_reviews_requests(officer, approved):
    response = officer.get("/admin/funding/fundingrequest/?status__exact=approved")
    assert response.status_code == 200
    assert approved.course_name in response.content.decode()
    assert (
        officer.get(f"/admin/funding/fundingrequest/{approved.pk}/change/").status_code
        == 200
    )


def test_spend_report_is_aggregated_by_provider_course_and_month(
    officer, approved, settings
):
    settings.REPORT_SUPPRESSION_THRESHOLD = 2
    services.record_payment(
        approved, amount=Decimal("400"), paid_on=timezone.localdate(), by=officer.user
    )
    other = FundingRequestFactory.create(
        course_name=approved.course_name, provider_name=approved.provider_name
    )
    FundingRequest.objects.filter(pk=other.pk).update(
        status="approved",
        amount_approved=Decimal("250"),
        decided_at=timezone.now(),
    )
    response = officer.post(
        "/admin/funding/fundingrequest/",
        {
            "action": "spend_report_csv",
            "_selected_action": [approved.pk, other.pk],
        },
    )
    rows = _csv(response)
    month = timezone.localdate().strftime("%Y-%m")
    assert rows[0] == ["Provider", "Course", "Month", "Approved (£)", "Paid (£)"]
    assert rows[1:] == [
        [approved.provider_name, approved.course_name, month, "1250.00", "400.00"]
    ]
    assert approved.person.email not in response.content.decode()
    # With the default threshold of 5, a cell of two requests is suppressed.
    settings.REPORT_SUPPRESSION_THRESHOLD = 5
    response = officer.post(
        "/admin/funding/fundingrequest/",
        {"action": "spend_report_csv", "_selected_action": [approved.pk]},
    )
    assert _csv(response)[1][3:] == ["suppressed", "suppressed"]


def test_status_report_counts_with_suppression(officer):
    people = iter(cheap_people(15))
    for status, n in [("under_review", 6), ("approved", 7), ("declined", 2)]:
        for _ in range(n):
            r = FundingRequestFactory.create(person=next(people))
            FundingRequest.objects.filter(pk=r.pk).update(status=status)
    response = officer.post(
        "/admin/funding/fundingrequest/",
        {
            "action": "status_report_csv",
            "_selected_action": list(
                FundingRequest.objects.values_list("pk", flat=True)
            ),
        },
    )
    rows = dict(_csv(response)[1:])
    assert rows["Declined"] == "suppressed"
    # Secondary suppression: the next smallest, so 2 cannot be worked out.
    assert rows["Being reviewed"] == "suppressed"
    assert rows["Approved"] == "7"
    assert rows["Total"] == "suppressed"
    assert rows["Draft"] == "0"


def test_suppression_leaves_larger_counts_and_the_total():
    counts = selectors.suppressed_counts({"a": 5, "b": 9, "c": 0}, threshold=5)
    assert counts == {"a": 5, "b": 9, "c": 0, "total": 14}


def test_approve_action_goes_through_the_service(officer, submit):
    funding_request, token = submit()
    services.record_manager_support(token, supported=True, statement="Yes")
    officer.post(
        "/admin/funding/fundingrequest/",
        {"action": "approve_in_full", "_selected_action": [funding_request.pk]},
    )
    funding_request.refresh_from_db()
    assert funding_request.status == "approved"
    assert funding_request.amount_approved == funding_request.cost
    assert funding_request.events.last().actor == officer.user


def test_export_and_erase_keep_amounts_and_invoice_files_and_clear_what_was_written(
    approved, officer, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    person = approved.person
    document = services.add_supporting_document(
        FundingRequestFactory.create(person=person),
        upload=SimpleUploadedFile("offer.pdf", PDF),
        by=person,
    )
    services.record_invoice(
        approved,
        supplier="Uni",
        number="A1",
        amount=Decimal("100"),
        invoice_date=timezone.localdate(),
        upload=SimpleUploadedFile("inv.pdf", PDF),
        by=officer.user,
    )
    services.record_progress(
        approved, stage="in_progress", note="Going well", by=person
    )
    ApplicationFactory.create(person=person)
    [row, _draft] = sorted(export_requests(person), key=lambda r: r["id"])
    assert row["reason"] == approved.reason
    stored = [document.file.name, Invoice.objects.get().file.name]
    for erase in (
        erase_requests,
        erase_events,
        erase_manager_support,
        erase_documents,
        erase_invoices,
        erase_progress,
        erase_applications,
        erase_mail,
    ):
        erase(person)
        erase(person)  # safe to run twice
    approved.refresh_from_db()
    assert (approved.reason, approved.manager_email, approved.manager_name) == (
        "",
        "",
        "",
    )
    assert approved.amount_approved == Decimal("1000")
    assert approved.status == "approved"
    assert not FundingDocument.objects.exists()
    from django.core.files.storage import default_storage

    # Invoices are under the finance legal hold: the row and the file stay,
    # only the uploaded file's name (which could carry the person's) goes.
    invoice = Invoice.objects.get()
    assert (invoice.amount, invoice.number, invoice.original_name) == (
        Decimal("100"),
        "A1",
        "",
    )
    assert invoice.file.name == stored[1]
    with default_storage.open(stored[1], "rb") as fh:
        assert fh.read() == PDF
    assert not default_storage.exists(stored[0])
    assert set(approved.events.values_list("note", flat=True)) == {""}
    assert set(approved.support_links.values_list("statement", flat=True)) == {""}
    assert approved.progress_updates.get().note == ""
    assert person.applications.get().statement == ""
    assert not approved.mails.exists()


def test_every_funding_category_is_registered():
    from privacy import registry

    names = {c.name for c in registry.categories()}
    assert {
        "funding_requests",
        "funding_timeline",
        "funding_manager_support",
        "funding_documents",
        "funding_invoices",
        "funding_payments",
        "funding_progress",
        "applications",
        "funding_messages",
    } <= names
