"""Withdrawing a person while one of their places is being cancelled: the place
gone by the time its session's lock is granted is skipped, and every later
session is still withdrawn."""

import threading
import time

import pytest
from django.db import connection, transaction

from bookings import services
from bookings.models import Booking
from courses.models import Session
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory


def someone_waits_for_a_lock(timeout=20.0):
    """True once another connection to this database waits on a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND pid <> pg_backend_pid() "
                "AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_place_cancelled_while_waiting_for_its_lock_is_skipped_and_the_rest_go(
    settings,
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    first, later = SessionFactory.create_batch(2)
    on_first = BookingFactory.create(session=first)
    on_later = BookingFactory.create(session=later, person=on_first.person)
    locked = threading.Event()
    waited = []

    def cancel_holding_the_lock():
        try:
            with transaction.atomic():
                Session.objects.select_for_update().get(pk=first.pk)
                Booking.objects.filter(pk=on_first.pk).update(status="cancelled")
                locked.set()
                waited.append(someone_waits_for_a_lock())
        finally:
            locked.set()
            connection.close()

    staff = threading.Thread(target=cancel_holding_the_lock)
    staff.start()
    assert locked.wait(20)
    # Lists both places, then waits for the first session's lock.
    withdrawn = services.withdraw_person_from_future_sessions(
        on_first.person,
        by=None,
        reason="Withdrawn: processing restricted",
        notify=False,
    )
    staff.join()

    assert waited == [True]
    assert withdrawn == 1
    on_first.refresh_from_db()
    on_later.refresh_from_db()
    assert (on_first.status, on_first.cancel_reason) == ("cancelled", "")
    assert (on_later.status, on_later.cancel_reason) == (
        "cancelled",
        "Withdrawn: processing restricted",
    )
