import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, MailRecord, StaffLog, Transaction
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.conftest import give_totp
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(admin)
    client = Client()
    client.force_login(admin)
    client.user = admin
    return client


def test_phone_booking_by_staff_follows_the_booking_rules(admin_client):
    session = SessionFactory.create(capacity=1, course__price=Decimal("25"))
    caller = UserFactory.create()  # no verified email needed when staff book
    response = admin_client.post(
        "/admin/bookings/booking/add/", {"person": caller.pk, "session": session.pk}
    )
    assert response.status_code == 302
    booking = Booking.objects.get(person=caller)
    assert (booking.status, booking.booked_by) == ("confirmed", admin_client.user)
    assert Transaction.objects.get(booking=booking).amount == Decimal("25.00")
    assert StaffLog.objects.filter(action="booked on behalf", booking=booking).exists()
    # The same person again: a clear message, no 500 and no second booking.
    response = admin_client.post(
        "/admin/bookings/booking/add/",
        {"person": caller.pk, "session": session.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert "You already have a booking for this session." in response.content.decode()
    assert Booking.objects.filter(person=caller).count() == 1


def test_staff_record_a_payment_with_a_purchase_order(admin_client):
    person = UserFactory.create()
    response = admin_client.post(
        "/admin/bookings/transaction/add/",
        {
            "person": person.pk,
            "kind": "payment",
            "amount": "45.00",
            "reference": "PO-998",
            "description": "Paid by invoice",
        },
    )
    assert response.status_code == 302
    entry = Transaction.objects.get()
    assert (entry.amount, entry.reference, entry.created_by) == (
        Decimal("-45.00"),
        "PO-998",
        admin_client.user,
    )
    assert (
        admin_client.get(f"/admin/bookings/transaction/{entry.pk}/delete/").status_code
        == 403
    )
    response = admin_client.post(
        "/admin/bookings/transaction/add/",
        {"kind": "payment", "amount": "-3", "description": "x"},
    )
    html = response.content.decode()
    assert "Choose a person or an organisation." in html
    assert Transaction.objects.count() == 1


def test_attendance_actions_and_failed_mail_are_visible(admin_client):
    booking = BookingFactory.create(
        session__starts_at=timezone.now() - dt.timedelta(hours=2)
    )
    admin_client.post(
        "/admin/bookings/booking/",
        {"action": "mark_attended", "_selected_action": [booking.pk]},
    )
    booking.refresh_from_db()
    assert booking.status == "attended"
    assert booking.certificate_code
    MailRecord.objects.create(
        key="k",
        kind="confirmed",
        booking=booking,
        to="x@example.org",
        status="failed",
        last_error="SMTPServerDisconnected: gone",
        attempts=2,
    )
    html = admin_client.get(
        "/admin/bookings/mailrecord/?status__exact=failed"
    ).content.decode()
    assert "SMTPServerDisconnected" in html


def test_a_booking_cannot_be_reassigned_or_certified_by_editing_it(admin_client):
    booking = BookingFactory.create()
    page = admin_client.get(
        f"/admin/bookings/booking/{booking.pk}/change/"
    ).content.decode()
    for field in ("person", "session", "certificate_code", "organisation"):
        assert f'name="{field}"' not in page


def test_evidence_must_really_be_a_document(learner_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile(
        "cv.pdf", b"MZ\x90\x00 an executable", content_type="application/pdf"
    )
    html = learner_client.post(
        "/training-record/",
        {
            "title": "Renamed",
            "completed_on": "2025-05-01",
            "cpd_hours": "2",
            "evidence": fake,
        },
    ).content.decode()
    assert "The selected file is not a PDF: it looks like a Windows program" in html
