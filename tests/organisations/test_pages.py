"""The organisation pages as bookers and approvers use them, and as everyone
else tries them: booking several members in one step, swapping and cancelling
for a member, confirming members, and what the pages show (and never show)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from bookings import services
from bookings.models import Booking, MailRecord, StaffLog, Transaction
from tests.accounts.factories import OrganisationFactory, member_of, verified_person
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def school():
    org = OrganisationFactory.create(name="Hillside Primary", pays_on_account=True)
    lead = verified_person(first_name="Cara", last_name="Lead")
    member_of(lead, org, is_booker=True)
    staff = [
        member_of(verified_person(first_name=first, last_name=last), org).person
        for first, last in (("Amy", "Able"), ("Ben", "Brook"), ("Cal", "Cope"))
    ]
    return org, lead, staff


def test_booking_three_members_onto_two_places(school):
    org, lead, (amy, ben, cal) = school
    session = SessionFactory.create(capacity=3, course__title="Phonics")
    BookingFactory.create(session=session)  # one place already taken
    client = client_for(lead)
    page = client.get(f"/organisation/{org.pk}/book/{session.pk}/")
    assert page.status_code == 200
    assert "Amy Able" in page.content.decode()

    response = client.post(
        f"/organisation/{org.pk}/book/{session.pk}/",
        {"people": [amy.pk, ben.pk, cal.pk]},
    )
    assert response.status_code == 302
    assert said(response) == [
        "Booked: Amy Able, Ben Brook.",
        "The session is full, so on the waiting list: Cal Cope.",
    ]
    statuses = {
        b.person: b.status for b in Booking.objects.filter(person__in=school[2])
    }
    assert statuses == {amy: "confirmed", ben: "confirmed", cal: "waitlisted"}
    assert session.bookings.confirmed().count() == 3  # never more than capacity
    # Every booking records who made it, and the booker's action is logged.
    assert set(
        Booking.objects.filter(person__in=school[2]).values_list("booked_by", flat=True)
    ) == {lead.pk}
    assert StaffLog.objects.filter(actor=lead, action="booked on behalf").count() == 3
    after = client.get(response["Location"]).content.decode()
    assert "Already booked from Hillside Primary" in after
    assert "On the waiting list" in after


def test_charging_the_organisation_with_a_purchase_order(school):
    org, lead, (amy, ben, _cal) = school
    session = SessionFactory.create(capacity=5, course__price=Decimal("30"))
    client_for(lead).post(
        f"/organisation/{org.pk}/book/{session.pk}/",
        {"people": [amy.pk, ben.pk], "purchase_order": "PO-77"},
    )
    charges = Transaction.objects.filter(organisation=org)
    assert sorted(c.person_id for c in charges) == sorted([amy.pk, ben.pk])
    assert {b.purchase_order for b in Booking.objects.filter(session=session)} == {
        "PO-77"
    }


def test_no_charge_option_when_the_organisation_does_not_pay_on_account(school):
    org, lead, (amy, *_rest) = school
    org.pays_on_account = False
    org.save()
    session = SessionFactory.create(capacity=5, course__price=Decimal("30"))
    page = client_for(lead).get(f"/organisation/{org.pk}/book/{session.pk}/")
    assert "can book only free sessions" in page.content.decode()
    client_for(lead).post(
        f"/organisation/{org.pk}/book/{session.pk}/",
        {"people": [amy.pk]},
    )
    assert not Transaction.objects.filter(organisation=org).exists()


def test_a_booker_cannot_book_someone_outside_the_organisation(school):
    org, lead, _staff = school
    outsider = verified_person()
    session = SessionFactory.create(capacity=5)
    response = client_for(lead).post(
        f"/organisation/{org.pk}/book/{session.pk}/", {"people": [outsider.pk]}
    )
    assert response.status_code == 200  # the form shows the error
    assert "Select a valid choice" in response.content.decode()
    assert not Booking.objects.filter(person=outsider).exists()
    # Nor through the service.
    (result,) = services.book_members(session, [outsider], by=lead, organisation=org)
    assert result[1] is None
    assert result[2] == "Not a confirmed member."


def test_choosing_nobody_is_a_clear_error(school):
    org, lead, _staff = school
    session = SessionFactory.create()
    response = client_for(lead).post(f"/organisation/{org.pk}/book/{session.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose at least one person to book" in body
    assert "<title>Error:" in body


def test_swapping_a_place_between_members(school):
    org, lead, (amy, ben, _cal) = school
    session = SessionFactory.create(capacity=1)
    place = services.book_session(amy, session)
    waiting = services.book_session(verified_person(), session)
    response = client_for(lead).post(
        f"/organisation/{org.pk}/bookings/{place.pk}/swap/", {"person": ben.pk}
    )
    assert response.status_code == 302
    place.refresh_from_db()
    assert place.status == "cancelled"
    assert Booking.objects.get(person=ben, session=session).status == "confirmed"
    waiting.refresh_from_db()
    assert waiting.status == "waitlisted"  # the place did not pass to the list
    assert set(
        MailRecord.objects.filter(booking__session=session).values_list(
            "booking__person", "kind"
        )
    ) >= {(amy.pk, "cancelled"), (ben.pk, "confirmed")}
    assert set(
        StaffLog.objects.filter(actor=lead).values_list("action", flat=True)
    ) == {
        "gave place to another member",
        "took place from another member",
    }


def test_cancelling_for_a_member_passes_the_place_on(school):
    org, lead, (amy, *_rest) = school
    session = SessionFactory.create(capacity=1)
    place = services.book_session(amy, session)
    waiting = services.book_session(verified_person(), session)
    response = client_for(lead).post(
        f"/organisation/{org.pk}/bookings/{place.pk}/cancel/", {"reason": "Ill"}
    )
    assert response.status_code == 302
    place.refresh_from_db()
    assert (place.status, place.cancelled_by, place.cancel_reason) == (
        "cancelled",
        lead,
        "Ill",
    )
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"
    assert StaffLog.objects.filter(
        actor=lead, action="cancelled booking", booking=place
    ).exists()


def test_a_booker_keeps_to_the_cancellation_deadline(school):
    org, lead, (amy, *_rest) = school
    soon = timezone.now() + dt.timedelta(hours=2)
    session = SessionFactory.create(
        starts_at=soon,
        ends_at=soon + dt.timedelta(hours=1),
        course__cancellation_deadline_hours=48,
    )
    place = BookingFactory.create(person=amy, session=session)
    response = client_for(lead).post(
        f"/organisation/{org.pk}/bookings/{place.pk}/cancel/", {"reason": ""}
    )
    assert response.status_code == 200
    assert "can no longer be cancelled online" in response.content.decode()
    place.refresh_from_db()
    assert place.status == "confirmed"


def test_an_approver_confirms_or_removes_people_asking_to_join(school):
    org, lead, _staff = school
    approver = verified_person()
    member_of(approver, org, is_approver=True)
    joiner = verified_person(first_name="Jo", last_name="Joiner")
    stranger = verified_person()
    asked = member_of(joiner, org, confirmed=False)
    wrong = member_of(stranger, org, confirmed=False)
    client = client_for(approver)
    page = client.get(f"/organisation/{org.pk}/").content.decode()
    assert "People asking to join" in page
    assert "Jo Joiner" in page

    client.post(f"/organisation/{org.pk}/members/{asked.pk}/", {"decision": "confirm"})
    asked.refresh_from_db()
    assert (asked.status, asked.confirmed_by) == ("confirmed", approver)
    client.post(f"/organisation/{org.pk}/members/{wrong.pk}/", {"decision": "remove"})
    assert not Membership.objects.filter(pk=wrong.pk).exists()
    stranger.profile.refresh_from_db()
    assert stranger.profile.organisation is None
    # A booker cannot confirm members.
    third = member_of(verified_person(), org, confirmed=False)
    response = client_for(lead).post(
        f"/organisation/{org.pk}/members/{third.pk}/", {"decision": "confirm"}
    )
    assert response.status_code == 403
    third.refresh_from_db()
    assert third.status == "requested"


def test_the_page_shows_members_bookings_and_hours_but_no_equality_data(
    school, django_assert_max_num_queries
):
    org, lead, (amy, ben, _cal) = school
    amy.profile.job_title = "Year 2 teacher"
    amy.profile.gender = "woman"
    amy.profile.ethnicity = "asian"
    amy.profile.year_of_birth = 1987
    amy.profile.save()
    past = timezone.now() - dt.timedelta(days=3)
    BookingFactory.create(
        person=amy,
        status="attended",
        session=SessionFactory.create(
            starts_at=past,
            ends_at=past + dt.timedelta(hours=3),
            course__cpd_hours=Decimal("3.5"),
        ),
    )
    BookingFactory.create(person=ben, session__course__title="Maths mastery")
    other_org_person = verified_person(first_name="Zed", last_name="Elsewhere")
    member_of(other_org_person, OrganisationFactory.create())
    unconfirmed = verified_person(first_name="Una", last_name="Unconfirmed")
    member_of(unconfirmed, org, confirmed=False)
    client = client_for(lead)
    with django_assert_max_num_queries(12):
        body = client.get(f"/organisation/{org.pk}/").content.decode()
    assert "Year 2 teacher" in body
    assert "3.5" in body
    assert "Maths mastery" in body
    for hidden in ("Asian", "Woman", "1987", "Zed Elsewhere", "Una Unconfirmed"):
        assert hidden not in body
    # More members cost no more queries.
    for _n in range(10):
        member_of(verified_person(), org)
        BookingFactory.create(person=Membership.objects.last().person)
    with django_assert_max_num_queries(12):
        client.get(f"/organisation/{org.pk}/")


def test_the_index_sends_a_role_holder_to_their_organisation(school):
    org, lead, _staff = school
    response = client_for(lead).get("/organisation/")
    assert response["Location"] == f"/organisation/{org.pk}/"
    second = OrganisationFactory.create(name="Second School")
    member_of(lead, second, workplace=False, is_approver=True)
    page = client_for(lead).get("/organisation/").content.decode()
    assert "Hillside Primary" in page
    assert "Second School" in page
    plain = client_for(verified_person()).get("/organisation/")
    assert plain.status_code == 403
    assert "You do not hold a role in an organisation" in plain.content.decode()


def _snapshot():
    return (
        sorted(Booking.objects.values_list("pk", "status", "person_id")),
        sorted(
            Membership.objects.values_list("pk", "status", "is_booker", "is_approver")
        ),
        Transaction.objects.count(),
        MailRecord.objects.count(),
    )


@pytest.mark.parametrize(
    "who", ["unconfirmed_with_roles", "member_without_role", "other_org", "learner"]
)
def test_every_organisation_url_is_refused_to_anyone_without_a_role(school, who):
    org, _lead, (amy, ben, cal) = school
    session = SessionFactory.create(capacity=5)
    place = services.book_session(amy, session)
    approval_org = OrganisationFactory.create(bookings_need_approval=True)
    member_of(cal, approval_org, workplace=True)
    approver = verified_person()
    member_of(approver, approval_org, workplace=False, is_approver=True)
    held = services.book_session(cal, SessionFactory.create())
    asked = member_of(verified_person(), org, confirmed=False)
    person = verified_person()
    if who == "unconfirmed_with_roles":
        member_of(
            person,
            org,
            confirmed=False,
            is_booker=True,
            is_approver=True,
            is_finance_contact=True,
        )
    elif who == "member_without_role":
        member_of(person, org)
    elif who == "other_org":
        member_of(
            person,
            OrganisationFactory.create(),
            is_booker=True,
            is_approver=True,
            is_finance_contact=True,
        )
    urls = [
        f"/organisation/{org.pk}/",
        f"/organisation/{org.pk}/book/{session.pk}/",
        f"/organisation/{org.pk}/bookings/{place.pk}/swap/",
        f"/organisation/{org.pk}/bookings/{place.pk}/cancel/",
        f"/organisation/{org.pk}/members/{asked.pk}/",
        f"/organisation/{approval_org.pk}/approvals/{held.pk}/",
        f"/organisation/{approval_org.pk}/",
    ]
    data = {
        "people": [amy.pk, ben.pk],
        "person": ben.pk,
        "decision": "approve",
        "reason": "x",
    }
    client = client_for(person)
    before = _snapshot()
    for url in urls:
        for method in (client.get, client.post):
            response = method(url, data)
            assert response.status_code in (403, 404, 405), (url, response)
    assert _snapshot() == before
