"""Signing up, verifying, signing in and keeping details, as a person does it in
a browser: by label, by keyboard, with real mail delivery over SMTP."""

import email
import re
from email import policy
from urllib.parse import urlsplit, urlunsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts import roles
from tests.accounts.factories import OrganisationFactory, UserFactory
from tests.courses.factories import SessionFactory
from tests.e2e.conftest import PASSWORD, focused_description, tab_until, totp_code

pytestmark = pytest.mark.django_db(transaction=True)

SIGNUP_FIELDS = [
    "id_first_name",
    "id_last_name",
    "id_email",
    "id_password1",
    "id_password2",
]

# What a sighted keyboard user needs: an outline or a box shadow that is not
# transparent, or a changed background (the GOV.UK focus state uses all three).
FOCUS_STYLE_JS = """() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    const transparent = c => c === "transparent" || /rgba\\(.*,\\s*0\\)$/.test(c);
    return {
        outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0
                 && !transparent(s.outlineColor),
        shadow: s.boxShadow !== "none",
        background: !transparent(s.backgroundColor),
        detail: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} | ${s.boxShadow} | ${s.backgroundColor}`,
    };
}"""


def assert_focus_is_visible(page, *, background_counts: bool = False) -> None:
    style = page.evaluate(FOCUS_STYLE_JS)
    visible = style["outline"] or style["shadow"]
    if background_counts:
        visible = visible or style["background"]
    assert visible, (
        f"{focused_description(page)} has no visible focus: {style['detail']}"
    )


def link_in(message: email.message.EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html")).get_content()
    match = re.search(r"https?://[^\s\"'<>]+/accounts/confirm-email/[^\s\"'<>]+/", body)
    assert match, f"no verification link in:\n{body}"
    return match.group(0)


def on_live_server(link: str, live_server_url: str) -> str:
    """The same path and query on the live server (mail may name another host)."""
    parts, server = urlsplit(link), urlsplit(live_server_url)
    return urlunsplit((server.scheme, server.netloc, parts.path, parts.query, ""))


def sign_in(page, live_server, email_address: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email address", exact=True).fill(email_address)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()


def test_sign_up_verify_by_real_mail_sign_in_and_keep_details(
    live_server, page, smtp_server
):
    workplace = OrganisationFactory.create(name="Westmoor Primary School")
    address = "grace.hopper@westmoor.example"

    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Email address", exact=True).fill(address)
    page.get_by_label("Create a password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("check your email", re.I)
    )

    assert len(smtp_server.envelopes) == 1
    envelope = smtp_server.envelopes[0]
    assert envelope.rcpt_tos == [address]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["To"] == address
    link = on_live_server(link_in(message), live_server.url)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("confirm your email address", re.I)
    )
    expect(page.get_by_text(address).first).to_be_visible()
    page.get_by_role("button", name="Confirm").click()

    sign_out = page.get_by_role("link", name="Sign out")
    if sign_out.count():
        sign_out.click()
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    sign_in(page, live_server, address)
    page.get_by_role("link", name="Your account").click()
    page.get_by_role("button", name="Change your details").click()
    expect(page).to_have_url(f"{live_server.url}/profile/edit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your details")
    expect(page.get_by_label("First name")).to_have_value("Grace")

    page.get_by_label("Job title").fill("Practice nurse")
    page.get_by_label("Workplace", exact=True).select_option(label=workplace.name)
    page.get_by_label("Phone number").fill("01632 960 001")
    page.get_by_label("Address line 1").fill("1 High Street")
    page.get_by_label("Town or city").fill("Westmoor")
    page.get_by_label("Postcode").fill("wm1 2ab")
    page.get_by_role("button", name="Save your details").click()

    expect(page).to_have_url(f"{live_server.url}/profile/")
    expect(page.get_by_text("Your details have been saved.")).to_be_visible()

    def value_of(key: str):
        row = page.locator(".govuk-summary-list__row").filter(
            has=page.locator("dt", has_text=re.compile(f"^{key}$"))
        )
        return row.locator(".govuk-summary-list__value")

    expect(value_of("Name")).to_have_text("Grace Hopper")
    expect(value_of("Work email")).to_have_text(address)
    expect(value_of("Job title")).to_have_text("Practice nurse")
    expect(value_of("Phone")).to_have_text("01632 960 001")
    expect(value_of("Workplace")).to_have_text("Westmoor Primary School")
    expect(value_of("Postal address")).to_have_text("1 High Street, Westmoor, WM1 2AB")


def test_sign_up_with_the_keyboard_alone(live_server, page, smtp_server):
    page.goto(f"{live_server.url}/accounts/signup/")
    assert focused_description(page) == "body"

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    assert_focus_is_visible(page, background_counts=True)

    # Every field and the button, in reading order, with nothing in between.
    seen = tab_until(page, "#id_first_name")
    assert seen.index("a:Courses") < seen.index("input#id_first_name")
    typed = {
        "id_first_name": "Ada",
        "id_last_name": "Lovelace",
        "id_email": "ada@keyboard.example",
        "id_password1": PASSWORD,
        "id_password2": PASSWORD,
    }
    for position, field_id in enumerate(SIGNUP_FIELDS):
        if position:
            page.keyboard.press("Tab")
        expect(page.locator(f"#{field_id}")).to_be_focused()
        assert_focus_is_visible(page)
        page.keyboard.type(typed[field_id])
        expect(page.locator(f"#{field_id}")).to_have_value(typed[field_id])

    # The optional workplace comes next, left unchosen.
    page.keyboard.press("Tab")
    expect(page.locator("#id_organisation")).to_be_focused()
    assert_focus_is_visible(page)

    # The optional marketing choices follow, unticked; Space ticks the first.
    page.keyboard.press("Tab")
    email_offers = page.locator("#id_marketing__email")
    expect(email_offers).to_be_focused()
    expect(email_offers).not_to_be_checked()
    page.keyboard.press("Space")
    expect(email_offers).to_be_checked()
    for _ in range(4):
        page.keyboard.press("Tab")
    expect(page.locator("#id_partner_marketing__post")).to_be_focused()

    page.keyboard.press("Tab")
    submit = page.get_by_role("button", name="Create account")
    expect(submit).to_be_focused()
    assert_focus_is_visible(page, background_counts=True)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("check your email", re.I)
    )
    expect(page.get_by_text("We have sent you an email")).to_be_visible()
    assert [e.rcpt_tos for e in smtp_server.envelopes] == [["ada@keyboard.example"]]


def test_skip_link_moves_past_the_navigation_to_the_form(live_server, page):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()
    seen = tab_until(page, "#id_first_name")
    assert "a:Courses" not in seen
    assert "a:Sign in" not in seen


def test_empty_sign_up_shows_a_linked_error_summary(live_server, page):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_role("button", name="Create account").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    hrefs = summary.locator("a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    for field_id in SIGNUP_FIELDS[:4]:
        assert f"#{field_id}" in hrefs
    # Each field shows its own message, tied to it for screen readers.
    email_input = page.get_by_label("Email address", exact=True)
    expect(email_input).to_have_attribute(
        "aria-describedby", re.compile("id_email_error")
    )
    expect(page.locator("#id_email_error")).to_be_visible()

    summary.locator('a[href="#id_email"]').click()
    expect(email_input).to_be_focused()
    summary.locator('a[href="#id_last_name"]').click()
    expect(page.get_by_label("Last name")).to_be_focused()


def test_staff_without_two_factor_are_sent_to_set_it_up(live_server, page):
    staff = UserFactory.create(
        email="boss@cpd.example", is_staff=True, is_superuser=True
    )
    EmailAddress.objects.create(
        user=staff, email=staff.email, primary=True, verified=True
    )
    setup_url = f"{live_server.url}/accounts/2fa/totp/activate/"

    sign_in(page, live_server, staff.email, "correct-horse-battery")
    page.goto(f"{live_server.url}/admin/")

    expect(
        page.get_by_text(
            "Set up two-factor authentication before you use the back office."
        )
    ).to_be_visible()
    # Signed in moments ago: not asked for the password again.
    expect(page).to_have_url(setup_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("set up two-factor authentication", re.I)
    )

    # The back office stays shut until an authenticator is set up...
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(setup_url)
    expect(page.locator("h1")).not_to_have_text(re.compile("site administration", re.I))

    # ...and opens once it is.
    secret = page.get_by_label("Secret key").input_value()
    page.get_by_label("Code from your authenticator app").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page).not_to_have_url(setup_url)
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("h1")).to_have_text(re.compile("site administration", re.I))


def test_staff_first_use_of_two_factor_lands_on_the_page_they_asked_for(
    live_server, page
):
    admin = UserFactory.create(email="bea.bookings@cpd.example", is_staff=True)
    admin.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    EmailAddress.objects.create(
        user=admin, email=admin.email, primary=True, verified=True
    )
    session = SessionFactory.create(course__title="Safeguarding level 3")
    register = f"{live_server.url}/staff/sessions/{session.pk}/"
    visited = []
    page.on(
        "framenavigated",
        lambda frame: visited.append(frame.url) if frame == page.main_frame else None,
    )

    # Asked for a register, they are sent to sign in first.
    page.goto(register)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Email address", exact=True).fill(admin.email)
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in", exact=True).click()
    signed_in_at = len(visited)

    # Then straight to setting up their authenticator: no second password.
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/totp/activate/")
    expect(
        page.get_by_text(
            "Set up two-factor authentication before you use the back office."
        )
    ).to_be_visible()
    secret = page.get_by_label("Secret key").input_value()
    page.get_by_label("Code from your authenticator app").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    # The recovery codes, with "Continue" as the one primary button.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.get_by_label("Unused codes")).not_to_be_empty()
    expect(page.get_by_role("button", name="Make new codes")).to_have_class(
        re.compile(r"\bgovuk-button--secondary\b")
    )
    page.get_by_role("button", name="Continue").click()

    # ...to the register they asked for, with the staff navigation.
    expect(page).to_have_url(register)
    expect(page.get_by_role("heading", level=1)).to_have_text("Safeguarding level 3")
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumbs.get_by_role("link", name="Staff home")).to_be_visible()
    after_sign_in = visited[signed_in_at:]
    assert not [u for u in after_sign_in if "/reauthenticate/" in u], after_sign_in
    assert not [u for u in after_sign_in if "/accounts/login/" in u], after_sign_in


def _sign_up_and_confirm(page, live_server, smtp_server, address: str) -> None:
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("First name").fill("Mary")
    page.get_by_label("Last name").fill("Somerville")
    page.get_by_label("Email address", exact=True).fill(address)
    page.get_by_label("Create a password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    message = email.message_from_bytes(
        smtp_server.envelopes[-1].content, policy=policy.default
    )
    page.goto(on_live_server(link_in(message), live_server.url))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confirm your email address"
    )
    page.get_by_role("button", name="Confirm").click()


def test_complete_your_profile_after_sign_up_can_wait_and_stays_until_done(
    live_server, page, smtp_server
):
    workplace = OrganisationFactory.create(name="Hillside Surgery")
    _sign_up_and_confirm(page, live_server, smtp_server, "mary@hillside.example")

    # Straight after confirming: the step, which can be left for later.
    expect(page).to_have_url(f"{live_server.url}/profile/complete/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Complete your profile")
    page.get_by_role(
        "link", name="I\N{RIGHT SINGLE QUOTATION MARK}ll do this later"
    ).click()
    expect(page).to_have_url(f"{live_server.url}/profile/")

    # The account page keeps it as a task until it is done…
    task = page.locator(".govuk-task-list__item")
    expect(task).to_have_count(1)
    expect(task.get_by_role("link", name="Complete your profile")).to_be_visible()
    expect(task.locator(".govuk-task-list__status")).to_have_text("Incomplete")

    # …and "My bookings" shows a banner that leads to it and back.
    page.get_by_role("link", name="My bookings").click()
    banner = page.locator(".govuk-notification-banner").filter(
        has_text="Tell us your workplace and job title"
    )
    expect(banner).to_be_visible()
    banner.get_by_role("link", name="Complete your profile").click()
    expect(page).to_have_url(f"{live_server.url}/profile/complete/?next=/bookings/")

    # Nothing given: each field says what to enter, linked from the summary.
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_title(re.compile("^Error: Complete your profile"))
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link", name="Enter your job title")).to_be_visible()
    summary.get_by_role("link", name="Enter your job title").click()
    expect(page.get_by_label("Job title")).to_be_focused()

    page.get_by_label("Workplace", exact=True).select_option(label=workplace.name)
    page.get_by_label("Job title").fill("Practice nurse")
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(f"{live_server.url}/bookings/")
    expect(page.get_by_text("Your profile is complete.")).to_be_visible()
    expect(page.get_by_text("Tell us your workplace and job title")).to_have_count(0)

    page.get_by_role("link", name="Your account").click()
    expect(page.locator(".govuk-task-list")).to_have_count(0)
    row = page.locator(".govuk-summary-list__row").filter(has_text="Job title")
    expect(row).to_contain_text("Practice nurse")


def test_finding_a_workplace_among_hundreds_with_the_keyboard(live_server, page):
    """Past 200 workplaces the form offers a search, not a drop-down: type
    part of the name, send the form, choose among those found (the workplace
    suggested from the email address is beside them), send it again."""
    from accounts.models import Organisation, Profile
    from tests.accounts.factories import verified_person

    Organisation.objects.bulk_create(
        Organisation(name=f"Greenfield School {i:03d}") for i in range(205)
    )
    Organisation.objects.create(name="St Mary's Surgery, York")
    Organisation.objects.create(name="St Mary's Primary, Leeds")
    Organisation.objects.create(name="Hillside Primary", email_domain="hillside.sch.uk")
    person = verified_person(email="kim@hillside.sch.uk")
    sign_in(page, live_server, person.email, "correct-horse-battery")
    page.goto(f"{live_server.url}/profile/complete/")
    expect(page.locator("select")).to_have_count(0)
    # The suggestion is ticked; the person works elsewhere.
    expect(page.get_by_label("Hillside Primary")).to_be_checked()

    search = page.get_by_label("Find your workplace", exact=True)
    search.focus()
    page.keyboard.type("mary's")
    page.get_by_label("Job title").fill("Practice nurse")
    page.get_by_label("Job title").press("Enter")  # sends the form
    expect(page).to_have_title(re.compile("^Error: Complete your profile"))
    summary = page.locator(".govuk-error-summary")
    summary.get_by_role(
        "link", name="Choose your workplace from those found, or search again"
    ).click()
    expect(search).to_be_focused()
    found = page.get_by_role("group", name="Your workplace")
    expect(found.get_by_role("radio")).to_have_count(4)  # 2 found, suggestion, none
    # Nothing is saved yet (not the suggestion either).
    assert Profile.objects.get(user=person).organisation is None

    surgery = found.get_by_label("St Mary's Surgery, York")
    surgery.focus()
    page.keyboard.press("Space")
    expect(surgery).to_be_checked()
    page.get_by_role("button", name="Save and continue").press("Enter")
    expect(page.get_by_text("Your profile is complete.")).to_be_visible()
    assert Profile.objects.get(user=person).organisation.name == (
        "St Mary's Surgery, York"
    )
