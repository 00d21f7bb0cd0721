"""Rules of the staff-side booking services as staff and learners meet them:
ledger entries recorded by hand, the minimum-numbers alert, waiving it, and
evaluations. Each test checks the message shown or exactly what is stored."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import roles
from bookings import services
from bookings.models import Booking, Evaluation, MailRecord, StaffLog, Transaction
from courses.models import Session
from tests.accounts.factories import OrganisationFactory, UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import CourseFactory, SessionFactory

pytestmark = pytest.mark.django_db


def staff_member(*, active=True):
    user = UserFactory.create(is_staff=True, is_active=active)
    user.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    return user


def on_day(days_ahead: int) -> dt.datetime:
    """Noon, local time, so many days from today."""
    day = timezone.localdate() + dt.timedelta(days=days_ahead)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


# --- ledger entries staff record ----------------------------------------------


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5")])
def test_an_entry_of_nothing_or_less_is_refused(amount):
    person = UserFactory.create()
    with pytest.raises(services.BookingError) as refused:
        services.record_ledger_entry(
            person=person,
            organisation=None,
            kind=Transaction.Kind.PAYMENT,
            amount=amount,
            description="Paid",
            by=staff_member(),
        )
    assert str(refused.value) == "Enter an amount more than £0."
    assert not Transaction.objects.exists()


def test_an_entry_of_one_pound_is_recorded():
    person = UserFactory.create()
    entry = services.record_ledger_entry(
        person=person,
        organisation=None,
        kind=Transaction.Kind.PAYMENT,
        amount=Decimal("1"),
        description="Paid at the desk",
        by=staff_member(),
    )
    assert entry.amount == Decimal("-1")


def test_an_entry_needs_a_person_or_an_organisation():
    with pytest.raises(services.BookingError) as refused:
        services.record_ledger_entry(
            person=None,
            organisation=None,
            kind=Transaction.Kind.CHARGE,
            amount=Decimal("10"),
            description="Room hire",
            by=staff_member(),
        )
    assert str(refused.value) == "Choose a person or an organisation."


def test_an_organisation_alone_can_be_charged_and_the_entry_is_logged():
    organisation = OrganisationFactory.create()
    staff = staff_member()
    entry = services.record_ledger_entry(
        person=None,
        organisation=organisation,
        kind=Transaction.Kind.CHARGE,
        amount=Decimal("25.50"),
        description="Room hire",
        by=staff,
    )
    entry.refresh_from_db()
    assert (entry.person, entry.organisation) == (None, organisation)
    assert (entry.kind, entry.amount, entry.description, entry.reference) == (
        "charge",
        Decimal("25.50"),
        "Room hire",
        "",
    )
    assert entry.created_by == staff
    log = StaffLog.objects.get()
    assert (log.actor, log.action, log.detail) == (staff, "recorded charge", "£25.50")


def test_a_payment_is_taken_off_what_the_person_owes_and_keeps_its_reference():
    person = UserFactory.create()
    staff = staff_member()
    entry = services.record_ledger_entry(
        person=person,
        organisation=None,
        kind=Transaction.Kind.PAYMENT,
        amount=Decimal("40"),
        description="Purchase order",
        reference="PO-123",
        by=staff,
    )
    entry.refresh_from_db()
    assert (entry.person, entry.amount, entry.reference) == (
        person,
        Decimal("-40"),
        "PO-123",
    )
    assert StaffLog.objects.get().detail == "£40 PO-123"


# --- minimum numbers ---------------------------------------------------------


def alerts() -> list[str]:
    return sorted(
        MailRecord.objects.filter(kind="minimum_alert").values_list("to", flat=True)
    )


def test_an_alert_goes_on_the_last_day_of_the_notice_period_to_active_staff():
    staff = staff_member()
    staff_member(active=False)
    course = CourseFactory.create(minimum_notice_days=7)
    SessionFactory.create(course=course, minimum_attendees=1, starts_at=on_day(7))
    assert services.check_minimum_numbers() == 1
    assert alerts() == [staff.email]


def test_every_staff_member_is_alerted_and_counted():
    first, second = staff_member(), staff_member()
    SessionFactory.create(minimum_attendees=1, starts_at=on_day(2))
    assert services.check_minimum_numbers() == 2
    assert alerts() == sorted([first.email, second.email])


def test_a_session_outside_its_notice_period_does_not_stop_the_next_one():
    staff = staff_member()
    SessionFactory.create(
        course=CourseFactory.create(minimum_notice_days=3),
        minimum_attendees=2,
        starts_at=on_day(5),
    )
    later = SessionFactory.create(
        course=CourseFactory.create(minimum_notice_days=10),
        minimum_attendees=2,
        starts_at=on_day(6),
    )
    assert services.check_minimum_numbers() == 1
    assert MailRecord.objects.get().session == later
    assert alerts() == [staff.email]


def test_which_sessions_are_below_their_minimum():
    below = SessionFactory.create(minimum_attendees=2, starts_at=on_day(3))
    BookingFactory.create(session=below, status=Booking.Status.CONFIRMED)
    BookingFactory.create(session=below, status=Booking.Status.CANCELLED)
    BookingFactory.create(session=below, status=Booking.Status.WAITLISTED)
    one = SessionFactory.create(minimum_attendees=1, starts_at=on_day(3))
    full = SessionFactory.create(minimum_attendees=1, starts_at=on_day(3))
    BookingFactory.create(session=full, status=Booking.Status.OFFERED)
    SessionFactory.create(minimum_attendees=0, starts_at=on_day(3))
    SessionFactory.create(
        minimum_attendees=3, starts_at=on_day(3), status=Session.Status.CANCELLED
    )
    SessionFactory.create(
        minimum_attendees=3,
        starts_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert sorted(s.pk for s in services.sessions_below_minimum()) == [
        below.pk,
        one.pk,
    ]
    assert {s.pk: s.held for s in services.sessions_below_minimum()} == {
        below.pk: 1,
        one.pk: 0,
    }


def test_waiving_the_minimum_keeps_other_changes_and_is_logged():
    session = SessionFactory.create(minimum_attendees=5, capacity=10)
    Session.objects.filter(pk=session.pk).update(capacity=20)  # another edit
    staff = staff_member()
    services.waive_minimum(session, by=staff)
    session.refresh_from_db()
    assert session.minimum_waived_at is not None
    assert session.capacity == 20
    log = StaffLog.objects.get()
    assert (log.actor, log.action, log.session) == (
        staff,
        "confirmed session below minimum",
        session,
    )


# --- evaluations -------------------------------------------------------------


def test_only_someone_who_attended_can_evaluate():
    booking = BookingFactory.create(
        status=Booking.Status.CONFIRMED,
        session__starts_at=timezone.now() - dt.timedelta(days=1),
    )
    with pytest.raises(services.BookingError) as refused:
        services.submit_evaluation(booking, rating=4, comments="")
    assert str(refused.value) == "You can evaluate a session once you have attended it."


def test_an_evaluation_before_the_start_names_the_course():
    booking = BookingFactory.create(
        status=Booking.Status.ATTENDED,
        session__course__title="Safeguarding basics",
        session__starts_at=timezone.now() + dt.timedelta(days=1),
    )
    with pytest.raises(services.BookingError) as refused:
        services.submit_evaluation(booking, rating=4, comments="")
    assert str(refused.value).startswith(
        "You can evaluate Safeguarding basics once the session has started on "
    )


def test_a_session_is_evaluated_once_with_the_comments_trimmed():
    booking = BookingFactory.create(
        status=Booking.Status.ATTENDED,
        session__starts_at=timezone.now() - dt.timedelta(days=1),
    )
    first = services.submit_evaluation(booking, rating=5, comments="  Useful  ")
    assert (first.rating, first.comments) == (5, "Useful")
    again = Booking.objects.get(pk=booking.pk)
    with pytest.raises(services.BookingError) as refused:
        services.submit_evaluation(again, rating=1, comments="Changed my mind")
    assert str(refused.value) == "You have already evaluated this session. Thank you."
    assert Evaluation.objects.get(booking=booking).rating == 5
