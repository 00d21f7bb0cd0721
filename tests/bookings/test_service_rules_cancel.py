"""More rules of cancelling as learners and staff meet them: until when a
learner may cancel a place or leave the waiting list, the refund, who gets a
freed place, and what cancelling a whole session tells each person."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, MailRecord, StaffLog, Transaction
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def paid_place(session, amount="30", **kwargs):
    booking = BookingFactory.create(session=session, **kwargs)
    Transaction.objects.create(
        person=booking.person,
        booking=booking,
        kind=Transaction.Kind.CHARGE,
        amount=Decimal(amount),
        description="Place",
    )
    return booking


@pytest.mark.parametrize("status", [Booking.Status.WAITLISTED, Booking.Status.OFFERED])
def test_a_learner_may_leave_the_waiting_list_or_an_offer_until_the_start(status):
    # Two hours to go: long past the 48-hour deadline for a confirmed place.
    session = SessionFactory.create(starts_at=timezone.now() + dt.timedelta(hours=2))
    place = BookingFactory.create(session=session, status=status)
    services.cancel_booking(place, by=place.person)
    place.refresh_from_db()
    assert (place.status, place.cancelled_by, place.cancel_reason) == (
        "cancelled",
        place.person,
        "",
    )


def test_the_deadline_itself_is_too_late_to_cancel_online(monkeypatch):
    place = BookingFactory.create()
    deadline = services.cancellation_deadline(place)
    assert deadline == place.session.starts_at - dt.timedelta(hours=48)
    monkeypatch.setattr(timezone, "now", lambda: deadline)
    with pytest.raises(services.BookingError) as refused:
        services.cancel_booking(place, by=place.person)
    assert str(refused.value) == (
        "The deadline to cancel online has passed. Contact us if you cannot attend."
    )


def test_a_learner_cancelling_in_time_is_refunded_and_the_first_waiting_gets_the_place():
    session = SessionFactory.create(capacity=1, course__price=Decimal("30"))
    place = paid_place(session)
    waiting = BookingFactory.create(session=session, status=Booking.Status.WAITLISTED)

    services.cancel_booking(place, by=place.person, reason="Ill")

    place.refresh_from_db()
    assert (place.status, place.cancelled_by, place.cancel_reason) == (
        "cancelled",
        place.person,
        "Ill",
    )
    refund = Transaction.objects.get(kind=Transaction.Kind.REFUND)
    assert (refund.booking, refund.amount, refund.created_by) == (
        place,
        Decimal("-30"),
        place.person,
    )
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"
    # The learner acted for themselves: nothing in the staff log.
    assert not StaffLog.objects.exists()


def test_staff_cancelling_after_the_deadline_still_refunds_in_full():
    session = SessionFactory.create(starts_at=timezone.now() + dt.timedelta(hours=3))
    place = paid_place(session, amount="50")
    staff = UserFactory.create(is_staff=True)
    services.cancel_booking(place, by=staff)
    refund = Transaction.objects.get(kind=Transaction.Kind.REFUND)
    assert (refund.amount, refund.created_by, refund.person) == (
        Decimal("-50"),
        staff,
        place.person,
    )


def test_leaving_the_waiting_list_passes_no_place_on():
    # Staff raised the places after people joined the waiting list.
    session = SessionFactory.create(capacity=2)
    BookingFactory.create(session=session)
    leaving = BookingFactory.create(session=session, status=Booking.Status.WAITLISTED)
    staying = BookingFactory.create(session=session, status=Booking.Status.WAITLISTED)
    services.cancel_booking(leaving, by=leaving.person)
    staying.refresh_from_db()
    assert staying.status == "waitlisted"
    assert not Transaction.objects.exists()


def test_cancelling_a_session_tells_everyone_holding_or_waiting_and_no_one_else():
    session = SessionFactory.create()
    told = [
        BookingFactory.create(session=session, status=status)
        for status in (
            Booking.Status.CONFIRMED,
            Booking.Status.OFFERED,
            Booking.Status.WAITLISTED,
        )
    ]
    untouched = [
        BookingFactory.create(session=session, status=status)
        for status in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
    ]
    staff = UserFactory.create(is_staff=True)

    assert services.cancel_session(session, by=staff, reason="Trainer ill") == 3

    assert [
        (r.kind, r.booking_id, r.to, r.key)
        for r in MailRecord.objects.order_by("booking_id")
    ] == [
        (
            "session_cancelled",
            b.pk,
            b.person.email,
            f"booking:{b.pk}:session_cancelled",
        )
        for b in told
    ]
    for place in told:
        place.refresh_from_db()
        assert (place.status, place.cancel_reason) == ("cancelled", "Trainer ill")
    for place in untouched:
        status = place.status
        place.refresh_from_db()
        assert place.status == status
    log = StaffLog.objects.get()
    assert (log.actor, log.action, log.session, log.detail) == (
        staff,
        "cancelled session",
        session,
        "Trainer ill",
    )


def test_a_one_pound_place_is_charged_and_refunded_to_whoever_pays_with_its_name():
    session = SessionFactory.create(course__price=Decimal("1"))
    organisation = OrganisationFactory.create(pays_on_account=True)
    staff = UserFactory.create(is_staff=True)
    person = UserFactory.create()
    member_of(person, organisation)
    place = services.book_session(person, session, by=staff, organisation=organisation)
    services.cancel_booking(place, by=staff)
    assert [
        (t.kind, t.person, t.organisation, t.booking, t.amount, t.description)
        for t in Transaction.objects.order_by("pk")
    ] == [
        (
            "charge",
            place.person,
            organisation,
            place,
            Decimal("1"),
            f"Place on {session}",
        ),
        (
            "refund",
            place.person,
            organisation,
            place,
            Decimal("-1"),
            f"Refund for cancelled place on {session}",
        ),
    ]


def test_the_waiting_list_cannot_be_left_online_once_the_session_starts(monkeypatch):
    place = BookingFactory.create(status=Booking.Status.WAITLISTED)
    monkeypatch.setattr(timezone, "now", lambda: place.session.starts_at)
    with pytest.raises(services.BookingError):
        services.cancel_booking(place, by=place.person)
    place.refresh_from_db()
    assert place.status == "waitlisted"
