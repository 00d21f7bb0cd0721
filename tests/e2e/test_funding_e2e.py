"""Funding a course outside the catalogue, as people do it in a browser: the
learner submits a request, the manager supports it through the emailed link
(no account), a funding officer approves it, and the learner sees the timeline
and records completion. Mail goes over a real SMTP server."""

import datetime as dt
import email
import re
import time
from email import policy

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts import roles
from funding.models import FundingRequest
from tests.accounts.factories import UserFactory
from tests.e2e.conftest import totp_code

pytestmark = pytest.mark.django_db(transaction=True)

FACTORY_PASSWORD = "correct-horse-battery"
MANAGER = "maria.manager@westmoor-surgery.example"
COURSE = "Non-Medical Prescribing (V300)"


def verified(address: str, first_name: str, **extra):
    user = UserFactory.create(email=address, first_name=first_name, **extra)
    EmailAddress.objects.create(user=user, email=address, primary=True, verified=True)
    return user


def sign_in(page, live_server, address: str, *, totp_secret: str | None = None):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if totp_secret:
        page.locator('input[name="code"]').fill(totp_code(totp_secret))
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()


def wait_for_mail(smtp_server, to: str, subject_part: str, *, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while True:
        for envelope in list(smtp_server.envelopes):
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            if envelope.rcpt_tos == [to] and subject_part in message["Subject"]:
                return message
        if time.monotonic() > deadline:
            seen = [
                (e.rcpt_tos, email.message_from_bytes(e.content)["Subject"])
                for e in smtp_server.envelopes
            ]
            raise AssertionError(f"no mail {subject_part!r} to {to}; got {seen}")
        time.sleep(0.1)


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_request_support_approval_timeline_and_completion(
    live_server, page, browser, smtp_server
):
    ada = verified("ada@westmoor-surgery.example", "Ada", last_name="Lovelace")
    officer = verified("olu@traininghub.example", "Olu", is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.FUNDING_OFFICERS))
    secret = generate_totp_secret()
    TOTP.activate(officer, secret)
    start = (dt.date.today() + dt.timedelta(days=45)).isoformat()  # noqa: DTZ011

    # The learner drafts the request, then submits it as a separate step.
    sign_in(page, live_server, ada.email)
    page.get_by_role("link", name="Funding", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Funding")
    page.get_by_role("link", name="Request funding for a course").click()
    page.get_by_label("Course name").fill(COURSE)
    page.get_by_label("Provider not listed, for example a university").fill(
        "University of Westmoor"
    )
    page.get_by_label("Cost in pounds").fill("1200")
    page.get_by_label("Start date").fill(start)
    page.get_by_label("How will the course help you in your role?").fill(
        "I will run the minor illness clinic and prescribe."
    )
    page.get_by_label("Your manager's name").fill("Maria Manager")
    page.get_by_label("Your manager's work email").fill(MANAGER)
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Your request is saved")).to_be_visible()
    expect(page.locator("#status")).to_have_text("Draft")
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#status")).to_have_text("Waiting for manager's support")
    request_url = page.url

    # The manager opens the emailed link, with no account, and supports it.
    message = wait_for_mail(smtp_server, MANAGER, "asks for your support")
    assert "Ada Lovelace" in message["Subject"]
    link = re.search(r"http\S+/funding/support/[\w-]+/", body_of(message)).group(0)
    link = link.replace("http://testserver", live_server.url)
    manager_context = browser.new_context()
    try:
        manager = manager_context.new_page()
        manager.set_default_timeout(15_000)
        manager.goto(link)
        expect(manager.get_by_role("heading", level=1)).to_have_text(
            "Ada Lovelace asks for your support"
        )
        expect(manager.get_by_text(COURSE)).to_be_visible()
        manager.get_by_label("Yes, I support it").check()
        manager.get_by_label("Your statement").fill(
            "Ada leads our minor illness work; prescribing will free GP time."
        )
        manager.get_by_role("button", name="Send your answer").click()
        expect(manager.get_by_text("Thank you")).to_be_visible()
        # The link works once.
        manager.goto(link)
        expect(manager.get_by_text("already been used")).to_be_visible()
    finally:
        manager_context.close()
    wait_for_mail(smtp_server, ada.email, "Being reviewed")

    # A funding officer approves less than asked, with a condition.
    officer_context = browser.new_context()
    try:
        staff = officer_context.new_page()
        staff.set_default_timeout(15_000)
        sign_in(staff, live_server, officer.email, totp_secret=secret)
        staff.goto(f"{live_server.url}/staff/funding/")
        expect(staff.get_by_role("heading", level=1)).to_have_text("Funding requests")
        staff.get_by_role("link", name=COURSE).click()
        expect(staff.get_by_text("supported", exact=True)).to_be_visible()
        expect(
            staff.get_by_text("Ada leads our minor illness work").first
        ).to_be_visible()
        staff.get_by_label("Approve", exact=True).check()
        staff.get_by_label("Amount approved in pounds").fill("950")
        staff.get_by_label("Conditions, reason or the information you need").fill(
            "Share what you learn at a practice meeting."
        )
        staff.get_by_role("button", name="Save decision").click()
        expect(staff.get_by_text("Decision saved")).to_be_visible()
    finally:
        officer_context.close()
    approved_mail = wait_for_mail(smtp_server, ada.email, "Approved")
    assert "£950.00" in body_of(approved_mail)

    # The learner sees the timeline and records completion.
    page.goto(request_url)
    expect(page.locator("#status")).to_have_text("Approved")
    timeline = page.locator(".app-timeline")
    for step in ("Waiting for manager's support", "Being reviewed", "Approved"):
        expect(timeline.get_by_role("heading", name=step)).to_be_visible()
    expect(timeline).to_contain_text("Maria Manager (your manager)")
    expect(timeline).to_contain_text("Share what you learn at a practice meeting.")
    page.get_by_role("link", name="Record your progress").click()
    page.get_by_label("Completed").check()
    page.get_by_role("button", name="Save progress").click()
    expect(page.get_by_text("Your progress has been recorded.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Completed$"))).to_be_visible()

    funding_request = FundingRequest.objects.get(person=ada)
    assert funding_request.status == "approved"
    assert funding_request.amount_approved == 950
    assert funding_request.progress_updates.get().stage == "completed"
