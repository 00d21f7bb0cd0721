"""Two organisations' bookers booking groups onto the same session at once, with
learners booking themselves: the session never holds more than its places, and
every person is either booked or waiting, once."""

import threading

import pytest
from django.db import connection

from bookings import services
from bookings.models import Booking
from tests.accounts.factories import OrganisationFactory, member_of, verified_person
from tests.courses.factories import SessionFactory


@pytest.mark.django_db(transaction=True)
def test_group_bookings_racing_each_other_never_exceed_capacity():
    session = SessionFactory.create(capacity=7)
    groups = []
    for _ in range(2):
        org = OrganisationFactory.create()
        booker = member_of(verified_person(), org, is_booker=True).person
        members = [member_of(verified_person(), org).person for _ in range(5)]
        groups.append((org, booker, members))
    loners = [verified_person() for _ in range(4)]
    barrier = threading.Barrier(len(groups) + len(loners))
    errors = []

    def run(action, *args, **kwargs):
        barrier.wait()
        try:
            action(*args, **kwargs)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run,
            args=(services.book_members, session, members),
            kwargs={"by": booker, "organisation": org},
        )
        for org, booker, members in groups
    ] + [
        threading.Thread(target=run, args=(services.book_session, p, session))
        for p in loners
    ]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    bookings = Booking.objects.filter(session=session)
    assert bookings.filter(status="confirmed").count() == 7
    assert bookings.filter(status="waitlisted").count() == 14 - 7
    assert bookings.values("person").distinct().count() == 14
    # A group is booked in the order given: nobody later in a group has a
    # place while someone earlier in the same group waits.
    for _org, _booker, members in groups:
        statuses = [bookings.get(person=p).status for p in members]
        assert statuses == sorted(statuses)  # "confirmed" < "waitlisted"
