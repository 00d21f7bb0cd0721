"""A kind of application added by staff in Django admin, with no code, and a
learner applying to it in the browser."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts import roles
from funding.models import Application

from .test_funding_e2e import sign_in, verified

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_add_a_type_and_a_learner_applies_to_it(live_server, page, browser):
    officer = verified("olu@traininghub.example", "Olu", is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.FUNDING_OFFICERS))
    secret = generate_totp_secret()
    TOTP.activate(officer, secret)
    ada = verified("ada@westmoor-surgery.example", "Ada", last_name="Lovelace")

    staff_context = browser.new_context()
    try:
        staff = staff_context.new_page()
        staff.set_default_timeout(15_000)
        sign_in(staff, live_server, officer.email, totp_secret=secret)
        staff.goto(f"{live_server.url}/admin/funding/applicationtype/add/")
        staff.locator("#id_name").fill("Leadership fellowship")
        # The admin fills the slug from the name when the name changes: let
        # it finish first, or its value lands in the middle of ours (a slug
        # of "leadership-fellowshipleadership-fellowship" failed a CI run).
        staff.locator("#id_name").dispatch_event("change")
        expect(staff.locator("#id_slug")).to_have_value("leadership-fellowship")
        staff.locator("#id_slug").fill("leadership-fellowship")
        staff.locator("#id_summary").fill("A year of leadership learning.")
        staff.locator("#id_subject_label").fill("Which cohort do you want to join?")
        staff.locator("#id_statement_label").fill(
            "Why do you want to join the fellowship?"
        )
        staff.locator("#id_needs_manager").uncheck()
        staff.locator("#id_is_open").check()
        staff.locator("input[name=_save]").click()
        expect(staff.locator(".messagelist")).to_contain_text("was added successfully")
    finally:
        staff_context.close()

    sign_in(page, live_server, ada.email)
    page.goto(f"{live_server.url}/applications/")
    page.get_by_role("link", name="Apply: Leadership fellowship").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leadership fellowship")
    expect(page.get_by_label("Your manager's name")).to_have_count(0)
    page.get_by_role("button", name="Save and continue").click()
    assert page.title().startswith("Error: ")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter what you are applying for"
    )
    page.get_by_label("Which cohort do you want to join?").fill("Spring 2027")
    page.get_by_label("Your employer or workplace").fill("Westmoor Surgery")
    page.get_by_label("Why do you want to join the fellowship?").fill(
        "I lead the reception team."
    )
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Your application is saved")).to_be_visible()
    page.get_by_role("button", name="Submit application").click()
    expect(page.get_by_text("Your application has been submitted.")).to_be_visible()
    expect(page.locator(".govuk-tag").first).to_have_text("Submitted")

    application = Application.objects.get(person=ada)
    assert (application.type.name, application.status, application.programme) == (
        "Leadership fellowship",
        "submitted",
        "Spring 2027",
    )
