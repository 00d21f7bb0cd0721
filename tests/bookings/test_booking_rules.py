"""The rules of `book_session` as a learner or staff member meets them: the exact
message for each refusal, and exactly what is stored when a place is booked
(the place, who booked it for whom, the charge, the mail and the staff log)."""

import datetime as dt
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from bookings import services
from bookings.models import Booking, MailRecord, StaffLog, Transaction
from courses.models import Course, Session
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def verified(**kwargs):
    person = UserFactory.create(**kwargs)
    EmailAddress.objects.create(
        user=person, email=person.email, verified=True, primary=True
    )
    return person


def refusal(person, session, **kwargs):
    with pytest.raises(services.BookingError) as refused:
        services.book_session(person, session, **kwargs)
    assert not Booking.objects.filter(person=person).exists()
    return str(refused.value)


def test_a_cancelled_session_says_so():
    session = SessionFactory.create(status=Session.Status.CANCELLED)
    assert refusal(verified(), session) == "This session has been cancelled."


def test_a_session_starting_this_instant_has_already_started(monkeypatch):
    session = SessionFactory.create()
    monkeypatch.setattr(timezone, "now", lambda: session.starts_at)
    assert refusal(verified(), session) == "This session has already started."


def test_a_session_whose_booking_has_closed_says_so():
    session = SessionFactory.create(
        booking_closes_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert refusal(verified(), session) == "Booking for this session has closed."


def test_a_session_of_a_course_taken_off_the_catalogue_has_closed():
    session = SessionFactory.create(course__status=Course.Status.ARCHIVED)
    assert refusal(verified(), session) == "Booking for this session has closed."


def test_a_learner_must_confirm_their_email_before_booking():
    verified()  # someone else's confirmed address does not count
    learner = UserFactory.create()
    EmailAddress.objects.create(
        user=learner, email=learner.email, verified=False, primary=True
    )
    assert refusal(learner, SessionFactory.create()) == (
        "Confirm your email address before you book."
    )


@pytest.mark.parametrize(
    "change",
    [{"processing_restricted": True}, {"erased_at": timezone.now()}],
    ids=["restricted", "erased"],
)
def test_someone_restricted_or_erased_is_told_to_contact_the_data_protection_lead(
    change,
):
    person = verified()
    type(person).objects.filter(pk=person.pk).update(**change)
    person.refresh_from_db()
    assert refusal(person, SessionFactory.create()) == (
        "You cannot book while the use of your data is restricted at your request. "
        "Contact our data protection lead to lift the restriction."
    )


def test_a_second_booking_on_the_same_session_is_refused_but_others_may_book():
    session = SessionFactory.create()
    mine = BookingFactory.create(session=session, person=verified())
    BookingFactory.create(session=session, status=Booking.Status.CANCELLED)
    with pytest.raises(services.BookingError) as refused:
        services.book_session(mine.person, session)
    assert str(refused.value) == "You already have a booking for this session."
    assert services.book_session(verified(), session).status == "confirmed"


def test_the_last_place_is_confirmed_and_a_full_session_puts_you_on_the_waiting_list():
    session = SessionFactory.create(capacity=2)
    BookingFactory.create(session=session)
    last = services.book_session(verified(), session)
    assert last.status == "confirmed"
    late = services.book_session(verified(), session)
    assert late.status == "waitlisted"
    assert [
        (r.kind, r.booking, r.to, r.key) for r in MailRecord.objects.order_by("pk")
    ] == [
        ("confirmed", last, last.person.email, f"booking:{last.pk}:confirmed"),
        ("waitlisted", late, late.person.email, f"booking:{late.pk}:waitlisted"),
    ]
    # A waiting place is not charged.
    assert not Transaction.objects.exists()


def test_a_learner_booking_for_themselves_is_stored_without_a_staff_log():
    person = verified()
    session = SessionFactory.create(course__price=Decimal("25"))
    booking = services.book_session(person, session)
    booking.refresh_from_db()
    assert (
        booking.person,
        booking.session,
        booking.status,
        booking.booked_by,
        booking.organisation,
    ) == (person, session, "confirmed", None, None)
    charge = Transaction.objects.get()
    assert (charge.kind, charge.amount, charge.booking, charge.created_by) == (
        "charge",
        Decimal("25"),
        booking,
        None,
    )
    assert not StaffLog.objects.exists()


def test_staff_booking_for_someone_records_who_and_may_charge_their_organisation():
    person = UserFactory.create()  # staff may book for someone not yet verified
    staff = UserFactory.create(is_staff=True)
    organisation = OrganisationFactory.create(pays_on_account=True)
    member_of(person, organisation)
    session = SessionFactory.create(course__price=Decimal("60"))

    booking = services.book_session(
        person, session, by=staff, organisation=organisation
    )

    booking.refresh_from_db()
    assert (booking.person, booking.status, booking.booked_by) == (
        person,
        "confirmed",
        staff,
    )
    assert booking.organisation == organisation
    charge = Transaction.objects.get()
    assert (charge.amount, charge.organisation, charge.created_by) == (
        Decimal("60"),
        organisation,
        staff,
    )
    log = StaffLog.objects.get()
    assert (log.actor, log.action, log.booking, log.session) == (
        staff,
        "booked on behalf",
        booking,
        session,
    )


def test_staff_booking_their_own_place_is_not_booked_on_anyones_behalf():
    staff = UserFactory.create(is_staff=True)
    booking = services.book_session(staff, SessionFactory.create(), by=staff)
    booking.refresh_from_db()
    assert booking.booked_by is None
    assert not StaffLog.objects.exists()
