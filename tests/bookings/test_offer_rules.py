"""The rules of the waiting list as people on it meet them: who a freed place
goes to and when it goes to nobody, offers made, accepted and lapsing (the
message, what is stored, the mail), and what confirming a place sets off (the
charge, the mail, the provider's notice and the disclosure record)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, MailRecord, Transaction
from courses.models import Course, Provider
from privacy.models import Disclosure
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def offer_session(**kwargs):
    return SessionFactory.create(
        capacity=1, course__waitlist_mode=Course.WaitlistMode.OFFER, **kwargs
    )


def offered(session, *, expires_in=dt.timedelta(hours=5), **kwargs):
    return BookingFactory.create(
        session=session,
        status=Booking.Status.OFFERED,
        offer_expires_at=timezone.now() + expires_in if expires_in else None,
        **kwargs,
    )


def waiting(session, **kwargs):
    return BookingFactory.create(
        session=session, status=Booking.Status.WAITLISTED, **kwargs
    )


def mails(**filters):
    return [
        (r.kind, r.booking_id, r.to, r.key)
        for r in MailRecord.objects.filter(**filters).order_by("pk")
    ]


def staff_cancels(booking):
    services.cancel_booking(booking, by=UserFactory.create(is_staff=True))


# --- who a freed place goes to ----------------------------------------------


def test_a_freed_place_goes_to_whoever_joined_the_waiting_list_first():
    session = SessionFactory.create(capacity=1)
    holder = BookingFactory.create(session=session)
    later = waiting(session)
    earlier = waiting(session)
    Booking.objects.filter(pk=earlier.pk).update(
        created_at=later.created_at - dt.timedelta(minutes=5)
    )
    staff_cancels(holder)
    later.refresh_from_db()
    earlier.refresh_from_db()
    assert (earlier.status, later.status) == ("confirmed", "waitlisted")


@pytest.mark.parametrize(
    "change",
    [{"processing_restricted": True}, {"erased_at": timezone.now()}],
    ids=["restricted", "erased"],
)
def test_a_freed_place_passes_over_people_restricted_or_erased(change):
    session = SessionFactory.create(capacity=1)
    holder = BookingFactory.create(session=session)
    skipped = waiting(session)
    type(skipped.person).objects.filter(pk=skipped.person_id).update(**change)
    next_in_line = waiting(session)
    staff_cancels(holder)
    skipped.refresh_from_db()
    next_in_line.refresh_from_db()
    assert (skipped.status, next_in_line.status) == ("waitlisted", "confirmed")


def test_no_place_is_passed_on_once_the_session_has_started():
    session = SessionFactory.create(
        capacity=1, starts_at=timezone.now() - dt.timedelta(minutes=10)
    )
    holder = BookingFactory.create(session=session)
    left_waiting = waiting(session)
    staff_cancels(holder)
    left_waiting.refresh_from_db()
    assert left_waiting.status == "waitlisted"
    assert not MailRecord.objects.filter(kind="promoted").exists()


def test_a_lapsed_offer_passes_nothing_on_while_the_session_is_still_full():
    # Staff cut the places to one after two were taken: still full without it.
    session = offer_session()
    BookingFactory.create(session=session)
    lapsed = offered(session, expires_in=-dt.timedelta(minutes=1))
    left_waiting = waiting(session)
    assert services.expire_offers() == 1
    left_waiting.refresh_from_db()
    assert left_waiting.status == "waitlisted"
    lapsed.refresh_from_db()
    assert lapsed.status == "cancelled"


def test_a_promoted_place_is_charged_mailed_and_shared_with_the_provider():
    session = SessionFactory.create(
        capacity=1,
        course__price=Decimal("35"),
        course__provider__name="Westmoor Learning",
        course__provider__kind=Provider.Kind.THIRD_PARTY,
        course__provider__shares_attendee_details=True,
        course__provider__contact_email="courses@westmoor.example",
    )
    holder = BookingFactory.create(session=session)
    promoted = waiting(session)

    staff_cancels(holder)

    promoted.refresh_from_db()
    assert promoted.status == "confirmed"
    charge = Transaction.objects.get(kind=Transaction.Kind.CHARGE)
    assert (charge.booking, charge.amount, charge.created_by) == (
        promoted,
        Decimal("35"),
        None,
    )
    assert mails(booking=promoted) == [
        (
            "promoted",
            promoted.pk,
            promoted.person.email,
            f"booking:{promoted.pk}:promoted",
        ),
        (
            "provider_notice",
            promoted.pk,
            "courses@westmoor.example",
            f"booking:{promoted.pk}:provider_notice",
        ),
    ]
    disclosure = Disclosure.objects.get()
    assert (
        disclosure.person,
        disclosure.recipient,
        disclosure.fields,
        disclosure.purpose,
        disclosure.reference,
    ) == (
        promoted.person,
        "Westmoor Learning",
        "name, work email",
        f"Attendee of {session}",
        f"booking:{promoted.pk}",
    )


@pytest.mark.parametrize(
    ("shares", "contact"),
    [(False, "courses@westmoor.example"), (True, "")],
    ids=["does-not-share", "no-contact"],
)
def test_a_provider_that_does_not_receive_details_is_told_nothing(shares, contact):
    session = SessionFactory.create(
        course__provider__shares_attendee_details=shares,
        course__provider__contact_email=contact,
    )
    person = UserFactory.create()
    services.book_session(person, session, by=UserFactory.create(is_staff=True))
    assert [kind for kind, *_ in mails()] == ["confirmed"]
    assert not Disclosure.objects.exists()


# --- offers ------------------------------------------------------------------


def test_a_freed_place_on_an_offer_course_is_held_for_the_course_offer_hours():
    session = offer_session(course__offer_hours=6)
    holder = BookingFactory.create(session=session)
    next_in_line = waiting(session)
    before = timezone.now()
    staff_cancels(holder)
    next_in_line.refresh_from_db()
    assert next_in_line.status == "offered"
    assert (
        before + dt.timedelta(hours=6)
        <= next_in_line.offer_expires_at
        <= timezone.now() + dt.timedelta(hours=6)
    )
    assert mails(kind="offered") == [
        (
            "offered",
            next_in_line.pk,
            next_in_line.person.email,
            f"booking:{next_in_line.pk}:offered",
        )
    ]
    assert not Transaction.objects.exists()  # nothing charged until accepted


def test_accepting_an_offer_confirms_the_place_charges_and_mails_it():
    session = offer_session(course__price=Decimal("15"))
    offer = offered(session)
    services.accept_offer(offer, offer.person)
    offer.refresh_from_db()
    assert (offer.status, offer.offer_expires_at) == ("confirmed", None)
    charge = Transaction.objects.get()
    assert (charge.amount, charge.created_by) == (Decimal("15"), offer.person)
    assert mails() == [
        ("confirmed", offer.pk, offer.person.email, f"booking:{offer.pk}:confirmed")
    ]


def test_an_offer_without_a_time_limit_can_be_accepted():
    offer = offered(offer_session(), expires_in=None)
    assert services.accept_offer(offer, offer.person).status == "confirmed"


def test_there_is_nothing_to_accept_without_an_offer():
    place = waiting(offer_session())
    with pytest.raises(services.BookingError) as refused:
        services.accept_offer(place, place.person)
    assert str(refused.value) == "There is no place waiting for you to accept."
    place.refresh_from_db()
    assert place.status == "waitlisted"


def test_an_offer_is_refused_at_the_instant_it_expires(monkeypatch):
    offer = offered(offer_session())
    monkeypatch.setattr(timezone, "now", lambda: offer.offer_expires_at)
    with pytest.raises(services.BookingError) as refused:
        services.accept_offer(offer, offer.person)
    assert str(refused.value) == (
        "Sorry, this offer has expired and the place has passed on."
    )


def test_lapsed_offers_are_cancelled_mailed_counted_and_passed_on():
    first_session, second_session = offer_session(), offer_session()
    lapsed = offered(first_session, expires_in=-dt.timedelta(minutes=1))
    also_lapsed = offered(second_session, expires_in=-dt.timedelta(hours=2))
    next_in_line = waiting(first_session)
    still_open = offered(offer_session())
    before = timezone.now()

    assert services.expire_offers() == 2

    for place in (lapsed, also_lapsed, next_in_line, still_open):
        place.refresh_from_db()
    for place in (lapsed, also_lapsed):
        assert (place.status, place.cancel_reason) == (
            "cancelled",
            "Offer not accepted in time",
        )
        assert before <= place.cancelled_at <= timezone.now()
    assert mails(kind="offer_expired") == [
        (
            "offer_expired",
            p.pk,
            p.person.email,
            f"booking:{p.pk}:offer_expired",
        )
        for p in (lapsed, also_lapsed)
    ]
    assert next_in_line.status == "offered"
    assert still_open.status == "offered"
    assert services.expire_offers() == 0


def test_no_place_is_passed_on_at_the_instant_the_session_starts(monkeypatch):
    session = SessionFactory.create(capacity=1)
    holder = BookingFactory.create(session=session)
    left_waiting = waiting(session)
    monkeypatch.setattr(timezone, "now", lambda: session.starts_at)
    staff_cancels(holder)
    left_waiting.refresh_from_db()
    assert left_waiting.status == "waitlisted"
