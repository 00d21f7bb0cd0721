"""The booking mail a person receives: the subject of each kind, what the body
says, who it goes to, the key that identifies it, which mail carries the
session as a calendar file, and how the outbox hands mail on when the broker
is down."""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from bookings import services
from bookings.calendar import booking_ics
from bookings.models import Booking, MailRecord
from courses.models import Course
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
STARTS = dt.datetime(2031, 7, 7, 9, 30, tzinfo=LONDON)  # summer time


@pytest.fixture
def booking():
    return BookingFactory.create(
        person=UserFactory.create(first_name="Ada"),
        status=Booking.Status.OFFERED,
        offer_expires_at=dt.datetime(2031, 7, 5, 17, 0, tzinfo=LONDON),
        session=SessionFactory.create(
            course__title="First Aid",
            starts_at=STARTS,
            ends_at=STARTS + dt.timedelta(hours=3),
        ),
    )


def sent(record):
    assert services.send_mail_record(record.pk) is True
    (message,) = mail.outbox
    return message


@pytest.mark.parametrize(
    ("kind", "subject", "calendar"),
    [
        ("confirmed", "Booking confirmed: First Aid", True),
        ("waitlisted", "You are on the waiting list: First Aid", False),
        ("promoted", "A place has come free and is yours: First Aid", True),
        (
            "offered",
            "A place is available, accept it by 5 July 17:00: First Aid",
            False,
        ),
        ("offer_expired", "Your offer of a place has expired: First Aid", False),
        ("cancelled", "Booking cancelled: First Aid", False),
        ("session_cancelled", "Session cancelled: First Aid on 7 July 2031", False),
        ("moved", "Your booking has moved to 7 July 2031: First Aid", True),
        ("reminder", "Reminder: First Aid on 7 July 2031", True),
        ("provider_notice", "New attendee for First Aid on 7 July 2031", False),
    ],
)
def test_each_kind_of_booking_mail_has_its_subject_and_calendar_file(
    booking, kind, subject, calendar
):
    record = services.queue_mail(kind=kind, booking=booking, key=f"test:{kind}")
    message = sent(record)
    assert message.subject == subject
    assert message.to == [booking.person.email]
    assert message.extra_headers["X-CPD-Mail-Key"] == f"test:{kind}"
    if calendar:
        assert message.attachments == [
            ("session.ics", booking_ics(booking).decode(), "text/calendar")
        ]
    else:
        assert message.attachments == []


def test_an_offer_without_a_time_limit_names_no_deadline(booking):
    Booking.objects.filter(pk=booking.pk).update(offer_expires_at=None)
    booking.refresh_from_db()
    record = services.queue_mail(kind="offered", booking=booking, key="test:open")
    assert sent(record).subject == "A place is available, accept it by : First Aid"


def test_a_confirmation_greets_the_person_and_says_when_where_and_how_to_join(
    booking,
):
    course = booking.session.course
    Course.objects.filter(pk=course.pk).update(mode=Course.Mode.LIVE_ONLINE)
    type(booking.session).objects.filter(pk=booking.session_id).update(
        joining_url="https://meet.example.org/first-aid"
    )
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CONFIRMED)
    booking.refresh_from_db()
    record = services.queue_mail(kind="confirmed", booking=booking, key="test:body")

    body = sent(record).body

    assert body.startswith("Hello Ada,\n\nYour place is booked.\n\nFirst Aid\n")
    assert "When: Monday 7 July 2031, 9:30am to 12:30pm (UK time)\n" in body
    assert "Where: Online - join at https://meet.example.org/first-aid\n" in body
    assert f"Course page: http://testserver/courses/{course.slug}/\n" in body
    assert "Your bookings: http://testserver/bookings/\n" in body
    assert body.rstrip().endswith(settings.SITE_NAME)


def test_a_staff_message_carries_what_staff_wrote_and_no_calendar(booking):
    record = services.queue_mail(
        kind="staff_message",
        booking=booking,
        subject="Slides",
        body="Here are the slides.",
        key="test:staff",
    )
    message = sent(record)
    assert message.subject == "Slides"
    assert message.body.startswith("Hello Ada,\n\nHere are the slides.\n\n")
    assert "About: First Aid, 7 July 2031\n" in message.body
    assert message.attachments == []


def test_the_minimum_numbers_alert_goes_to_staff_about_the_session():
    session = SessionFactory.create(
        course__title="First Aid",
        starts_at=STARTS,
        ends_at=STARTS + dt.timedelta(hours=3),
        minimum_attendees=6,
    )
    record = services.queue_mail(
        kind="minimum_alert",
        session=session,
        to="bookings@example.org",
        key="test:minimum",
    )
    message = sent(record)
    assert message.subject == "Below minimum numbers: First Aid on 7 July 2031"
    assert message.to == ["bookings@example.org"]
    assert "fewer bookings than its minimum of 6." in message.body
    assert f"http://testserver/staff/sessions/{session.pk}/" in message.body
    assert message.attachments == []


# --- the outbox ----------------------------------------------------------------


def test_a_booking_mail_is_queued_once_per_key_to_the_person_about_the_session(
    booking,
):
    record = services.queue_mail(kind="reminder", booking=booking, key="k")
    stored = MailRecord.objects.get()
    assert (
        stored,
        stored.kind,
        stored.booking,
        stored.session,
        stored.to,
        stored.subject,
        stored.body,
        stored.status,
    ) == (
        record,
        "reminder",
        booking,
        booking.session,
        booking.person.email,
        "",
        "",
        "pending",
    )
    assert services.queue_mail(kind="reminder", booking=booking, key="k") is None
    assert MailRecord.objects.count() == 1


def test_mail_to_someone_else_about_a_booking_goes_to_that_address(booking):
    services.queue_mail(
        kind="provider_notice", booking=booking, to="p@example.org", key="k"
    )
    assert MailRecord.objects.get().to == "p@example.org"


def test_a_queued_mail_is_sent_once_the_booking_commits(
    booking, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record = services.queue_mail(kind="reminder", booking=booking, key="k")
    assert [m.subject for m in mail.outbox] == ["Reminder: First Aid on 7 July 2031"]
    record.refresh_from_db()
    assert record.status == "sent"


def test_with_the_broker_down_the_mail_waits_in_the_outbox_and_says_so(
    booking, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from bookings import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_booking_mail, "delay", broker_down)
    with (
        caplog.at_level(logging.WARNING, logger="bookings.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        record = services.queue_mail(kind="reminder", booking=booking, key="k")
    assert [
        r.getMessage() for r in caplog.records if r.name == "bookings.services"
    ] == [f"Broker unavailable; mail {record.pk} left in the outbox"]
    record.refresh_from_db()
    assert record.status == "pending"
    assert mail.outbox == []


def test_the_sweep_sends_mail_left_waiting_and_not_mail_just_queued(booking):
    waiting = services.queue_mail(kind="reminder", booking=booking, key="old")
    # Left waiting just over the minute the sweep leaves to the task.
    MailRecord.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=60.3)
    )
    fresh = services.queue_mail(kind="cancelled", booking=booking, key="new")

    assert services.send_pending_mail() == 1

    waiting.refresh_from_db()
    fresh.refresh_from_db()
    assert (waiting.status, fresh.status) == ("sent", "pending")
    assert services.send_pending_mail(older_than_seconds=0) == 1


def test_a_mail_with_no_one_to_send_it_to_is_not_queued():
    session = SessionFactory.create()
    assert services.queue_mail(kind="minimum_alert", session=session, key="k") is None
    assert not MailRecord.objects.exists()
