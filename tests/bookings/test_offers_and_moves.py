"""Tests the suite lacked: an expired offer accepted before the sweep, and a
move into a full session."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from bookings import services
from bookings.models import Booking
from courses.models import Course
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def verified(n=1):
    people = UserFactory.create_batch(n)
    for p in people:
        EmailAddress.objects.create(user=p, email=p.email, verified=True, primary=True)
    return people


def test_an_expired_offer_is_refused_even_before_the_sweep_has_run():
    session = SessionFactory.create(
        capacity=1, course__waitlist_mode=Course.WaitlistMode.OFFER
    )
    a, b = verified(2)
    holder = services.book_session(a, session)
    waiting = services.book_session(b, session)
    services.cancel_booking(holder, a)
    Booking.objects.filter(pk=waiting.pk).update(
        offer_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    # expire_offers() has not run: the row still says "offered".
    with pytest.raises(services.BookingError, match="offer has expired"):
        services.accept_offer(waiting, b)
    waiting.refresh_from_db()
    assert waiting.status == "offered"
    assert session.bookings.filter(status="confirmed").count() == 0


def test_moving_a_confirmed_place_into_a_full_session_is_refused():
    first = SessionFactory.create(capacity=2)
    full = SessionFactory.create(
        course=first.course,
        capacity=2,
        starts_at=first.starts_at + dt.timedelta(days=7),
    )
    a, b, c = verified(3)
    moving = services.book_session(a, first)
    services.book_session(b, full)
    services.book_session(c, full)
    staff = UserFactory.create(is_staff=True)
    with pytest.raises(services.BookingError, match="That session is full"):
        services.move_booking(moving, full, staff)
    moving.refresh_from_db()
    assert (moving.session_id, moving.status) == (first.pk, "confirmed")
    assert full.bookings.confirmed().count() == 2  # exactly its capacity
