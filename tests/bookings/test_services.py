import datetime as dt
import threading
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.utils import timezone

from bookings import services
from bookings.models import Booking, MailRecord, Transaction
from courses.models import Session
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory


def verified(n=1):
    people = UserFactory.create_batch(n)
    for p in people:
        EmailAddress.objects.create(user=p, email=p.email, verified=True, primary=True)
    return people


@pytest.mark.django_db
def test_books_a_place_then_the_waiting_list_when_full(
    django_capture_on_commit_callbacks,
):
    session = SessionFactory.create(capacity=1)
    a, b = verified(2)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.book_session(a, session)
        second = services.book_session(b, session)
    assert (first.status, second.status) == ("confirmed", "waitlisted")
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects[0].startswith("Booking confirmed")
    assert subjects[1].startswith("You are on the waiting list")
    confirmed = next(m for m in mail.outbox if m.to == [a.email])
    assert confirmed.attachments[0][0] == "session.ics"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": Session.Status.CANCELLED}, "This session has been cancelled."),
        (
            {"booking_closes_at": timezone.now() - dt.timedelta(hours=1)},
            "Booking for this session has closed.",
        ),
        (
            {"starts_at": timezone.now() - dt.timedelta(hours=1)},
            "This session has already started.",
        ),
    ],
)
def test_refuses_sessions_that_cannot_be_booked(change, message):
    session = SessionFactory.create()
    for field, value in change.items():
        setattr(session, field, value)
    if "starts_at" in change:
        session.ends_at = session.starts_at + dt.timedelta(hours=2)
    session.save()
    (person,) = verified()
    with pytest.raises(services.BookingError, match=message):
        services.book_session(person, session)
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_refuses_a_second_booking_and_an_unverified_email():
    session = SessionFactory.create()
    (person,) = verified()
    services.book_session(person, session)
    with pytest.raises(services.BookingError, match="already have a booking"):
        services.book_session(person, session)
    stranger = UserFactory.create()
    with pytest.raises(services.BookingError, match="Confirm your email"):
        services.book_session(stranger, session)


@pytest.mark.django_db
def test_database_refuses_two_live_bookings_for_one_person():
    from django.db import IntegrityError, transaction

    booking = BookingFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            person=booking.person, session=booking.session, status="waitlisted"
        )


@pytest.mark.django_db
def test_cancelling_promotes_the_first_person_waiting_and_mails_them(
    django_capture_on_commit_callbacks,
):
    session = SessionFactory.create(capacity=1, course__price=Decimal("40"))
    a, b, c = verified(3)
    holder = services.book_session(a, session)
    services.book_session(b, session)
    services.book_session(c, session)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_booking(holder, a, reason="Clash")
    statuses = dict(Booking.objects.values_list("person__email", "status"))
    assert statuses == {
        a.email: "cancelled",
        b.email: "confirmed",
        c.email: "waitlisted",
    }
    promoted = [m for m in mail.outbox if m.to == [b.email]]
    assert len(promoted) == 1
    assert "A place has come free" in promoted[0].subject
    # Ledger: a's charge refunded in full, b now charged.
    assert [(t.kind, t.amount) for t in Transaction.objects.filter(person=a)] == [
        ("charge", Decimal("40.00")),
        ("refund", Decimal("-40.00")),
    ]
    assert [(t.kind, t.amount) for t in Transaction.objects.filter(person=b)] == [
        ("charge", Decimal("40.00"))
    ]


@pytest.mark.django_db
def test_learners_cannot_cancel_after_the_deadline_but_staff_can():
    session = SessionFactory.create(starts_at=timezone.now() + dt.timedelta(hours=10))
    session.course.cancellation_deadline_hours = 24
    session.course.save()
    (person,) = verified()
    booking = services.book_session(person, session)
    with pytest.raises(services.BookingError, match="deadline"):
        services.cancel_booking(booking, person)
    staff = UserFactory.create(is_staff=True)
    assert services.cancel_booking(booking, staff).status == "cancelled"


@pytest.mark.django_db
def test_transactions_are_append_only():
    booking = BookingFactory.create()
    t = Transaction.objects.create(
        person=booking.person, kind="charge", amount=5, description="x"
    )
    t.amount = 1
    with pytest.raises(ValueError, match="append-only"):
        t.save()
    with pytest.raises(ValueError, match="never deleted"):
        t.delete()


@pytest.mark.django_db
def test_a_mail_sent_twice_goes_out_once(django_capture_on_commit_callbacks):
    (person,) = verified()
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.book_session(person, SessionFactory.create())
    record = MailRecord.objects.get(booking=booking)
    assert services.send_mail_record(record.pk) is False  # already sent
    assert len(mail.outbox) == 1
    record.refresh_from_db()
    assert record.status == "sent"


@pytest.mark.django_db(transaction=True)
def test_last_place_goes_to_exactly_one_of_two_racers():
    session = SessionFactory.create(capacity=1)
    people = verified(2)
    barrier = threading.Barrier(2)

    def book(person):
        barrier.wait()
        try:
            services.book_session(person, session)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(p,)) for p in people]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(Booking.objects.values_list("status", flat=True)) == [
        "confirmed",
        "waitlisted",
    ]


@pytest.mark.django_db(transaction=True)
def test_sixty_concurrent_bookings_fill_fifteen_places_in_arrival_order():
    session = SessionFactory.create(capacity=15)
    people = verified(60)
    barrier = threading.Barrier(60)
    errors = []

    def book(person):
        barrier.wait()
        try:
            services.book_session(person, session)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(p,)) for p in people]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    ordered = list(Booking.objects.order_by("created_at", "pk"))
    assert [b.status for b in ordered] == ["confirmed"] * 15 + ["waitlisted"] * 45
    staff = UserFactory.create(is_staff=True)
    for booking in ordered[:5]:
        services.cancel_booking(booking, staff)
    now_confirmed = set(
        Booking.objects.filter(status="confirmed").values_list("pk", flat=True)
    )
    assert now_confirmed == {b.pk for b in ordered[5:20]}
    assert Booking.objects.filter(status="waitlisted").count() == 40


@pytest.mark.django_db
def test_reminders_go_once_to_confirmed_places_the_set_number_of_days_before(
    django_capture_on_commit_callbacks, settings
):
    settings.BOOKING_REMINDER_DAYS = 2
    day = timezone.localdate() + dt.timedelta(days=2)
    starts = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
    session = SessionFactory.create(starts_at=starts)
    confirmed = BookingFactory.create(session=session)
    BookingFactory.create(session=session, status="waitlisted")
    BookingFactory.create(session=SessionFactory.create())  # 14 days away
    from bookings import tasks

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_reminders.delay().get() == 1
        assert tasks.send_reminders.delay().get() == 0
    assert [m.to for m in mail.outbox] == [[confirmed.person.email]]
    assert mail.outbox[0].subject.startswith("Reminder:")
    assert mail.outbox[0].attachments[0][0] == "session.ics"


@pytest.mark.django_db
def test_a_failed_send_is_recorded_and_retried_later(
    django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    (person,) = verified()
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.book_session(person, SessionFactory.create())
    record = MailRecord.objects.get(booking=booking)
    assert record.status == "failed"
    assert record.last_error.startswith("ConnectionRefusedError")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.send_pending_mail(older_than_seconds=0) == 0  # backing off
    MailRecord.objects.filter(pk=record.pk).update(retry_at=record.created_at)
    assert services.send_pending_mail(older_than_seconds=0) == 1
    record.refresh_from_db()
    assert (record.status, record.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1
