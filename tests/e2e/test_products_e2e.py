"""Buying a service other than a course place, as a learner does it in a
browser: browse the services from the menu, buy a resource pack, see the
purchase and then the charge in the transaction history. And the pages do not
scroll sideways on a 320px screen."""

import re
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from products.models import Product, Purchase
from tests.accounts.factories import UserFactory
from tests.e2e.test_catalogue_e2e import STICKING_OUT_JS

pytestmark = pytest.mark.django_db(transaction=True)

FACTORY_PASSWORD = "correct-horse-battery"


@pytest.fixture
def services():
    Product.objects.create(
        name="Classroom resource pack",
        slug="resource-pack",
        summary="Decodable readers and a planning guide.",
        price=Decimal("35.00"),
        stock=50,
    )
    Product.objects.create(
        name="Annual safeguarding subscription",
        slug="annual-safeguarding-subscription",
        price=Decimal("450.00"),
        buyers=Product.Buyers.ORGANISATIONS,
    )


def test_browse_buy_a_resource_pack_and_see_it_in_the_transaction_history(
    live_server, page, services
):
    address = "pat@example.org"
    person = UserFactory.create(first_name="Pat", email=address)
    EmailAddress.objects.create(user=person, email=address, primary=True, verified=True)

    # Anyone may browse; buying asks to sign in and comes back.
    page.goto(f"{live_server.url}/courses/")
    page.get_by_role("link", name="Other services").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Other services")
    expect(page.get_by_text("Annual safeguarding subscription")).to_be_visible()
    page.get_by_role("link", name="Classroom resource pack").click()
    page.get_by_role("link", name="Sign in to buy").click()
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Classroom resource pack")
    expect(page.get_by_text("50 left")).to_be_visible()
    # A mistake is shown in the summary and beside the field.
    page.get_by_label("How many?").fill("²")
    page.get_by_role("button", name="Buy").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a whole number from 1 to 50")
    summary.get_by_role("link").click()
    expect(page.get_by_label("How many?")).to_be_focused()

    page.get_by_label("How many?").fill("2")
    page.get_by_role("button", name="Buy").click()

    expect(
        page.get_by_text("You have bought Classroom resource pack, quantity 2.")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Classroom resource pack")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Total£70")
    assert Purchase.objects.get().quantity == 2

    page.get_by_role("link", name="See your transaction history").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Transaction history")
    row = page.locator("tbody tr").filter(has_text="Classroom resource pack")
    expect(row).to_contain_text("Charge: Classroom resource pack: 2 at £35.00")
    expect(row).to_contain_text("£70.00")
    expect(page.get_by_text("Balance owed: £70.00")).to_be_visible()

    # The organisations-only subscription is not offered to Pat.
    page.goto(f"{live_server.url}/services/")
    expect(page.get_by_text("Annual safeguarding subscription")).to_have_count(0)
    expect(page.get_by_text("48 left")).to_be_visible()


@pytest.mark.parametrize("path", ["/services/", "/services/resource-pack/"])
def test_no_sideways_scrolling_at_320_pixels(live_server, page, services, path):
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{live_server.url}{path}")
    expect(page.locator(".govuk-width-container").first).to_have_css(
        "max-width", re.compile(r"\d+px")
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320 + 1, (
        f"the page scrolls sideways: {width}px wide at 320px; sticking out: "
        + "; ".join(page.evaluate(STICKING_OUT_JS))
    )
