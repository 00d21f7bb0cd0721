"""The rules of withdrawing a person from everything still to come (restriction
and erasure call it): which places go, exactly what is stored on each, the
refund, the mail, the staff log, who gets each freed place, and the count."""

from decimal import Decimal

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, MailRecord, StaffLog, Transaction
from courses.models import Course
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def charged(booking, amount):
    Transaction.objects.create(
        person=booking.person,
        booking=booking,
        kind=Transaction.Kind.CHARGE,
        amount=Decimal(amount),
        description="Place",
    )
    return booking


def withdraw(person, *, by=None, reason="Withdrawn: processing restricted"):
    return services.withdraw_person_from_future_sessions(
        person, by=by, reason=reason, notify=True
    )


def test_each_future_place_is_cancelled_with_who_when_and_why_and_counted():
    person = UserFactory.create()
    first, second, third = SessionFactory.create_batch(3)
    # Booked in the opposite order to the sessions: each place stays on its own.
    offered = BookingFactory.create(
        person=person,
        session=third,
        status=Booking.Status.OFFERED,
        offer_expires_at=timezone.now() + timezone.timedelta(hours=5),
    )
    waiting = BookingFactory.create(
        person=person, session=second, status=Booking.Status.WAITLISTED
    )
    first.course.price = Decimal("45")
    first.course.save()
    paid = charged(BookingFactory.create(person=person, session=first), "45")
    staff = UserFactory.create(is_staff=True)
    before = timezone.now()

    assert withdraw(person, by=staff) == 3

    for place in (paid, waiting, offered):
        session_id = place.session_id
        place.refresh_from_db()
        assert (
            place.status,
            place.cancelled_by,
            place.cancel_reason,
            place.offer_expires_at,
            place.session_id,
        ) == ("cancelled", staff, "Withdrawn: processing restricted", None, session_id)
        assert before <= place.cancelled_at <= timezone.now()
    refund = Transaction.objects.get(kind=Transaction.Kind.REFUND)
    assert (refund.booking, refund.amount, refund.created_by) == (
        paid,
        Decimal("-45"),
        staff,
    )
    assert {(m.kind, m.booking_id, m.to, m.key) for m in MailRecord.objects.all()} == {
        ("cancelled", b.pk, person.email, f"booking:{b.pk}:cancelled")
        for b in (paid, waiting, offered)
    }
    assert {
        (log.actor_id, log.action, log.booking_id, log.session_id)
        for log in StaffLog.objects.all()
    } == {
        (staff.pk, "withdrew booking", b.pk, b.session_id)
        for b in (paid, waiting, offered)
    }
    assert withdraw(person, by=staff) == 0  # safe to run twice


def test_a_long_reason_is_kept_to_500_characters():
    place = BookingFactory.create()
    withdraw(place.person, reason="r" * 600)
    place.refresh_from_db()
    assert place.cancel_reason == "r" * 500


def test_places_already_taken_or_cancelled_and_other_peoples_places_stay():
    person = UserFactory.create()
    session = SessionFactory.create()
    # The person cancelled earlier and booked again: only the live place goes.
    earlier = BookingFactory.create(
        person=person, session=session, status=Booking.Status.CANCELLED
    )
    other = BookingFactory.create(session=session)
    live = BookingFactory.create(person=person, session=session)
    past = BookingFactory.create(
        person=person,
        session__starts_at=timezone.now() - timezone.timedelta(days=2),
    )

    assert withdraw(person) == 1

    for place in (earlier, other, live, past):
        place.refresh_from_db()
    assert (live.status, earlier.status, other.status, past.status) == (
        "cancelled",
        "cancelled",
        "confirmed",
        "confirmed",
    )
    assert earlier.cancel_reason == ""
    assert MailRecord.objects.get().booking == live


def test_a_freed_place_goes_to_the_first_person_waiting_and_a_waiting_place_frees_none():
    session = SessionFactory.create(capacity=1)
    holder = BookingFactory.create(session=session)
    first = BookingFactory.create(session=session, status=Booking.Status.WAITLISTED)
    second = BookingFactory.create(session=session, status=Booking.Status.WAITLISTED)

    withdraw(second.person)
    first.refresh_from_db()
    assert first.status == "waitlisted"

    withdraw(holder.person)
    first.refresh_from_db()
    assert first.status == "confirmed"
    assert MailRecord.objects.filter(kind="promoted", booking=first).exists()


def test_a_freed_place_on_an_offer_course_is_offered_to_the_next_person():
    session = SessionFactory.create(
        capacity=1, course__waitlist_mode=Course.WaitlistMode.OFFER
    )
    holder = BookingFactory.create(
        session=session,
        status=Booking.Status.OFFERED,
        offer_expires_at=timezone.now() + timezone.timedelta(hours=3),
    )
    waiting = BookingFactory.create(session=session, status=Booking.Status.WAITLISTED)
    withdraw(holder.person)
    waiting.refresh_from_db()
    assert waiting.status == "offered"


def test_without_notify_nothing_is_queued_to_the_person():
    place = BookingFactory.create()
    assert (
        services.withdraw_person_from_future_sessions(
            place.person,
            by=None,
            reason="Withdrawn: personal data erased",
            notify=False,
        )
        == 1
    )
    assert not MailRecord.objects.exists()
    assert not StaffLog.objects.exists()  # no staff member acted
