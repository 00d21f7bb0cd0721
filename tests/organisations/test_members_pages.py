"""An organisation's page lists its members by name a page at a time, with a
search, so it costs the same for a school of ten or a trust of ten thousand;
each member's hours and bookings are looked up for the rows shown only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.paging import PER_PAGE
from organisations.selectors import MEMBERS_OFFERED
from tests.accounts.factories import OrganisationFactory, member_of, verified_person
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trust():
    org = OrganisationFactory.create(name="Riverside Trust")
    lead = verified_person(first_name="Aaron", last_name="Aardvark")
    member_of(lead, org, is_booker=True)
    client = Client()
    client.force_login(lead)
    return org, client


def _members(org, n: int, last_name: str = "Member") -> list[str]:
    """n confirmed members named "FirstNNN <last_name>", in name order."""
    names = []
    for i in range(n):
        person = verified_person(
            first_name=f"First{i:03d}",
            last_name=last_name,
            email=f"first{i:03d}.{last_name.lower()}@riverside.example",
        )
        member_of(person, org)
        names.append(f"First{i:03d} {last_name}")
    return names


def _shown(response) -> list[str]:
    return [m.get_full_name() for m in response.context["members"]]


def test_members_come_a_page_at_a_time_by_name(trust):
    org, client = trust
    names = ["Aaron Aardvark", *_members(org, PER_PAGE + 4)]
    url = f"/organisation/{org.pk}/"

    first = client.get(url)
    assert _shown(first) == names[:PER_PAGE]
    html = first.content.decode()
    assert 'href="?members=2#members" rel="next"' in html
    assert ">Next<" in html

    second = client.get(url, {"members": 2})
    assert _shown(second) == names[PER_PAGE:]
    assert 'href="?members=1#members" rel="prev"' in second.content.decode()
    for odd in ("²", "0", "x", "9" * 40):
        assert client.get(url, {"members": odd}).status_code == 200


def test_a_search_finds_members_by_name_or_email_and_keeps_to_its_pages(trust):
    org, client = trust
    _members(org, 3, last_name="Okafor")
    smiths = _members(org, PER_PAGE + 1, last_name="Smith")
    url = f"/organisation/{org.pk}/"

    found = client.get(url, {"member": "smith"})
    assert _shown(found) == smiths[:PER_PAGE]
    html = found.content.decode()
    assert 'href="?member=smith&amp;members=2#members" rel="next"' in html
    assert 'value="smith"' in html
    assert (
        _shown(client.get(url, {"member": "smith", "members": 2})) == smiths[PER_PAGE:]
    )
    # Every word must match: a first name and a last name.
    assert _shown(client.get(url, {"member": "first001 okafor"})) == ["First001 Okafor"]
    # A whole email address finds its member; a part of one finds no one, so
    # guessing letters reveals nothing the page does not show.
    address = "FIRST002.okafor@riverside.example"
    assert _shown(client.get(url, {"member": address})) == ["First002 Okafor"]
    assert _shown(client.get(url, {"member": "okafor@"})) == []
    assert _shown(client.get(url, {"member": "riverside.example"})) == []

    none = client.get(url, {"member": "Nobody"}).content.decode()
    assert "No confirmed member matches “Nobody”." in none


def test_a_search_too_long_says_so_beside_the_field(trust):
    org, client = trust
    _members(org, 2)
    response = client.get(f"/organisation/{org.pk}/", {"member": "x" * 101})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_member_error"' in html
    assert "at most 100 characters" in html
    # Said at the top too, linked to the field, and in the title.
    assert '<a href="#id_member">' in html
    assert "<title>Error: " in html
    # Everyone is still listed.
    assert len(_shown(response)) == 3


def test_the_page_costs_the_same_queries_with_more_members_and_bookings(
    trust, django_assert_max_num_queries
):
    org, client = trust
    url = f"/organisation/{org.pk}/"
    client.get(url)

    def grow(n: int) -> None:
        # Started a few seconds ago (and never before this year began), so
        # they are this year's whatever the date.
        now = timezone.now()
        year_start = dt.datetime(
            timezone.localdate().year, 1, 1, tzinfo=timezone.get_current_timezone()
        )
        for i, name in enumerate(_members(org, n, last_name=f"Grow{n}")):
            first = name.split()[0]
            person = org.memberships.get(
                person__first_name=first, person__last_name=f"Grow{n}"
            ).person
            BookingFactory.create(person=person)
            BookingFactory.create(
                person=person,
                status="attended",
                session=SessionFactory.create(
                    starts_at=max(now - dt.timedelta(seconds=i + 1), year_start),
                    ends_at=now + dt.timedelta(hours=1),
                    course__cpd_hours=Decimal("2"),
                ),
            )

    grow(3)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    grow(PER_PAGE * 2)
    with django_assert_max_num_queries(len(small)):
        response = client.get(url)
    assert len(response.context["members"]) == PER_PAGE
    # Each member's hours this year are their own: one two-hour course each
    # (the booker attended none).
    assert [m.cpd_hours_this_year for m in response.context["members"]] == [
        0,
        *[2] * (PER_PAGE - 1),
    ]


@pytest.fixture
def big_trust(trust):
    """More members than a booker is offered at once."""
    org, client = trust
    names = _members(org, MEMBERS_OFFERED + 4)
    return org, client, names


def _offered(response, field: str) -> list[str]:
    return [p.get_full_name() for p in response.context["form"].fields[field].queryset]


def test_booking_offers_the_first_members_and_a_search_finds_the_rest(big_trust):
    org, client, names = big_trust
    session = SessionFactory.create(capacity=5)
    url = f"/organisation/{org.pk}/book/{session.pk}/"

    page = client.get(url)
    # By name: the booker first, then the members.
    offered = _offered(page, "people")
    assert offered == ["Aaron Aardvark", *names][:MEMBERS_OFFERED]
    html = page.content.decode()
    assert f"Showing the first {MEMBERS_OFFERED} members by name." in html

    last = names[-1]  # not offered without a search
    found = client.get(url, {"member": "First103"})
    assert _offered(found, "people") == [last]
    assert "Showing the first" not in found.content.decode()
    person = org.memberships.get(person__first_name="First103").person
    # The form posts back to its own address, search included.
    response = client.post(f"{url}?member=First103", {"people": [person.pk]})
    assert response.status_code == 302
    assert session.bookings.get().person == person

    nobody = client.get(url, {"member": "Nobody"}).content.decode()
    assert "No confirmed member who is not booked on this session matches" in nobody


def test_giving_a_place_away_offers_members_the_same_way(big_trust):
    org, client, names = big_trust
    lead = org.memberships.get(is_booker=True).person
    booking = BookingFactory.create(person=lead, organisation=org)
    url = f"/organisation/{org.pk}/bookings/{booking.pk}/swap/"

    page = client.get(url)
    assert _offered(page, "person") == names[:MEMBERS_OFFERED]
    assert f"Showing the first {MEMBERS_OFFERED} members by name." in (
        page.content.decode()
    )
    found = client.get(url, {"member": "first102 member"})
    assert _offered(found, "person") == [names[102]]
