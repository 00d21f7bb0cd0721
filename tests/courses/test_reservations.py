"""Ring-fenced places as staff and visitors see them: the session's admin
inline and its messages, the labels, and the course page, whose places left
are those the viewer may take."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Organisation
from bookings.models import Booking
from courses import services
from courses.models import Reservation
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of
from tests.conftest import give_totp
from tests.courses.factories import CourseFactory, SessionFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(admin)
    client.force_login(admin)
    client.user = admin
    return client


def at_5pm(moment):
    local = timezone.localtime(moment)
    return local.replace(hour=17, minute=0, second=0, microsecond=0)


def save_session(client, session, capacity=None, **reservation):
    starts = timezone.localtime(session.starts_at)
    ends = timezone.localtime(session.ends_at)
    data = {
        "course": session.course_id,
        "starts_at_0": f"{starts:%Y-%m-%d}",
        "starts_at_1": f"{starts:%H:%M:%S}",
        "ends_at_0": f"{ends:%Y-%m-%d}",
        "ends_at_1": f"{ends:%H:%M:%S}",
        "capacity": capacity or session.capacity,
        "venue": session.venue,
        "minimum_attendees": 0,
        "reservations-TOTAL_FORMS": 1,
        "reservations-INITIAL_FORMS": 0,
        "_save": "Save",
    }
    until = timezone.localtime(reservation.pop("until"))
    data |= {
        "reservations-0-until_0": f"{until:%Y-%m-%d}",
        "reservations-0-until_1": f"{until:%H:%M:%S}",
    }
    data |= {f"reservations-0-{k}": v for k, v in reservation.items()}
    return client.post(f"/admin/courses/session/{session.pk}/change/", data)


def errors(response):
    assert response.status_code == 200, "saved when it should not have"
    formset = response.context["inline_admin_formsets"][0].formset
    found = [str(e) for form in formset.forms for e in form.non_field_errors()]
    found += [
        f"{name}: {e}"
        for form in formset.forms
        for name, errs in form.errors.items()
        if name != "__all__"
        for e in errs
    ]
    return found + [str(e) for e in formset.non_form_errors()]


def test_staff_reserve_places_on_the_session_page(admin_client):
    school = OrganisationFactory.create()
    session = SessionFactory.create(capacity=10)
    until = at_5pm(session.starts_at - dt.timedelta(days=3))
    response = save_session(
        admin_client, session, places=4, organisation=school.pk, until=until
    )
    assert response.status_code == 302
    reservation = Reservation.objects.get()
    assert (reservation.session, reservation.places, reservation.organisation) == (
        session,
        4,
        school,
    )
    assert reservation.created_by == admin_client.user
    assert reservation.until == until


@pytest.mark.parametrize(
    ("reservation", "message"),
    [
        (
            {"places": 11, "organisation_kind": "school"},
            "places: Reserve at most the session's 10 places, not 11.",
        ),
        (
            {"places": 0, "organisation_kind": "school"},
            "places: Ensure this value is greater than or equal to 1.",
        ),
        (
            {"places": 2, "organisation_kind": "school", "after_start": True},
            "until: Reserve the places until a moment before the session starts",
        ),
        (
            {"places": 2, "organisation_kind": "school", "both": True},
            "Choose the organisation or the kind of organisation the places are "
            "reserved for: one of them, not both.",
        ),
        (
            {"places": 2},
            "Choose the organisation or the kind of organisation the places are "
            "reserved for: one of them, not both.",
        ),
        (
            {"places": 2, "organisation_kind": "other"},
            "organisation_kind: “Other” is not one kind of organisation",
        ),
    ],
)
def test_the_inline_explains_what_is_wrong(admin_client, reservation, message):
    session = SessionFactory.create(capacity=10)
    until = session.starts_at - dt.timedelta(days=1)
    if reservation.pop("after_start", False):
        until = session.starts_at + dt.timedelta(minutes=1)
    if reservation.pop("both", False):
        reservation["organisation"] = OrganisationFactory.create().pk
    found = errors(save_session(admin_client, session, until=until, **reservation))
    assert any(e.startswith(message) for e in found), found
    assert not Reservation.objects.exists()


def test_running_reservations_cannot_hold_more_than_the_session(admin_client):
    session = SessionFactory.create(capacity=10)
    Reservation.objects.create(
        session=session,
        places=6,
        organisation_kind="school",
        until=session.starts_at - dt.timedelta(days=2),
    )
    response = save_session(
        admin_client,
        session,
        places=5,
        organisation_kind="practice",
        until=session.starts_at - dt.timedelta(days=2),
    )
    assert errors(response) == [
        "The reservations still running hold 11 places between them, more than "
        "the session's 10."
    ]
    assert not Reservation.objects.filter(places=5).exists()


def test_places_reserved_may_not_exceed_a_capacity_lowered_on_the_same_page(
    admin_client,
):
    session = SessionFactory.create(capacity=10)
    found = errors(
        save_session(
            admin_client,
            session,
            capacity=3,
            places=4,
            organisation_kind="school",
            until=session.starts_at - dt.timedelta(days=1),
        )
    )
    assert "places: Reserve at most the session's 3 places, not 4." in found
    session.refresh_from_db()
    assert session.capacity == 10


def test_the_session_page_lists_reservations_and_they_cannot_be_deleted(
    admin_client,
):
    session = SessionFactory.create()
    Reservation.objects.create(
        session=session,
        places=2,
        organisation=OrganisationFactory.create(name="Hill School"),
        until=session.starts_at - dt.timedelta(days=1),
    )
    html = admin_client.get(
        f"/admin/courses/session/{session.pk}/change/"
    ).content.decode()
    assert "Ring-fenced places" in html
    assert "Hill School" in html
    assert "reservations-0-DELETE" not in html


def test_the_labels_say_who_the_places_are_for():
    session = SessionFactory.create()
    until = at_5pm(session.starts_at - dt.timedelta(days=1))
    school = OrganisationFactory.create(name="Hill School")
    assert (
        Reservation(session=session, places=1, organisation=school).for_whom
        == "members of Hill School"
    )
    labels = {
        kind: Reservation(session=session, places=1, organisation_kind=kind).for_whom
        for kind in ("school", "practice", "trust")
    }
    assert labels == {
        "school": "members of any school or academy",
        "practice": "members of any GP practice",
        "trust": "members of any NHS trust",
    }
    reservation = Reservation(session=session, places=1, organisation=school)
    reservation.until = until
    assert reservation.until_text.startswith("5pm on ")
    reservation.until = dt.datetime(2031, 3, 1, tzinfo=ZoneInfo("Europe/London"))
    assert reservation.until_text == "the end of 28 February 2031"


def course_page(client, session):
    return client.get(session.course.get_absolute_url()).content.decode()


def test_the_course_page_gives_each_viewer_the_places_they_may_take(client):
    school = OrganisationFactory.create(name="Westmoor Primary")
    session = SessionFactory.create(capacity=5)
    Booking.objects.create(
        person=UserFactory.create(), session=session, status="confirmed"
    )
    reservation = Reservation.objects.create(
        session=session,
        places=3,
        organisation=school,
        until=at_5pm(session.starts_at - dt.timedelta(days=2)),
    )
    until = reservation.until_text

    html = course_page(client, session)  # signed out
    assert "1 place left" in html
    assert (
        f"3 more places are reserved for members of Westmoor Primary until {until}."
        in html
    )

    member = UserFactory.create()
    member_of(member, school)
    client.force_login(member)
    html = course_page(client, session)
    assert "4 places left" in html
    assert (
        f"3 of these places are reserved for members of Westmoor Primary until {until}."
        in html
    )

    outsider = UserFactory.create()
    Booking.objects.create(person=outsider, session=session, status="confirmed")
    client.force_login(UserFactory.create())
    html = course_page(client, session)
    assert "Full, join the waiting list" in html
    assert "Join waiting list" in html
    assert "3 more places are reserved" in html


def test_the_course_page_forgets_lapsed_and_used_up_reservations(client):
    school = OrganisationFactory.create(kind=Organisation.Kind.SCHOOL)
    session = SessionFactory.create(capacity=3)
    reservation = Reservation.objects.create(
        session=session,
        places=1,
        organisation_kind="school",
        until=session.starts_at - dt.timedelta(days=2),
    )
    member = UserFactory.create()
    member_of(member, school)
    Booking.objects.create(person=member, session=session, status="confirmed")
    html = course_page(client, session)
    assert "2 places left" in html
    assert "reserved" not in html
    Booking.objects.filter(person=member).update(status="cancelled")
    reservation.until = timezone.now()
    reservation.save()
    # Written directly here: the services and the admin announce such changes,
    # which the course page (cached for visitors without a session) waits for.
    services.catalogue_changed()
    html = course_page(client, session)
    assert "3 places left" in html
    assert "reserved" not in html


@pytest.mark.parametrize("sessions", [2, 30])
def test_reservations_cost_the_course_page_a_fixed_number_of_queries(sessions):
    """The sessions' reservations are one query when any session has one
    (none when none has: the sessions' query says so), however many there
    are; the viewer's memberships one more. Compared with the same page,
    viewer and process before any reservation."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    course = CourseFactory.create(topics=TopicFactory.create_batch(2))
    created = SessionFactory.create_batch(sessions, course=course)
    member = UserFactory.create()
    member_of(member, OrganisationFactory.create())
    client = Client()
    client.force_login(member)

    def queries():
        client.get(course.get_absolute_url())  # caches filled once per process
        with CaptureQueriesContext(connection) as captured:
            response = client.get(course.get_absolute_url())
        assert len(response.context["sessions"]) == sessions
        return len(captured)

    before = queries()
    for session in created:
        Reservation.objects.create(
            session=session,
            places=2,
            organisation=OrganisationFactory.create(),
            until=session.starts_at - dt.timedelta(days=1),
        )
    assert queries() == before + 2


def booked_member(*, confirmed: bool, by_kind: bool = False):
    """A session of 5 places, 3 of them reserved for a school's members (or
    for any school's), and a member of the school (confirmed or not) who
    has booked a place: (school, session, person, membership). The cached
    pages are told, since this is written directly."""
    school = OrganisationFactory.create(kind=Organisation.Kind.SCHOOL)
    session = SessionFactory.create(capacity=5)
    Reservation.objects.create(
        session=session,
        places=3,
        organisation=None if by_kind else school,
        organisation_kind="school" if by_kind else "",
        until=at_5pm(session.starts_at - dt.timedelta(days=2)),
    )
    person = UserFactory.create()
    membership = member_of(person, school, confirmed=confirmed)
    Booking.objects.create(person=person, session=session, status="confirmed")
    services.catalogue_changed()
    return school, session, person, membership


@pytest.mark.parametrize("change", ["confirmed", "removed"])
def test_a_member_joining_or_leaving_shows_at_once_on_the_cached_course_page(
    client, change
):
    """A booked person's membership confirmed (or ended) moves their place
    into (or out of) the organisation's reservation: the course page a
    visitor without a session is served from the cache says so at once."""
    from allauth.account.models import EmailAddress

    from accounts import services as accounts_services

    school, session, person, membership = booked_member(confirmed=change == "removed")
    EmailAddress.objects.create(
        user=person, email=person.email, verified=True, primary=True
    )
    approver = UserFactory.create()
    member_of(approver, school, workplace=False, is_approver=True)

    member_place = ("2 places left", "2 more places are reserved")
    general_place = ("1 place left", "3 more places are reserved")
    before, after = (
        (general_place, member_place)
        if change == "confirmed"
        else (member_place, general_place)
    )
    html = course_page(client, session)
    assert all(text in html for text in before), html

    if change == "confirmed":
        accounts_services.confirm_membership(membership, by=approver)
    else:
        accounts_services.decline_membership(membership, by=approver)
    html = course_page(client, session)
    assert all(text in html for text in after), html


@pytest.mark.parametrize("admin_page", ["membership", "organisation"])
def test_a_membership_confirmed_in_the_admin_shows_at_once_too(
    admin_client, admin_page
):
    from django.test import Client

    from accounts.models import Membership
    from tests.privacy.test_four_eyes import change_form_data

    school, session, _person, membership = booked_member(confirmed=False)
    visitor = Client()
    assert "1 place left" in course_page(visitor, session)

    if admin_page == "membership":
        url = f"/admin/accounts/membership/{membership.pk}/change/"
        field = "status"
    else:
        url = f"/admin/accounts/organisation/{school.pk}/change/"
        field = "memberships-0-status"
    data = change_form_data(admin_client, url)
    assert data[field] == "requested"
    data[field] = "confirmed"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CONFIRMED
    html = course_page(visitor, session)
    assert "2 places left" in html
    assert "2 more places are reserved" in html


@pytest.mark.parametrize("change", ["workplace", "kind"])
def test_leaving_a_workplace_or_its_kind_changing_shows_at_once_too(
    admin_client, change
):
    """A member who chooses another workplace leaves the first (their place
    goes back to general sale); an organisation whose kind changes stops
    being admitted by reservations for that kind."""
    from django.test import Client

    from accounts import services as accounts_services
    from tests.privacy.test_four_eyes import change_form_data

    school, session, person, _membership = booked_member(confirmed=True, by_kind=True)
    visitor = Client()
    assert "2 places left" in course_page(visitor, session)

    if change == "workplace":
        accounts_services.set_workplace(person, OrganisationFactory.create())
    else:
        url = f"/admin/accounts/organisation/{school.pk}/change/"
        data = change_form_data(admin_client, url)
        data["kind"] = Organisation.Kind.TRUST
        assert admin_client.post(url, data).status_code == 302
        school.refresh_from_db()
        assert school.kind == Organisation.Kind.TRUST
    html = course_page(visitor, session)
    assert "1 place left" in html
    assert "3 more places are reserved" in html
