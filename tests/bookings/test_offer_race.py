"""The offer sweep racing a person accepting their offer: an offer accepted
while the sweep waits for its session's lock stays accepted, and the sweep
still lapses every later offer."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bookings import services
from bookings.models import Booking
from courses.models import Course, Session
from tests.bookings.factories import BookingFactory
from tests.bookings.test_withdrawal_race import someone_waits_for_a_lock
from tests.courses.factories import SessionFactory


@pytest.mark.django_db(transaction=True)
def test_an_offer_accepted_while_the_sweep_waits_stays_and_later_offers_lapse(
    settings,
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    first, later = SessionFactory.create_batch(
        2, capacity=1, course__waitlist_mode=Course.WaitlistMode.OFFER
    )
    lapsed = timezone.now() - dt.timedelta(minutes=5)
    accepted = BookingFactory.create(
        session=first, status=Booking.Status.OFFERED, offer_expires_at=lapsed
    )
    not_accepted = BookingFactory.create(
        session=later, status=Booking.Status.OFFERED, offer_expires_at=lapsed
    )
    locked = threading.Event()
    waited = []

    def accept_holding_the_lock():
        try:
            with transaction.atomic():
                Session.objects.select_for_update().get(pk=first.pk)
                Booking.objects.filter(pk=accepted.pk).update(
                    status="confirmed", offer_expires_at=None
                )
                locked.set()
                waited.append(someone_waits_for_a_lock())
        finally:
            locked.set()
            connection.close()

    person = threading.Thread(target=accept_holding_the_lock)
    person.start()
    assert locked.wait(20)
    expired = services.expire_offers()  # lists both, then waits for the lock
    person.join()

    assert waited == [True]
    assert expired == 1
    accepted.refresh_from_db()
    not_accepted.refresh_from_db()
    assert accepted.status == "confirmed"
    assert (not_accepted.status, not_accepted.cancel_reason) == (
        "cancelled",
        "Offer not accepted in time",
    )
