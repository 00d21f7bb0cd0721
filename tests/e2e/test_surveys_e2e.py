"""A survey as a person meets it: the email arrives through a real SMTP server
with a text and an HTML part, its measured link leads through our own site to
the survey, the person answers it with the keyboard, and the click is counted
only because they accepted analytics."""

import email
import re
from email import policy

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from consent.services import record_consent
from marketing import services as marketing
from marketing.models import Delivery
from surveys.models import Response
from tests.accounts.factories import UserFactory
from tests.marketing.factories import CampaignFactory
from tests.surveys.test_surveys import a_survey

pytestmark = pytest.mark.django_db(transaction=True)

FACTORY_PASSWORD = "correct-horse-battery"


def test_a_survey_by_real_mail_answered_with_the_keyboard(
    live_server, page, smtp_server, settings
):
    settings.SITE_URL = live_server.url
    person = UserFactory.create(first_name="Ada", email="ada@westmoor.example")
    EmailAddress.objects.create(
        user=person, email=person.email, primary=True, verified=True
    )
    record_consent(person, "surveys", "email", True, "preferences")
    record_consent(person, "analytics", "web", True, "cookie_banner")
    survey = a_survey()
    campaign = CampaignFactory.create(
        purpose="surveys", survey=survey, subject="Tell us", body="Hello {first_name}"
    )
    marketing.send_campaign(campaign)

    (envelope,) = smtp_server.envelopes
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hello Ada" in text
    assert "Hello Ada" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (link,) = re.findall(r'<a href="([^"]+/m/[^"]+/0/)"', html)
    assert "ada" not in link.lower().removeprefix(live_server.url.lower())

    page.goto(link)  # not signed in: through our link, then to sign in
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password", exact=True).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your training this year")
    assert Delivery.objects.get(campaign=campaign).clicked_at is not None

    # Submitting with nothing chosen: errors linked to their questions.
    page.get_by_role("button", name="Send answers").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose an answer to “Which suits you?”")
    summary.get_by_role("link", name="Choose an answer to “How useful was it?”").click()
    expect(page.get_by_label("1: Not at all")).to_be_focused()

    page.get_by_label("Evenings").focus()
    page.keyboard.press("Space")
    page.get_by_label("5: Very").focus()
    page.keyboard.press("Space")
    page.get_by_label("What should we add?").fill("More online sessions")
    page.get_by_role("button", name="Send answers").press("Enter")
    expect(page.get_by_text("Thank you: your answers have been sent.")).to_be_visible()
    expect(page.get_by_text("You answered on")).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text("More online sessions")
    assert sorted(
        a.value for a in Response.objects.get(person=person).answers.all()
    ) == ["5", "Evenings", "More online sessions"]
