"""The rules of `move_booking` as staff meet them: the message for each move
that is refused, and what a move stores (the mail, the staff log)."""

import datetime as dt

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, MailRecord, StaffLog
from courses.models import Session
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def refusal(booking, target) -> str:
    with pytest.raises(services.BookingError) as refused:
        services.move_booking(booking, target, by=UserFactory.create(is_staff=True))
    return str(refused.value)


def test_each_refused_move_says_why():
    booking = BookingFactory.create()
    course = booking.session.course
    assert refusal(booking, SessionFactory.create()) == (
        "A booking can only move to a session of the same course."
    )
    assert refusal(booking, booking.session) == (
        "The booking is already on that session."
    )
    cancelled = SessionFactory.create(course=course, status=Session.Status.CANCELLED)
    assert refusal(booking, cancelled) == "That session cannot be booked."
    started = SessionFactory.create(
        course=course, starts_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert refusal(booking, started) == "That session cannot be booked."
    taken = SessionFactory.create(course=course)
    BookingFactory.create(session=taken, person=booking.person)
    assert refusal(booking, taken) == (
        "The person already has a booking on that session."
    )
    full = SessionFactory.create(course=course, capacity=1)
    BookingFactory.create(session=full)
    assert refusal(booking, full) == "That session is full."
    attended = BookingFactory.create(
        session=booking.session, status=Booking.Status.ATTENDED
    )
    assert refusal(attended, SessionFactory.create(course=course)) == (
        "Only a confirmed or waiting booking can be moved."
    )


def test_a_move_mails_the_person_and_is_logged():
    booking = BookingFactory.create()
    source = booking.session
    Booking.objects.filter(pk=booking.pk).update(cancel_reason="kept")  # another edit
    target = SessionFactory.create(course=source.course)
    staff = UserFactory.create(is_staff=True)
    services.move_booking(booking, target, by=staff, request_key="form-1")
    booking.refresh_from_db()
    assert (booking.session, booking.cancel_reason) == (target, "kept")
    record = MailRecord.objects.get(
        key=f"booking:{booking.pk}:moved:{target.pk}:form-1"
    )
    assert (record.kind, record.booking) == ("moved", booking)
    log = StaffLog.objects.get()
    assert (log.actor, log.action, log.booking, log.session, log.detail) == (
        staff,
        "moved booking",
        booking,
        target,
        f"from session {source.pk} to {target.pk}",
    )
