"""Consent as a person meets it in a browser: marketing choices made at sign-up
and changed on the preferences page, and the analytics cookie choice (banner,
cookies page, Global Privacy Control), checked in the browser's own cookie jar."""

import email
import re
from email import policy

import pytest
from playwright.sync_api import expect

from accounts.models import User
from consent.selectors import can_contact
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_accounts_e2e import link_in, on_live_server, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

SIGNUP_CHECKBOXES = [
    "Email me offers and news from us",
    "Text me offers and news from us",
    "Phone me with offers and news from us",
    "Post me offers and news from us",
    "Post me offers from partner organisations",
]

ANALYTICS_COOKIE = "cpd_analytics_id"
CHOICE_COOKIE = "cookie_choice"
ESSENTIAL_COOKIES = {"sessionid", "csrftoken", "messages", CHOICE_COOKIE}
PAGES = ["/", "/courses/", "/privacy/"]


def jar(context) -> dict[str, str]:
    """The browser's own cookies, name to value."""
    return {c["name"]: c["value"] for c in context.cookies()}


def banner(page):
    return page.get_by_role("region", name=re.compile(r"^Cookies on "))


def assert_no_analytics_script(page) -> None:
    srcs = page.locator("script[src]").evaluate_all(
        "scripts => scripts.map(s => s.getAttribute('src'))"
    )
    assert not [s for s in srcs if "analytics" in s.lower()], srcs
    assert not re.search(r"<script[^>]*src=[\"'][^\"']*analytics", page.content())


def assert_only_essential_cookies(context) -> None:
    names = set(jar(context))
    assert ANALYTICS_COOKIE not in names
    assert names <= ESSENTIAL_COOKIES, (
        f"non-essential cookies: {names - ESSENTIAL_COOKIES}"
    )


def test_marketing_choice_from_sign_up_is_withdrawn_on_the_preferences_page(
    live_server, page, smtp_server
):
    address = "mary.seacole@westmoor.example"

    page.goto(f"{live_server.url}/accounts/signup/")
    for label in SIGNUP_CHECKBOXES:
        expect(page.get_by_label(label, exact=True)).not_to_be_checked()
    page.get_by_label("First name").fill("Mary")
    page.get_by_label("Last name").fill("Seacole")
    page.get_by_label("Email address", exact=True).fill(address)
    page.get_by_label("Create a password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_label("Email me offers and news from us", exact=True).check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("check your email", re.I)
    )

    assert [e.rcpt_tos for e in smtp_server.envelopes] == [[address]]
    message = email.message_from_bytes(
        smtp_server.envelopes[0].content, policy=policy.default
    )
    page.goto(on_live_server(link_in(message), live_server.url))
    page.get_by_role("button", name="Confirm").click()
    sign_out = page.get_by_role("link", name="Sign out")
    if sign_out.count():
        sign_out.click()
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    sign_in(page, live_server, address)
    person = User.objects.get(email=address)
    assert can_contact(person, "email", "marketing") is True

    page.get_by_role("link", name="Preferences").first.click()
    expect(page).to_have_url(f"{live_server.url}/preferences/")
    email_box = page.locator('input[name="marketing__email"]')
    expect(email_box).to_be_checked()
    expect(page.get_by_label("Offers and news from us: Email")).to_be_checked()
    for other in ("marketing__sms", "marketing__phone", "marketing__post"):
        expect(page.locator(f'input[name="{other}"]')).not_to_be_checked()
    expect(page.locator('input[name="partner_marketing__post"]')).not_to_be_checked()

    expect(page.get_by_role("heading", name="Your history of choices")).to_be_visible()
    email_rows = page.locator("table.govuk-table tbody tr").filter(
        has_text="Offers and news from us by email"
    )
    expect(email_rows).to_have_count(1)
    expect(email_rows.nth(0)).to_contain_text("by email: yes")
    expect(email_rows.nth(0)).to_contain_text("Sign-up form")

    email_box.uncheck()
    page.get_by_role("button", name="Save choices").click()
    expect(page).to_have_url(f"{live_server.url}/preferences/")
    expect(page.get_by_text("Your choices have been saved")).to_be_visible()
    expect(page.locator('input[name="marketing__email"]')).not_to_be_checked()

    # Newest first: the withdrawal from this page above the grant at sign-up.
    expect(email_rows).to_have_count(2)
    expect(email_rows.nth(0)).to_contain_text("by email: no")
    expect(email_rows.nth(0)).to_contain_text("Preferences page")
    expect(email_rows.nth(1)).to_contain_text("by email: yes")
    expect(email_rows.nth(1)).to_contain_text("Sign-up form")

    # Every sender asks can_contact at send time: the withdrawal counts at once.
    person.refresh_from_db()
    assert can_contact(person, "email", "marketing") is False


def test_analytics_cookie_only_after_acceptance(live_server, page, browser):
    context = page.context

    # (a) First visits: banner, only essential cookies, no analytics anywhere.
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        expect(banner(page)).to_be_visible()
        expect(
            banner(page).get_by_role("button", name="Accept analytics cookies")
        ).to_be_visible()
        assert_no_analytics_script(page)
        assert_only_essential_cookies(context)

    # (b) Rejecting from the banner keeps it that way, and the banner goes.
    page.goto(f"{live_server.url}/courses/")
    page.get_by_role("button", name="Reject analytics cookies").click()
    expect(page).to_have_url(f"{live_server.url}/courses/")
    expect(page.get_by_text("You have rejected analytics cookies.")).to_be_visible()
    expect(banner(page)).to_have_count(0)
    assert jar(context)[CHOICE_COOKIE] == "rejected"
    assert_only_essential_cookies(context)
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        expect(banner(page)).to_have_count(0)
        assert_no_analytics_script(page)
        assert_only_essential_cookies(context)

    # (c) Changing one's mind on the cookies page sets the identifier.
    page.goto(f"{live_server.url}/cookies/")
    expect(page.get_by_text("You have rejected analytics cookies.")).to_be_visible()
    expect(page.get_by_label("No", exact=True)).to_be_checked()
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save cookie settings").click()
    expect(page).to_have_url(f"{live_server.url}/cookies/")
    expect(
        page.get_by_text("You have accepted analytics cookies.").first
    ).to_be_visible()
    expect(page.get_by_label("Yes", exact=True)).to_be_checked()
    cookies = jar(context)
    assert cookies[CHOICE_COOKIE] == "accepted"
    assert cookies.get(ANALYTICS_COOKIE), cookies
    identifier = cookies[ANALYTICS_COOKIE]
    page.goto(f"{live_server.url}/")
    assert jar(context)[ANALYTICS_COOKIE] == identifier

    # (d) Global Privacy Control: no banner and never an identifier, even after
    # an acceptance is posted.
    gpc = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    try:
        gpc_page = gpc.new_page()
        gpc_page.set_default_timeout(15_000)
        for path in PAGES:
            gpc_page.goto(f"{live_server.url}{path}")
            expect(banner(gpc_page)).to_have_count(0)
            assert_no_analytics_script(gpc_page)
            assert_only_essential_cookies(gpc)
        gpc_page.goto(f"{live_server.url}/cookies/")
        expect(
            gpc_page.get_by_text(
                "Your browser sends a Global Privacy Control signal, so we treat "
                "it as a refusal of analytics cookies"
            )
        ).to_be_visible()
        expect(
            gpc_page.get_by_role("button", name="Save cookie settings")
        ).to_have_count(0)

        # No form is offered, so post one by hand with a real CSRF token.
        gpc_page.goto(f"{live_server.url}/accounts/login/")
        token = gpc_page.locator(
            'input[name="csrfmiddlewaretoken"]'
        ).first.input_value()
        with gpc_page.expect_navigation():
            gpc_page.evaluate(
                """token => {
                    const form = document.createElement("form");
                    form.method = "post";
                    form.action = "/cookies/";
                    for (const [name, value] of [
                        ["csrfmiddlewaretoken", token],
                        ["analytics", "accept"],
                        ["next", "/courses/"],
                    ]) {
                        const input = document.createElement("input");
                        input.type = "hidden";
                        input.name = name;
                        input.value = value;
                        form.appendChild(input);
                    }
                    document.body.appendChild(form);
                    form.submit();
                }""",
                token,
            )
        expect(gpc_page).to_have_url(f"{live_server.url}/courses/")
        assert ANALYTICS_COOKIE not in jar(gpc)
        for path in [*PAGES, "/cookies/"]:
            gpc_page.goto(f"{live_server.url}{path}")
            expect(banner(gpc_page)).to_have_count(0)
            assert ANALYTICS_COOKIE not in jar(gpc), jar(gpc)
    finally:
        gpc.close()


def test_cookie_banner_works_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/courses/")
        # The inline script that marks the body as JavaScript-enabled did not run.
        expect(page.locator("body.js-enabled")).to_have_count(0)
        expect(banner(page)).to_be_visible()
        page.get_by_role("button", name="Reject analytics cookies").click()
        expect(page).to_have_url(f"{live_server.url}/courses/")
        expect(page.get_by_text("You have rejected analytics cookies.")).to_be_visible()
        expect(banner(page)).to_have_count(0)
        cookies = jar(context)
        assert cookies[CHOICE_COOKIE] == "rejected"
        assert ANALYTICS_COOKIE not in cookies
        page.goto(f"{live_server.url}/")
        expect(banner(page)).to_have_count(0)
    finally:
        context.close()
