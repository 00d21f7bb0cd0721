"""More rules of `move_booking` as staff meet them: a waiting place moves to a
full session, a moved place is passed on to the next person waiting, a session
starting this instant is refused, and the mail's key without a form token."""

import re

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, MailRecord
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def move(booking, target, **kwargs):
    return services.move_booking(
        booking, target, by=UserFactory.create(is_staff=True), **kwargs
    )


def test_a_waiting_place_may_move_to_a_full_session_and_keeps_waiting():
    place = BookingFactory.create(status=Booking.Status.WAITLISTED)
    full = SessionFactory.create(course=place.session.course, capacity=1)
    BookingFactory.create(session=full)
    move(place, full)
    place.refresh_from_db()
    assert (place.session, place.status) == (full, "waitlisted")


def test_moving_a_confirmed_place_passes_it_to_the_next_person_waiting():
    source = SessionFactory.create(capacity=1)
    place = BookingFactory.create(session=source)
    next_in_line = BookingFactory.create(
        session=source, status=Booking.Status.WAITLISTED
    )
    move(place, SessionFactory.create(course=source.course))
    next_in_line.refresh_from_db()
    assert next_in_line.status == "confirmed"


def test_moving_a_waiting_place_frees_nothing_on_the_old_session():
    # Staff raised the places after people joined the waiting list: a place is
    # free, but only a place moved away is passed on.
    source = SessionFactory.create(capacity=2)
    BookingFactory.create(session=source)
    moving = BookingFactory.create(session=source, status=Booking.Status.WAITLISTED)
    still_waiting = BookingFactory.create(
        session=source, status=Booking.Status.WAITLISTED
    )
    move(moving, SessionFactory.create(course=source.course))
    still_waiting.refresh_from_db()
    assert still_waiting.status == "waitlisted"


def test_a_session_starting_this_instant_cannot_be_moved_to(monkeypatch):
    place = BookingFactory.create()
    target = SessionFactory.create(course=place.session.course)
    monkeypatch.setattr(timezone, "now", lambda: target.starts_at)
    with pytest.raises(services.BookingError) as refused:
        move(place, target)
    assert str(refused.value) == "That session cannot be booked."


def test_without_a_form_token_the_mail_key_carries_the_time_of_the_move():
    place = BookingFactory.create()
    target = SessionFactory.create(course=place.session.course)
    move(place, target)
    (record,) = MailRecord.objects.filter(kind="moved")
    assert re.fullmatch(rf"booking:{place.pk}:moved:{target.pk}:\d+", record.key)
