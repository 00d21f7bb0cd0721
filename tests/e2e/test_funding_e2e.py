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
from tests.e2e.conftest import fill_date, totp_code
from tests.funding.factories import PDF

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


def task_status(page, key: str):
    return page.locator(f"#task-{key}-status")


def fill_course(page, start: dt.date) -> None:
    """On "Course, provider and cost": every answer, then Save and continue
    with the Enter key."""
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Course, provider and cost"
    )
    page.get_by_label("Course name").fill(COURSE)
    page.get_by_label("Provider not listed, for example a university").fill(
        "University of Westmoor"
    )
    fill_date(page, "Start date", start)
    cost = page.get_by_label("Cost in pounds")
    expect(page.locator(".govuk-input__prefix")).to_have_text("£")
    cost.fill("1200")
    cost.press("Enter")
    expect(page.get_by_text("Course, provider and cost: saved")).to_be_visible()


def answer_reason(page, reason: str) -> None:
    page.get_by_role("link", name="Why you want to do this course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "How will the course help you in your role?"
    )
    page.get_by_label("How will the course help you in your role?").fill(reason)
    page.get_by_role("button", name="Save and continue").click()


def name_manager(page) -> None:
    page.get_by_role("link", name="Your manager").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your manager")
    page.get_by_label("Your manager's name").fill("Maria Manager")
    page.get_by_label("Your manager's work email").fill(MANAGER)
    page.get_by_role("button", name="Save and continue").click()


def test_funding_task_list_from_start_to_submit(
    live_server, page, smtp_server, private_media, settings, tmp_path
):
    settings.MEDIA_ROOT = str(private_media)
    ada = verified("ada@westmoor-surgery.example", "Ada", last_name="Lovelace")
    start = dt.date.today() + dt.timedelta(days=45)  # noqa: DTZ011
    offer = tmp_path / "offer-letter.pdf"
    offer.write_bytes(PDF)

    sign_in(page, live_server, ada.email)
    page.get_by_role("link", name="Funding", exact=True).click()
    page.get_by_role("link", name="Request funding for a course").click()

    # The first page starts the draft; saving as a draft leaves for later.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Course, provider and cost"
    )
    page.get_by_label("Course name").fill(COURSE)
    page.get_by_role("button", name="Save as draft and come back later").click()
    expect(page.get_by_text("Your answers are saved")).to_be_visible()
    page.get_by_role("link", name=COURSE).click()

    # The task list: one section under way, the rest not started.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Request funding for a course"
    )
    expect(task_status(page, "course")).to_have_text("In progress")
    expect(task_status(page, "reason")).to_have_text("Not yet started")
    expect(task_status(page, "manager")).to_have_text("Not yet started")
    expect(task_status(page, "documents")).to_have_text("Not yet started")
    expect(task_status(page, "check")).to_have_text("Cannot start yet")
    expect(
        page.get_by_role("link", name="Check your answers and submit")
    ).to_have_count(0)

    # Save and continue asks for what is missing, beside the field.
    page.get_by_role("link", name="Course, provider and cost").click()
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    page.get_by_role("link", name="Enter the cost of the course").click()
    expect(page.get_by_label("Cost in pounds")).to_be_focused()
    fill_course(page, start)
    expect(task_status(page, "course")).to_have_text("Completed")

    answer_reason(page, "I will run the minor illness clinic.")
    expect(task_status(page, "reason")).to_have_text("Completed")
    name_manager(page)
    expect(task_status(page, "manager")).to_have_text("Completed")
    expect(task_status(page, "check")).to_have_text("Cannot start yet")

    # Supporting documents: upload one, then say the section is done.
    page.get_by_role("link", name="Supporting documents").click()
    page.get_by_role("link", name="Add a document").click()
    page.get_by_label("Upload a supporting document").set_input_files(str(offer))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("The document has been added.")).to_be_visible()
    expect(page.get_by_role("link", name="offer-letter.pdf")).to_be_visible()
    page.get_by_role("button", name="Save and continue").click()
    expect(task_status(page, "documents")).to_have_text("Completed")
    expect(page.locator("#progress")).to_have_text(
        "You have completed 4 of 4 sections."
    )
    expect(task_status(page, "check")).to_have_text("Not yet started")

    # Check answers; change one and come back to the check page.
    page.get_by_role("link", name="Check your answers and submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before submitting your request"
    )
    answers = page.locator(".govuk-summary-list")
    expect(answers.first).to_contain_text("£1,200")
    expect(answers.first).to_contain_text("University of Westmoor")
    page.get_by_role("link", name="Change how the course helps your role").click()
    reason = page.get_by_label("How will the course help you in your role?")
    expect(reason).to_have_value("I will run the minor illness clinic.")
    reason.fill("I will run the minor illness clinic and prescribe.")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before submitting your request"
    )
    expect(
        page.get_by_text("I will run the minor illness clinic and prescribe.")
    ).to_be_visible()

    page.get_by_role("button", name="Submit request").click()
    expect(
        page.get_by_text(
            "Your request has been submitted. We have emailed your manager."
        )
    ).to_be_visible()
    expect(page.locator("#status")).to_have_text("Waiting for manager's support")
    message = wait_for_mail(smtp_server, MANAGER, "asks for your support")
    assert COURSE in message["Subject"]
    funding_request = FundingRequest.objects.get(person=ada)
    assert funding_request.status == "awaiting_manager"
    assert funding_request.reason == (
        "I will run the minor illness clinic and prescribe."
    )
    assert funding_request.documents.count() == 1


def test_request_support_approval_timeline_and_completion(
    live_server, page, browser, smtp_server
):
    ada = verified("ada@westmoor-surgery.example", "Ada", last_name="Lovelace")
    officer = verified("olu@traininghub.example", "Olu", is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.FUNDING_OFFICERS))
    secret = generate_totp_secret()
    TOTP.activate(officer, secret)
    start = dt.date.today() + dt.timedelta(days=45)  # noqa: DTZ011

    # The learner drafts the request, then submits it as a separate step.
    sign_in(page, live_server, ada.email)
    page.get_by_role("link", name="Funding", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Funding")
    page.get_by_role("link", name="Request funding for a course").click()
    fill_course(page, start)
    answer_reason(page, "I will run the minor illness clinic and prescribe.")
    name_manager(page)
    page.get_by_role("link", name="Supporting documents").click()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("link", name="Check your answers and submit").click()
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
