"""Paying for a place by card in a browser, against the Stripe-compatible
server on loopback (tests/payments/stripe_server.py): book a paid place, pay
on the Checkout page, come back confirmed and paid, with Stripe's webhook
arriving too and recording nothing twice; and give up on Stripe's page, come
back to "You have not paid" with the place still booked, and try again."""

import copy
import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bookings.models import Booking, Transaction
from payments.gateway import card_checkout_origins
from payments.models import CardPayment
from tests.accounts.factories import verified_person
from tests.courses.factories import CourseFactory, SessionFactory
from tests.payments.stripe_fake import SECRET_KEY, send_webhooks_to

pytestmark = pytest.mark.django_db(transaction=True)

FACTORY_PASSWORD = "correct-horse-battery"
TITLE = "Paediatric first aid"


@pytest.fixture
def paying(settings, live_server, card_payments):
    settings.SITE_URL = live_server.url
    send_webhooks_to(card_payments, f"{live_server.url}/payments/stripe/webhook/")
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] += card_checkout_origins(
        SECRET_KEY, card_payments
    )
    settings.CONTENT_SECURITY_POLICY = policy
    course = CourseFactory.create(title=TITLE, price=Decimal("220.00"))
    SessionFactory.create(course=course, capacity=10)
    person = verified_person(first_name="Priya")
    return course, person


def sign_in_and_book(page, live_server, person, course) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()
    page.goto(f"{live_server.url}{course.get_absolute_url()}")
    page.get_by_role("button", name=re.compile("^Book")).click()
    # A paid place is checked before anything is booked.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your booking before you confirm it"
    )
    summary = page.locator(".govuk-summary-list")
    expect(summary).to_contain_text("£220")
    expect(summary).to_contain_text("and get a full refund")
    expect(summary).to_contain_text("You. Pay by card or bank transfer")
    assert not Booking.objects.filter(person=person).exists()
    page.get_by_role("button", name="Confirm and book").click()
    expect(page.get_by_text("Your place is booked")).to_be_visible()
    # The booking's own page says it is not paid; the list shows it too.
    expect(page.get_by_text("£220 is owed.")).to_be_visible()
    page.get_by_role("link", name="All your bookings").click()


def card(page):
    return page.locator(".app-card").filter(has=page.get_by_role("heading", name=TITLE))


def test_book_a_paid_place_pay_by_card_and_come_back_paid(page, live_server, paying):
    course, person = paying
    sign_in_and_book(page, live_server, person, course)

    # My bookings: booked at once, and not yet paid.
    expect(card(page).get_by_text("Confirmed")).to_be_visible()
    expect(card(page).get_by_text("Not paid")).to_be_visible()
    card(page).get_by_role("link", name=re.compile("^Pay for this place")).click()

    expect(page.get_by_text("Balance owed: £220.00")).to_be_visible()
    page.get_by_role("button", name="Pay £220.00 by card").click()

    # Stripe's page (the test server's), not ours.
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/pay/cs_test_"))
    assert not page.url.startswith(live_server.url)
    expect(page.get_by_role("heading", name="Pay £220.00")).to_be_visible()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()

    # Back on our service: paid.
    expect(page).to_have_url(
        re.compile(rf"^{re.escape(live_server.url)}/payments/card/")
    )
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(page.get_by_text("£220.00 paid by card")).to_be_visible()

    page.goto(f"{live_server.url}/bookings/")
    expect(card(page).get_by_text("Confirmed")).to_be_visible()
    expect(card(page).get_by_text("Not paid")).to_have_count(0)
    page.goto(f"{live_server.url}/transactions/")
    expect(page.get_by_text("Balance owed: £0.00")).to_be_visible()
    expect(page.get_by_text("Payment: Card payment")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("by card"))).to_have_count(0)

    # Stripe's webhook arrives a second after the payment (localstripe waits
    # one second before sending): give it time, then still one payment.
    time.sleep(2.5)
    assert Transaction.objects.filter(person=person, kind="payment").count() == 1
    assert Booking.objects.get(person=person).status == Booking.Status.CONFIRMED


def test_give_up_on_stripes_page_keep_the_place_and_try_again(
    page, live_server, paying
):
    course, person = paying
    sign_in_and_book(page, live_server, person, course)
    page.goto(f"{live_server.url}/transactions/")
    page.get_by_role("button", name="Pay £220.00 by card").click()
    expect(page.get_by_role("heading", name="Pay £220.00")).to_be_visible()

    # A declined card first: Stripe's page says so and stays.
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")

    # The learner goes back instead.
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have not paid")
    expect(page).to_have_title(re.compile("^You have not paid"))
    expect(
        page.get_by_text("Your places stay booked and £220.00 is still owed.")
    ).to_be_visible()
    assert Booking.objects.get(person=person).status == Booking.Status.CONFIRMED
    assert not Transaction.objects.filter(person=person, kind="payment").exists()

    # Trying again, by keyboard: the same Checkout session, and it pays.
    page.get_by_role("button", name="Try paying £220.00 by card again").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Pay £220.00")).to_be_visible()
    assert CardPayment.objects.filter(reference__person=person).count() == 1
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
