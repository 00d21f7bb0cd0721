"""An organisation's CPD lead in a browser: from the course page, book three
members onto a session with two places left, by keyboard-reachable controls
only, and read on the page who got a place and who is waiting."""

import pytest
from playwright.sync_api import expect

from bookings.models import Booking
from tests.accounts.factories import OrganisationFactory, member_of, verified_person
from tests.bookings.factories import BookingFactory
from tests.courses.factories import CourseFactory, SessionFactory

pytestmark = pytest.mark.django_db(transaction=True)

FACTORY_PASSWORD = "correct-horse-battery"


def sign_in(page, live_server, address: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()


def test_a_cpd_lead_books_three_members_onto_two_places(page, live_server):
    school = OrganisationFactory.create(name="Hillside Primary")
    lead = verified_person(first_name="Cara", last_name="Lead")
    member_of(lead, school, is_booker=True)
    names = [("Amy", "Able"), ("Ben", "Brook"), ("Cal", "Cope")]
    members = [
        member_of(verified_person(first_name=f, last_name=s), school).person
        for f, s in names
    ]
    course = CourseFactory.create(title="Early reading")
    session = SessionFactory.create(course=course, capacity=3)
    BookingFactory.create(session=session)  # two places left

    sign_in(page, live_server, lead.email)
    page.goto(f"{live_server.url}{course.get_absolute_url()}")
    page.get_by_role("link", name="Book members of Hillside Primary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Book members onto Early reading"
    )
    expect(page.locator("#places-left")).to_have_text("2")
    for first, last in names:
        # Tick each box with the keyboard, as a keyboard user would.
        page.get_by_label(f"{first} {last}").focus()
        page.keyboard.press("Space")
    page.get_by_role("button", name="Book the people chosen").click()

    expect(page.get_by_text("Booked: Amy Able, Ben Brook.")).to_be_visible()
    expect(
        page.get_by_text("The session is full, so on the waiting list: Cal Cope.")
    ).to_be_visible()
    booked = page.locator("#booked + table")
    expect(booked.get_by_role("row", name="Amy Able Confirmed")).to_be_visible()
    expect(booked.get_by_role("row", name="Ben Brook Confirmed")).to_be_visible()
    expect(
        booked.get_by_role("row", name="Cal Cope On the waiting list")
    ).to_be_visible()
    assert {
        b.person_id: b.status for b in Booking.objects.filter(person__in=members)
    } == {
        members[0].pk: "confirmed",
        members[1].pk: "confirmed",
        members[2].pk: "waitlisted",
    }

    # The organisation page lists each member's upcoming booking.
    page.goto(f"{live_server.url}/organisation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hillside Primary")
    expect(page.get_by_role("row", name="Cal Cope")).to_contain_text("Early reading")
