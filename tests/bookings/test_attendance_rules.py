"""The rules of recording attendance as staff and learners meet them: the exact
message before a session starts, which places are marked and counted, the
certificate code a learner is given (and keeps), and the staff log."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, StaffLog
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db

CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")


def started_session(**kwargs):
    return SessionFactory.create(
        starts_at=timezone.now() - dt.timedelta(hours=1), **kwargs
    )


def staff():
    return UserFactory.create(is_staff=True)


def statuses(*bookings):
    for booking in bookings:
        booking.refresh_from_db()
    return tuple(b.status for b in bookings)


def test_the_message_before_the_start_names_the_course_and_when_it_starts():
    starts = dt.datetime(2031, 3, 7, 9, 30, tzinfo=timezone.get_current_timezone())
    session = SessionFactory.create(starts_at=starts, course__title="First Aid")
    place = BookingFactory.create(session=session)
    expected = (
        "Attendance for First Aid cannot be recorded before the session starts "
        "on 7 March 2031 09:30."
    )
    with pytest.raises(services.BookingError) as refused:
        services.mark_attendance([place], attended=True, by=staff())
    assert str(refused.value) == expected
    with pytest.raises(services.BookingError) as refused:
        services.save_register(session, present={place.pk}, by=staff())
    assert str(refused.value) == expected
    assert statuses(place) == ("confirmed",)


def test_a_session_starting_this_instant_has_started(monkeypatch):
    session = SessionFactory.create()
    place = BookingFactory.create(session=session)
    monkeypatch.setattr(timezone, "now", lambda: session.starts_at)
    assert services.mark_attendance([place], attended=False, by=staff()) == 1


def test_marking_attended_gives_each_place_a_certificate_and_logs_it():
    session = started_session()
    first, second = BookingFactory.create_batch(2, session=session)
    by = staff()

    assert services.mark_attendance([second, first], attended=True, by=by) == 2

    assert statuses(first, second) == ("attended", "attended")
    assert CODE.fullmatch(first.certificate_code)
    assert CODE.fullmatch(second.certificate_code)
    assert first.certificate_code != second.certificate_code
    assert {
        (log.actor_id, log.action, log.booking_id, log.session_id)
        for log in StaffLog.objects.all()
    } == {(by.pk, "marked attended", b.pk, session.pk) for b in (first, second)}


def test_a_place_not_attended_gets_no_certificate_and_keeps_one_given_before():
    session = started_session()
    place = BookingFactory.create(session=session)
    by = staff()
    services.mark_attendance([place], attended=False, by=by)
    place.refresh_from_db()
    assert (place.status, place.certificate_code) == ("no_show", None)
    assert StaffLog.objects.get().action == "marked did not attend"

    services.mark_attendance([place], attended=True, by=by)
    place.refresh_from_db()
    code = place.certificate_code
    services.mark_attendance([place], attended=False, by=by)
    services.mark_attendance([place], attended=True, by=by)
    place.refresh_from_db()
    assert (place.status, place.certificate_code) == ("attended", code)


def test_only_places_that_change_are_marked_and_counted():
    session = started_session()
    already = BookingFactory.create(
        session=session,
        status=Booking.Status.ATTENDED,
        certificate_code="AAAA-BBBB-CCCC",
    )
    waiting = BookingFactory.create(session=session, status=Booking.Status.WAITLISTED)
    cancelled = BookingFactory.create(session=session, status=Booking.Status.CANCELLED)
    offered = BookingFactory.create(session=session, status=Booking.Status.OFFERED)
    place = BookingFactory.create(session=session)

    assert (
        services.mark_attendance(
            [already, waiting, cancelled, offered, place], attended=True, by=staff()
        )
        == 1
    )
    assert statuses(already, waiting, cancelled, offered, place) == (
        "attended",
        "waitlisted",
        "cancelled",
        "offered",
        "attended",
    )
    assert already.certificate_code == "AAAA-BBBB-CCCC"
    assert StaffLog.objects.get().booking == place


def test_the_register_marks_the_ticked_places_attended_and_the_rest_not():
    session = started_session()
    came, absent, corrected = BookingFactory.create_batch(3, session=session)
    Booking.objects.filter(pk=corrected.pk).update(status=Booking.Status.ATTENDED)
    waiting = BookingFactory.create(session=session, status=Booking.Status.WAITLISTED)
    elsewhere = BookingFactory.create(session=started_session())
    by = staff()

    assert services.save_register(session, present={came.pk, elsewhere.pk}, by=by) == 3

    assert statuses(came, absent, corrected, waiting, elsewhere) == (
        "attended",
        "no_show",
        "no_show",
        "waitlisted",
        "confirmed",
    )
    assert {
        (log.actor_id, log.booking_id, log.action) for log in StaffLog.objects.all()
    } == {
        (by.pk, came.pk, "marked attended"),
        (by.pk, absent.pk, "marked did not attend"),
        (by.pk, corrected.pk, "marked did not attend"),
    }
