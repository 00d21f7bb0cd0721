"""Ring-fenced places as people booking meet them: members of the organisation
(or of an organisation of the kind) take reserved places, everyone else is
waitlisted once only reserved places remain, freed reserved places go to the
first eligible person waiting, and lapsed reservations return to general sale
through the periodic sweep, once."""

import datetime as dt
import threading

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.utils import timezone

from accounts.models import Organisation
from bookings import services, tasks
from bookings.models import Booking, MailRecord
from courses.models import Course, Reservation
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def people(n=1, organisation=None):
    found = UserFactory.create_batch(n)
    for p in found:
        EmailAddress.objects.create(user=p, email=p.email, verified=True, primary=True)
        if organisation is not None:
            member_of(p, organisation)
    return found


def reserve(session, places, *, until=None, **whom):
    return Reservation.objects.create(
        session=session,
        places=places,
        until=until or session.starts_at - dt.timedelta(days=7),
        **whom,
    )


def statuses(bookings):
    return [Booking.objects.get(pk=b.pk).status for b in bookings]


def test_non_members_are_waitlisted_once_only_reserved_places_remain():
    school = OrganisationFactory.create(name="Westmoor Primary")
    session = SessionFactory.create(capacity=3)
    reserve(session, 2, organisation=school)
    first, second = people(2)
    assert services.book_session(first, session).status == "confirmed"
    waitlisted = services.book_session(second, session)
    assert waitlisted.status == "waitlisted"
    message = waitlisted.status_message()
    assert "The places left are reserved for members of Westmoor Primary" in message
    assert "so you are on the waiting list" in message
    (member,) = people(1, school)
    assert services.book_session(member, session).status == "confirmed"
    mail = MailRecord.objects.get(booking=waitlisted)
    assert mail.kind == "waitlisted_reserved"
    message = services._build_message(mail)
    assert message.subject.startswith("You are on the waiting list")
    assert "reserved for members of particular organisations" in message.body
    assert "The session is full" not in message.body


def test_a_full_session_still_says_it_is_full():
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=2)
    reserve(session, 1, organisation=school)
    services.book_session(people(1)[0], session)
    services.book_session(people(1, school)[0], session)
    waiting = services.book_session(people(1)[0], session)
    assert waiting.status_message().startswith("The session is full")
    assert MailRecord.objects.get(booking=waiting).kind == "waitlisted"


def test_members_take_reserved_places_and_then_general_ones():
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=3)
    reserve(session, 2, organisation=school)
    members = people(3, school)
    assert [services.book_session(m, session).status for m in members] == [
        "confirmed"
    ] * 3


def test_members_in_general_places_use_up_the_reservation():
    """A member holding any place counts against the reservation, so the one
    general place is still there for everyone else."""
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=3)
    reserve(session, 2, organisation=school)
    for member in people(2, school):
        services.book_session(member, session)
    assert services.book_session(people(1)[0], session).status == "confirmed"


def test_a_reservation_for_a_kind_admits_members_of_any_organisation_of_it():
    session = SessionFactory.create(capacity=2)
    reserve(session, 2, organisation_kind=Organisation.Kind.PRACTICE)
    practice = OrganisationFactory.create(kind=Organisation.Kind.PRACTICE)
    school = OrganisationFactory.create(kind=Organisation.Kind.SCHOOL)
    (gp,) = people(1, practice)
    (teacher,) = people(1, school)
    (asked,) = people(1)
    member_of(asked, practice, confirmed=False)  # asked to join, not confirmed
    refused = services.book_session(teacher, session)
    assert refused.status == "waitlisted"
    assert "members of any GP practice" in refused.status_message()
    assert services.book_session(asked, session).status == "waitlisted"
    assert services.book_session(gp, session).status == "confirmed"


def test_reservations_for_two_organisations_keep_their_own_places():
    a, b = OrganisationFactory.create_batch(2)
    session = SessionFactory.create(capacity=3)
    reserve(session, 1, organisation=a)
    reserve(session, 1, organisation=b)
    (member_a, other_a) = people(2, a)
    assert services.book_session(member_a, session).status == "confirmed"
    # a's place is taken; the general one is free, b's is not theirs.
    assert services.book_session(other_a, session).status == "confirmed"
    assert services.book_session(people(1)[0], session).status == "waitlisted"
    assert services.book_session(people(1, b)[0], session).status == "confirmed"


def test_a_lapsed_reservation_does_not_hold_places():
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=1)
    reserve(session, 1, organisation=school, until=timezone.now())
    assert services.book_session(people(1)[0], session).status == "confirmed"


def test_a_freed_reserved_place_goes_to_the_first_eligible_person_waiting():
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=2)
    reserve(session, 1, organisation=school)
    (outsider,) = people(1)
    (member,) = people(1, school)
    held_general = services.book_session(outsider, session)
    held_reserved = services.book_session(member, session)
    waiting_outsiders = [services.book_session(p, session) for p in people(2)]
    waiting_members = [services.book_session(p, session) for p in people(2, school)]
    staff = UserFactory.create(is_staff=True)

    services.cancel_booking(held_reserved, by=staff)
    assert statuses(waiting_outsiders) == ["waitlisted", "waitlisted"]
    assert statuses(waiting_members) == ["confirmed", "waitlisted"]

    # A general place goes to whoever joined first, member or not.
    services.cancel_booking(held_general, by=staff)
    assert statuses(waiting_outsiders) == ["confirmed", "waitlisted"]
    assert statuses(waiting_members) == ["confirmed", "waitlisted"]


def test_an_offered_reserved_place_goes_to_the_first_eligible_person_waiting():
    school = OrganisationFactory.create()
    session = SessionFactory.create(
        capacity=1, course__waitlist_mode=Course.WaitlistMode.OFFER
    )
    reserve(session, 1, organisation=school)
    holder = services.book_session(people(1, school)[0], session)
    outsider = services.book_session(people(1)[0], session)
    member = services.book_session(people(1, school)[0], session)
    services.cancel_booking(holder, by=UserFactory.create(is_staff=True))
    assert statuses([outsider, member]) == ["waitlisted", "offered"]


def test_the_sweep_returns_lapsed_places_to_general_sale_once():
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=3)
    reservation = reserve(session, 2, organisation=school)
    services.book_session(people(1)[0], session)
    waiting = [services.book_session(p, session) for p in people(3)]
    assert statuses(waiting) == ["waitlisted"] * 3
    tasks.expire_offers()  # nothing has lapsed yet
    assert statuses(waiting) == ["waitlisted"] * 3

    Reservation.objects.filter(pk=reservation.pk).update(
        until=timezone.now() - dt.timedelta(minutes=1)
    )
    assert tasks.expire_offers() == 1
    assert statuses(waiting) == ["confirmed", "confirmed", "waitlisted"]
    reservation.refresh_from_db()
    assert reservation.released_at is not None
    promoted = MailRecord.objects.filter(kind="promoted").count()
    assert promoted == 2

    assert tasks.expire_offers() == 0  # safe to run twice
    assert statuses(waiting) == ["confirmed", "confirmed", "waitlisted"]
    assert MailRecord.objects.filter(kind="promoted").count() == promoted


def test_the_sweep_offers_lapsed_places_when_the_course_offers_them():
    school = OrganisationFactory.create()
    session = SessionFactory.create(
        capacity=2, course__waitlist_mode=Course.WaitlistMode.OFFER
    )
    reservation = reserve(session, 2, organisation=school)
    waiting = [services.book_session(p, session) for p in people(3)]
    reservation.until = timezone.now()
    reservation.save()
    assert services.release_reservations() == 1
    assert statuses(waiting) == ["offered", "offered", "waitlisted"]


def test_someone_booking_after_the_lapse_does_not_overtake_the_waiting_list():
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=1)
    reservation = reserve(session, 1, organisation=school)
    waiting = services.book_session(people(1)[0], session)
    Reservation.objects.filter(pk=reservation.pk).update(until=timezone.now())
    newcomer = services.book_session(people(1)[0], session)
    assert statuses([waiting, newcomer]) == ["confirmed", "waitlisted"]
    reservation.refresh_from_db()
    assert reservation.released_at is not None
    assert services.release_reservations() == 0


def test_the_sweep_fills_places_a_confirmed_membership_now_opens():
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=1)
    reserve(session, 1, organisation=school)
    (person,) = people(1)
    waiting = services.book_session(person, session)
    assert waiting.status == "waitlisted"
    member_of(person, school)
    assert services.release_reservations() == 0
    assert statuses([waiting]) == ["confirmed"]


def test_moving_a_place_into_reserved_places_is_refused_for_others():
    school = OrganisationFactory.create(name="Hill School")
    source = SessionFactory.create(capacity=2)
    target = SessionFactory.create(course=source.course, capacity=1)
    reserve(target, 1, organisation=school)
    staff = UserFactory.create(is_staff=True)
    outsider = BookingFactory.create(session=source)
    with pytest.raises(services.BookingError, match="reserved for members of Hill"):
        services.move_booking(outsider, target, staff)
    member = BookingFactory.create(session=source)
    member_of(member.person, school)
    assert services.move_booking(member, target, staff).session_id == target.pk


def test_a_reserved_place_can_be_given_only_to_someone_it_is_reserved_for():
    school = OrganisationFactory.create(name="Hill School")
    session = SessionFactory.create(capacity=1)
    reserve(session, 1, organisation=school)
    holder, colleague = people(2, school)
    (outsider,) = people(1)
    booking = services.book_session(holder, session)
    staff = UserFactory.create(is_staff=True)
    with pytest.raises(services.BookingError, match="reserved for members of Hill"):
        services.swap_booking(booking, outsider, by=staff)
    assert statuses([booking]) == ["confirmed"]
    new = services.swap_booking(booking, colleague, by=staff)
    assert (new.person, new.status) == (colleague, "confirmed")


def test_the_booking_page_says_why_someone_is_waitlisted(learner_client):
    school = OrganisationFactory.create(name="Westmoor Primary")
    session = SessionFactory.create(capacity=1)
    local = timezone.localtime(session.starts_at - dt.timedelta(days=7))
    reserve(
        session,
        1,
        organisation=school,
        until=local.replace(hour=17, minute=0, second=0, microsecond=0),
    )
    html = learner_client.post(
        f"/sessions/{session.pk}/book/", follow=True
    ).content.decode()
    assert (
        "The places left are reserved for members of Westmoor Primary until 5pm on"
        in html
    )


@pytest.mark.django_db(transaction=True)
def test_racers_never_exceed_capacity_nor_take_reserved_places():
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=3)
    reserve(session, 2, organisation=school)
    outsiders = people(6)
    members = people(4, school)
    racers = outsiders + members
    barrier = threading.Barrier(len(racers))
    errors = []

    def book(person):
        barrier.wait()
        try:
            services.book_session(person, session)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(p,)) for p in racers]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    confirmed = set(
        Booking.objects.filter(session=session, status="confirmed").values_list(
            "person_id", flat=True
        )
    )
    assert len(confirmed) == 3
    assert len(confirmed & {p.pk for p in outsiders}) <= 1
    assert len(confirmed & {p.pk for p in members}) >= 2
    assert Booking.objects.filter(session=session, status="waitlisted").count() == 7
