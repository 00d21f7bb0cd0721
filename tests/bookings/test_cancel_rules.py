"""The rules of `cancel_booking` as a learner or staff member meets them: the
message shown when a place cannot be cancelled, and exactly what is stored when
it is (who cancelled, when, why, the refund, the mail and the staff log)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, MailRecord, StaffLog, Transaction
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Booking.Status.CANCELLED, "This booking is already cancelled."),
        (
            Booking.Status.ATTENDED,
            "A session that has taken place cannot be cancelled.",
        ),
    ],
)
def test_a_place_that_cannot_be_cancelled_says_why(status, message):
    booking = BookingFactory.create(status=status)
    with pytest.raises(services.BookingError) as refused:
        services.cancel_booking(booking, by=booking.person)
    assert str(refused.value) == message


def test_a_learner_past_the_deadline_is_told_to_contact_us():
    booking = BookingFactory.create(
        session__starts_at=timezone.now() + dt.timedelta(hours=2)
    )
    with pytest.raises(services.BookingError) as refused:
        services.cancel_booking(booking, by=booking.person)
    assert str(refused.value) == (
        "The deadline to cancel online has passed. Contact us if you cannot attend."
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_staff_cancelling_is_recorded_with_who_when_why_refund_mail_and_log():
    booking = BookingFactory.create(session__course__price=Decimal("30"))
    Transaction.objects.create(
        person=booking.person,
        booking=booking,
        kind=Transaction.Kind.CHARGE,
        amount=Decimal("30"),
        description="Place",
    )
    staff = UserFactory.create(is_staff=True)
    before = timezone.now()
    services.cancel_booking(booking, by=staff, reason="  Course moved  " + "x" * 600)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancelled_by == staff
    assert before <= booking.cancelled_at <= timezone.now()
    assert booking.cancel_reason == ("Course moved  " + "x" * 600)[:500]
    refund = Transaction.objects.get(kind=Transaction.Kind.REFUND)
    assert (refund.amount, refund.created_by, refund.booking) == (
        Decimal("-30"),
        staff,
        booking,
    )
    record = MailRecord.objects.get(key=f"booking:{booking.pk}:cancelled")
    assert (record.kind, record.booking, record.to) == (
        "cancelled",
        booking,
        booking.person.email,
    )
    log = StaffLog.objects.get()
    assert (log.actor, log.action, log.booking, log.session, log.detail) == (
        staff,
        "cancelled booking",
        booking,
        booking.session,
        booking.cancel_reason,
    )


def test_cancelling_a_session_cancels_each_place_and_says_how_many():
    booking = BookingFactory.create(session__course__price=Decimal("20"))
    session = booking.session
    Transaction.objects.create(
        person=booking.person,
        booking=booking,
        kind=Transaction.Kind.CHARGE,
        amount=Decimal("20"),
        description="Place",
    )
    waiting = BookingFactory.create(session=session, status=Booking.Status.WAITLISTED)
    BookingFactory.create(session=session, status=Booking.Status.CANCELLED)
    type(session).objects.filter(pk=session.pk).update(capacity=33)  # another edit
    staff = UserFactory.create(is_staff=True)
    assert services.cancel_session(session, by=staff) == 2
    session.refresh_from_db()
    assert (session.status, session.capacity) == ("cancelled", 33)
    assert session.cancelled_at is not None
    for place in (booking, waiting):
        place.refresh_from_db()
        assert (place.status, place.cancelled_by, place.cancel_reason) == (
            "cancelled",
            staff,
            "Session cancelled",
        )
        assert place.cancelled_at is not None
    refund = Transaction.objects.get(kind=Transaction.Kind.REFUND)
    assert (refund.amount, refund.created_by) == (Decimal("-20"), staff)
    log = StaffLog.objects.get()
    assert (log.action, log.session, log.detail) == ("cancelled session", session, "")
    with pytest.raises(services.BookingError) as refused:
        services.cancel_session(session, by=staff)
    assert str(refused.value) == "This session is already cancelled."


def test_a_long_reason_for_cancelling_a_session_is_kept_to_500_characters():
    booking = BookingFactory.create()
    staff = UserFactory.create(is_staff=True)
    services.cancel_session(booking.session, by=staff, reason="r" * 600)
    booking.refresh_from_db()
    assert booking.cancel_reason == "r" * 500
    assert StaffLog.objects.get().detail == "r" * 500
