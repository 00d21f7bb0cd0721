"""The rules of staff writing to a session's people: who is written to for each
audience, exactly what goes in each outbox row, the count staff are shown, the
staff log, and that a resubmitted form sends nobody a second copy."""

import re

import pytest

from bookings import services
from bookings.models import Booking, MailRecord, StaffLog
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_people():
    session = SessionFactory.create()
    people = {
        status: BookingFactory.create(session=session, status=status)
        for status in (
            Booking.Status.ATTENDED,
            Booking.Status.NO_SHOW,
            Booking.Status.CONFIRMED,
            Booking.Status.WAITLISTED,
            Booking.Status.OFFERED,
            Booking.Status.CANCELLED,
        )
    }
    BookingFactory.create(status=Booking.Status.ATTENDED)  # another session
    return session, people


def send(session, *, attended, request_key="form-1", by=None):
    token = {"request_key": request_key} if request_key else {}
    return services.email_attendees(
        session,
        by or UserFactory.create(is_staff=True),
        attended=attended,
        subject="Slides",
        body="Here are the slides.",
        **token,
    )


def test_writing_to_attendees_queues_one_message_each_and_logs_it(session_people):
    session, people = session_people
    staff = UserFactory.create(is_staff=True)

    assert send(session, attended=True, by=staff) == 1

    came = people["attended"]
    rows = [
        (r.kind, r.booking_id, r.session_id, r.to, r.subject, r.body, r.key)
        for r in MailRecord.objects.all()
    ]
    assert rows == [
        (
            "staff_message",
            came.pk,
            session.pk,
            came.person.email,
            "Slides",
            "Here are the slides.",
            f"staff:form-1:{came.pk}",
        )
    ]
    log = StaffLog.objects.get()
    assert (log.actor, log.action, log.session, log.booking, log.detail) == (
        staff,
        "emailed attendees",
        session,
        None,
        "Slides",
    )


def test_writing_to_non_attendees_reaches_no_shows_and_unmarked_places(
    session_people,
):
    session, people = session_people
    assert send(session, attended=False) == 2
    assert {r.booking_id for r in MailRecord.objects.all()} == {
        people["no_show"].pk,
        people["confirmed"].pk,
    }
    assert {r.to for r in MailRecord.objects.all()} == {
        people["no_show"].person.email,
        people["confirmed"].person.email,
    }
    assert StaffLog.objects.get().action == "emailed non-attendees"


def test_a_resubmitted_form_sends_nobody_a_second_copy(session_people):
    session, _ = session_people
    send(session, attended=False, request_key="form-7")
    send(session, attended=False, request_key="form-7")
    assert MailRecord.objects.count() == 2
    assert {r.key.split(":")[1] for r in MailRecord.objects.all()} == {"form-7"}


def test_without_a_form_token_each_message_is_a_new_batch(session_people):
    session, people = session_people
    send(session, attended=True, request_key=None)
    send(session, attended=True, request_key=None)
    keys = [r.key for r in MailRecord.objects.order_by("pk")]
    assert len(keys) == 2
    assert keys[0] != keys[1]
    for key in keys:
        assert re.fullmatch(rf"staff:[0-9a-f]{{12}}:{people['attended'].pk}", key)
