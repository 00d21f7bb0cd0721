"""The rules of downloading a call or mailing list as staff meet them: the exact
refusal for a campaign that has no list, the columns of each list, and what is
stored and logged when a list is downloaded."""

import csv
import io

import pytest
from django.utils import timezone

from marketing import services
from marketing.models import Campaign
from privacy.models import AuditEvent
from tests.accounts.factories import UserFactory

from .factories import CampaignFactory, person

pytestmark = pytest.mark.django_db


def rows(content):
    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"channel": "email"},
            "Only telephone and postal campaigns produce a list to download.",
        ),
        (
            {"channel": "sms"},
            "Only telephone and postal campaigns produce a list to download.",
        ),
        (
            {"purpose": "partner_marketing", "channel": "phone"},
            "That purpose cannot use that channel.",
        ),
        # A purpose this version does not know (an old row) is refused, not a crash.
        (
            {"purpose": "newsletter", "channel": "post"},
            "That purpose cannot use that channel.",
        ),
        ({"channel": "phone", "status": "stopped"}, "This campaign was stopped."),
    ],
    ids=["email", "text", "partner offers by phone", "unknown purpose", "stopped"],
)
def test_a_list_that_cannot_be_downloaded_says_why_and_nothing_is_logged(
    fields, message
):
    staff = UserFactory.create(is_staff=True)
    person(consents=[("marketing", "phone"), ("marketing", "post")], phone="0770")
    campaign = CampaignFactory.create(**fields)
    with pytest.raises(services.MarketingError) as refused:
        services.export_contact_list(campaign, by=staff)
    assert str(refused.value) == message
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.list_exported_at, stored.list_exported_count) == (None, None)
    assert not AuditEvent.objects.filter(action="marketing list exported").exists()


@pytest.mark.parametrize("status", ["draft", "scheduled", "sent"])
def test_a_list_can_be_downloaded_until_the_campaign_is_stopped(status):
    staff = UserFactory.create(is_staff=True)
    ada = person(consents=[("marketing", "phone")], phone="07700 900001")
    campaign = CampaignFactory.create(channel="phone", status=status)
    assert rows(services.export_contact_list(campaign, by=staff)) == [
        ["First name", "Last name", "Phone"],
        [ada.first_name, ada.last_name, "07700 900001"],
    ]


def test_the_mailing_list_has_the_postal_address_and_its_download_is_recorded():
    staff = UserFactory.create(is_staff=True)
    people = [person(consents=[("marketing", "post")]) for _ in range(2)]
    person(consents=[("marketing", "phone")])  # a call, not a letter
    campaign = CampaignFactory.create(channel="post")
    before = timezone.now()

    content = services.export_contact_list(campaign, by=staff)

    address = ["1 High Street", "", "Westmoor", "WM1 1AA"]
    assert sorted(rows(content)[1:]) == sorted(
        [p.first_name, p.last_name, *address] for p in people
    )
    assert rows(content)[0] == [
        "First name",
        "Last name",
        "Address line 1",
        "Address line 2",
        "Town",
        "Postcode",
    ]
    campaign.refresh_from_db()
    assert before <= campaign.list_exported_at <= timezone.now()
    assert campaign.list_exported_count == 2
    event = AuditEvent.objects.get(action="marketing list exported")
    assert (event.actor, event.subject, event.detail) == (
        staff,
        "",
        f"campaign:{campaign.pk} post list, 2 people, purpose marketing",
    )


def test_an_empty_list_is_still_recorded_with_no_one_on_it():
    staff = UserFactory.create(is_staff=True)
    person()  # agreed to nothing
    campaign = CampaignFactory.create(channel="phone")
    assert rows(services.export_contact_list(campaign, by=staff)) == [
        ["First name", "Last name", "Phone"]
    ]
    campaign.refresh_from_db()
    assert campaign.list_exported_count == 0
    assert campaign.list_exported_at is not None
    assert AuditEvent.objects.get(action="marketing list exported").detail == (
        f"campaign:{campaign.pk} phone list, 0 people, purpose marketing"
    )
