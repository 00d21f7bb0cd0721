"""Cancellations racing new bookings: the lock on the session row keeps the
count at capacity and gives freed places to the first people waiting, in order."""

import threading

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from bookings import services
from bookings.models import Booking
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory


def verified(n=1):
    people = UserFactory.create_batch(n)
    for p in people:
        EmailAddress.objects.create(user=p, email=p.email, verified=True, primary=True)
    return people


@pytest.mark.django_db(transaction=True)
def test_cancellations_racing_new_bookings_never_exceed_capacity_and_promote_in_order():
    session = SessionFactory.create(capacity=5)
    holders = [services.book_session(p, session) for p in verified(5)]
    waiting = [services.book_session(p, session) for p in verified(10)]
    newcomers = verified(10)
    staff = UserFactory.create(is_staff=True)
    barrier = threading.Barrier(len(holders) + len(newcomers))
    errors = []

    def run(action, *args):
        barrier.wait()
        try:
            action(*args)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(services.cancel_booking, b, staff))
        for b in holders
    ] + [
        threading.Thread(target=run, args=(services.book_session, p, session))
        for p in newcomers
    ]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    confirmed = set(
        Booking.objects.filter(session=session, status="confirmed").values_list(
            "pk", flat=True
        )
    )
    assert len(confirmed) == session.capacity
    assert confirmed == {b.pk for b in waiting[:5]}  # the first five waiting
    assert Booking.objects.filter(session=session, status="waitlisted").count() == 15
