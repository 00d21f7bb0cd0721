"""Closing an account and asking for a correction, as a person does it in a
browser: the confirmation page, its error summary, being signed out and
refused at sign-in; the correction form and its request on Your data."""

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from accounts.models import User
from bookings.models import Booking
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db(transaction=True)

FACTORY_PASSWORD = "correct-horse-battery"


def learner(address: str) -> User:
    user = UserFactory.create(first_name="Ada", email=address)
    EmailAddress.objects.create(user=user, email=address, primary=True, verified=True)
    return user


def sign_in(page, live_server, address: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_close_my_account_in_a_browser(live_server, page):
    person = learner("ada@example.org")
    session = SessionFactory.create(capacity=1)
    BookingFactory.create(person=person, session=session, status="confirmed")
    waiting = BookingFactory.create(session=session, status="waitlisted")
    sign_in(page, live_server, person.email)
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()

    page.goto(f"{live_server.url}/profile/")
    page.get_by_role("button", name="Close your account").click()
    expect(page.get_by_role("heading", name="Close your account")).to_be_visible()
    page.get_by_role("button", name="Close my account").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link").click()
    expect(page.get_by_label("I understand")).to_be_focused()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Close my account").click()

    expect(page.get_by_role("heading", name="This account is closed")).to_be_visible()
    expect(page.get_by_role("link", name="Sign out")).to_have_count(0)
    waiting.refresh_from_db()
    assert waiting.status == Booking.Status.CONFIRMED

    sign_in(page, live_server, person.email)
    expect(page.get_by_role("heading", name="This account is closed")).to_be_visible()


def test_ask_for_a_correction_in_a_browser(live_server, page):
    person = learner("grace@example.org")
    sign_in(page, live_server, person.email)
    page.goto(f"{live_server.url}/my-data/")
    page.get_by_role("link", name="Ask us to correct something").click()
    page.get_by_label("What is wrong?").fill("My surname is misspelt")
    page.get_by_label("What should it say?").fill("Hopper")
    page.get_by_role("button", name="Send request").click()
    expect(
        page.get_by_text("We have your request to correct your data")
    ).to_be_visible()
    row = page.locator("#requests ~ .app-table-wrapper tr", has_text="Correction")
    expect(row).to_contain_text("Received")
