"""Membership of an organisation: asked for by choosing a workplace, confirmed
by an approver or our staff, and only then may anything be charged to it."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts import services
from accounts.models import Membership
from bookings import services as booking_services
from bookings.models import Booking, Transaction
from tests.accounts.factories import OrganisationFactory, member_of, verified_person
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


PROFILE = {
    "first_name": "Tom",
    "last_name": "Teacher",
    "job_title": "Teacher",
    "phone": "",
    "address_line_1": "",
    "address_line_2": "",
    "town": "",
    "postcode": "",
    "new_organisation_name": "",
}


def test_choosing_a_workplace_asks_to_join_it_and_the_account_page_says_so():
    org = OrganisationFactory.create(name="Hillside Primary")
    person = verified_person()
    client = client_for(person)
    client.post("/profile/edit/", {**PROFILE, "organisation": org.pk})
    membership = Membership.objects.get(person=person)
    assert (membership.organisation, membership.status) == (org, "requested")
    page = client.get("/profile/").content.decode()
    assert "Waiting for Hillside Primary to confirm that you work there." in page
    # Saving again asks nothing new.
    client.post("/profile/edit/", {**PROFILE, "organisation": org.pk})
    assert Membership.objects.filter(person=person).count() == 1


def test_moving_workplace_ends_the_old_membership_but_not_roles_given():
    old, new = OrganisationFactory.create_batch(2)
    person = verified_person()
    member_of(person, old)
    services.update_profile(person, first_name="A", last_name="B", organisation=new)
    assert list(
        Membership.objects.filter(person=person).values_list("organisation", "status")
    ) == [(new.pk, "requested")]
    # A role holder keeps the role (an approver or our staff ends it).
    member_of(person, old, workplace=False, is_booker=True)
    services.update_profile(person, first_name="A", last_name="B", organisation=None)
    assert list(
        Membership.objects.filter(person=person).values_list("organisation", flat=True)
    ) == [old.pk]


def test_sign_up_with_a_workplace_asks_to_join(client, first_policies):
    org = OrganisationFactory.create(name="Hillside Primary")
    response = client.post(
        "/accounts/signup/",
        {
            "first_name": "Sam",
            "last_name": "Signup",
            "email": "sam@hillside.sch.uk",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
            "organisation": org.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = Membership.objects.get(person__email="sam@hillside.sch.uk")
    assert (membership.organisation, membership.status) == (org, "requested")
    assert membership.person.profile.organisation == org


def test_an_email_domain_suggests_the_organisation():
    org = OrganisationFactory.create(
        name="Hillside Primary", email_domain="hillside.sch.uk"
    )
    person = verified_person(email="kim@Hillside.sch.uk")
    page = client_for(person).get("/profile/edit/").content.decode()
    assert f'<option value="{org.pk}" selected>' in page
    assert "We have chosen Hillside Primary because your email address" in page
    elsewhere = verified_person(email="kim@elsewhere.org")
    page = client_for(elsewhere).get("/profile/edit/").content.decode()
    assert "We have chosen" not in page


def test_only_an_approver_or_staff_confirms():
    org = OrganisationFactory.create()
    asked = member_of(verified_person(), org, confirmed=False)
    booker = member_of(verified_person(), org, is_booker=True).person
    with pytest.raises(services.AccountsError, match="Only an approver"):
        services.confirm_membership(asked, by=booker)
    other_approver = member_of(
        verified_person(), OrganisationFactory.create(), is_approver=True
    ).person
    with pytest.raises(services.AccountsError):
        services.confirm_membership(asked, by=other_approver)
    asked.refresh_from_db()
    assert asked.status == "requested"
    staff = verified_person(is_staff=True, is_superuser=True)
    services.confirm_membership(asked, by=staff)
    asked.refresh_from_db()
    assert (asked.status, asked.confirmed_by) == ("confirmed", staff)
    with pytest.raises(services.AccountsError, match="already confirmed"):
        services.confirm_membership(asked, by=staff)


@pytest.mark.parametrize(
    ("pays", "confirmed", "charged"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
def test_charge_to_my_organisation_only_for_confirmed_members_of_a_paying_one(
    pays, confirmed, charged
):
    org = OrganisationFactory.create(name="Hillside Primary", pays_on_account=pays)
    person = verified_person()
    member_of(person, org, confirmed=confirmed)
    session = SessionFactory.create(course__price=Decimal("40"))
    client = client_for(person)
    page = client.get(session.course.get_absolute_url()).content.decode()
    assert ("Charge to Hillside Primary" in page) is charged
    response = client.post(
        f"/sessions/{session.pk}/book/",
        {"charge_to": "organisation", "confirm": "yes"},
        follow=True,
    )
    if charged:
        assert Transaction.objects.get().organisation == org
    else:
        assert not Booking.objects.exists()
        assert "has not agreed to pay for places for this person" in (
            response.content.decode()
        )


def test_a_swap_cannot_charge_the_organisation_for_someone_it_does_not_pay_for():
    org = OrganisationFactory.create(pays_on_account=True)
    booker = member_of(verified_person(), org, is_booker=True).person
    amy = member_of(verified_person(), org).person
    newcomer = member_of(verified_person(), org, confirmed=False).person
    session = SessionFactory.create(course__price=Decimal("40"))
    place = booking_services.book_session(amy, session, organisation=org)
    with pytest.raises(booking_services.BookingError, match="cannot be charged"):
        booking_services.swap_booking(place, newcomer, by=booker)
    place.refresh_from_db()
    assert place.status == "confirmed"
    assert not Booking.objects.filter(person=newcomer).exists()
