import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.test import Client

from marketing.models import Campaign
from privacy.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

from .factories import EMAIL, CampaignFactory, person


@pytest.fixture
def admin_client():
    # A superuser (the Marketing officers role is tested in test_measuring).
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(admin)
    client = Client()
    client.force_login(admin)
    return client


@pytest.mark.django_db
def test_the_campaign_page_shows_audience_and_contactable_counts(admin_client):
    person(consents=EMAIL)
    person()  # and the staff member signed in: three people
    campaign = CampaignFactory.create()
    page = admin_client.get(f"/admin/marketing/campaign/{campaign.pk}/change/")
    assert page.status_code == 200
    assert (
        "<strong>3</strong> people in the audience; <strong>1</strong> of them may be "
        "contacted by email" in page.content.decode()
    )


@pytest.mark.django_db
def test_a_partner_campaign_page_says_no_details_go_to_the_partner(admin_client):
    campaign = CampaignFactory.create(
        purpose="partner_marketing", partner_name="Westmoor College", channel="post"
    )
    page = admin_client.get(f"/admin/marketing/campaign/{campaign.pk}/change/")
    html = page.content.decode()
    assert "on behalf of <strong>Westmoor College</strong>" in html
    assert "Westmoor College never receives anyone's name, address" in html


@pytest.mark.django_db
def test_staff_compose_a_campaign_and_partner_offers_go_by_email_or_post(
    admin_client,
):
    data = {
        "name": "Spring offers",
        "purpose": "partner_marketing",
        "partner_name": "",
        "channel": "sms",
        "audience": "everyone",
        "subject": "Hello {name}",
        "body": "Hi",
        "job_titles": "",
        "areas": "",
    }
    page = admin_client.post("/admin/marketing/campaign/add/", data)
    errors = page.context["adminform"].form.errors
    assert "can only be sent by email, post" in errors["channel"][0]
    assert errors["partner_name"] == ["Name the partner this offer is for."]
    assert "Unknown placeholders: {name}" in errors["subject"][0]
    data.update(purpose="marketing", subject="Hello {first_name}")
    page = admin_client.post("/admin/marketing/campaign/add/", data)
    assert page.status_code == 302
    assert Campaign.objects.get().status == "draft"


@pytest.mark.django_db
def test_the_send_action_sends_through_the_service(
    admin_client, django_capture_on_commit_callbacks
):
    person(consents=EMAIL)
    campaign = CampaignFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/marketing/campaign/",
            {"action": "send_selected", ACTION_CHECKBOX_NAME: [campaign.pk]},
        )
    assert len(mail.outbox) == 1
    page = admin_client.get(f"/admin/marketing/campaign/{campaign.pk}/change/")
    assert "<tr><td>Sent</td><td>1</td></tr>" in page.content.decode()


@pytest.mark.django_db
def test_the_list_download_action_returns_a_csv_and_logs_it(admin_client):
    person(consents=[("marketing", "post")])
    campaign = CampaignFactory.create(channel="post")
    response = admin_client.post(
        "/admin/marketing/campaign/",
        {"action": "download_list", ACTION_CHECKBOX_NAME: [campaign.pk]},
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode("utf-8-sig").count("\n") == 2
    assert AuditEvent.objects.filter(action="marketing list exported").count() == 1
