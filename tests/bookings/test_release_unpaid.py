"""Courses that release unpaid places: a place not paid for within the
course's number of days goes back, through the same code as a cancellation
(charge reversed, person told, first person waiting promoted); paid places,
places charged to an organisation and courses that keep unpaid places are
left alone."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from bookings import services
from bookings.models import Booking, MailRecord, Transaction
from tests.accounts.factories import member_of, verified_person
from tests.courses.factories import CourseFactory, SessionFactory

pytestmark = pytest.mark.django_db


def _pays(person, amount: str) -> None:
    services.record_ledger_entry(
        person=person,
        organisation=None,
        kind=Transaction.Kind.PAYMENT,
        amount=Decimal(amount),
        description="Paid",
        by=None,
    )


def _days_pass(monkeypatch, days: float) -> None:
    """Move the clock on (the ledger is append-only, so charges cannot be
    back-dated); sessions start 14 days ahead, so they are still to come."""
    now = timezone.now() + dt.timedelta(days=days)
    monkeypatch.setattr(timezone, "now", lambda: now)


@pytest.fixture
def full_session():
    course = CourseFactory(price=Decimal("60.00"), release_unpaid_after_days=3)
    return SessionFactory(course=course, capacity=1)


def test_an_unpaid_place_is_released_after_the_days_and_the_next_person_gets_it(
    full_session, monkeypatch
):
    late_payer, waiting = verified_person(), verified_person()
    place = services.book_session(late_payer, full_session)
    queued = services.book_session(waiting, full_session)
    assert queued.status == Booking.Status.WAITLISTED
    _days_pass(monkeypatch, 3.1)

    assert services.release_unpaid_places() == 1

    place.refresh_from_db()
    queued.refresh_from_db()
    assert place.status == Booking.Status.CANCELLED
    assert place.cancel_reason == "Not paid within 3 days of booking"
    assert place.cancelled_by is None
    assert queued.status in (Booking.Status.CONFIRMED, Booking.Status.OFFERED)
    # The charge is reversed: nothing is owed for a place not held.
    owed = sum(t.amount for t in Transaction.objects.filter(person=late_payer))
    assert owed == 0
    record = MailRecord.objects.get(booking=place, kind="unpaid_released")
    assert record.to == late_payer.email
    services.send_mail_record(record.pk)
    sent = mail.outbox[-1]
    assert sent.subject.startswith("Your place was released because it was not paid")
    assert "not paid within 3 days of booking" in sent.body
    # Running again releases nothing more.
    assert services.release_unpaid_places() == 0


def test_a_place_inside_its_days_is_kept_and_says_when_it_goes(
    client, full_session, monkeypatch
):
    person = verified_person()
    place = services.book_session(person, full_session)
    charged = Transaction.objects.get(booking=place).created_at
    _days_pass(monkeypatch, 2.9)
    assert services.release_unpaid_places() == 0
    client.force_login(person)
    html = client.get(reverse("bookings:list")).content.decode()
    assert "Not paid" in html
    release = timezone.localtime(charged + dt.timedelta(days=3))
    assert f"Unless it is paid by {release:%A} {release.day} {release:%B}" in html


def test_a_paid_place_is_never_released(full_session, monkeypatch):
    person = verified_person()
    place = services.book_session(person, full_session)
    _pays(person, "60.00")
    _days_pass(monkeypatch, 10)
    assert services.release_unpaid_places() == 0
    place.refresh_from_db()
    assert place.status == Booking.Status.CONFIRMED


def test_the_newest_places_are_the_unpaid_ones(full_session, monkeypatch):
    """Payments pay the oldest charges first: of two places and one payment,
    the newer place is the one released."""
    person = verified_person()
    other = SessionFactory(course=full_session.course, capacity=5)
    older = services.book_session(person, full_session)
    _days_pass(monkeypatch, 1)
    newer = services.book_session(person, other)
    _pays(person, "60.00")
    _days_pass(monkeypatch, 4)
    assert services.release_unpaid_places() == 1
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == ("confirmed", "cancelled")


def test_courses_that_keep_unpaid_places_and_organisation_places_are_left(
    full_session, monkeypatch
):
    keeper = SessionFactory(course=CourseFactory(price=Decimal("60.00")), capacity=5)
    person = verified_person()
    kept = services.book_session(person, keeper)

    org = Organisation.objects.create(name="Oak Tree Primary", pays_on_account=True)
    member = verified_person()
    member_of(member, org)
    on_account = services.book_session(member, full_session, organisation=org)
    assert on_account.organisation == org

    _days_pass(monkeypatch, 10)
    assert services.release_unpaid_places() == 0
    kept.refresh_from_db()
    on_account.refresh_from_db()
    assert kept.status == on_account.status == Booking.Status.CONFIRMED


def test_a_place_whose_session_has_started_is_not_released(full_session, monkeypatch):
    person = verified_person()
    services.book_session(person, full_session)
    full_session.starts_at = timezone.now() + dt.timedelta(days=5)
    full_session.ends_at = full_session.starts_at + dt.timedelta(hours=2)
    full_session.save()
    _days_pass(monkeypatch, 6)
    assert services.release_unpaid_places() == 0
