"""Deliveries a dead worker left "sending" are repaired, never resent."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from marketing import services, tasks
from marketing.models import Campaign, Delivery

from .factories import EMAIL, CampaignFactory, person


def _campaign_cut_off_mid_batch():
    """Four people queued; a worker sent two, claimed two, then died."""
    people = [person(consents=EMAIL) for _ in range(4)]
    campaign = CampaignFactory.create(
        status=Campaign.Status.SENDING, recipients_queued=4, started_at=timezone.now()
    )
    long_ago = timezone.now() - dt.timedelta(minutes=30)
    for p, status in zip(people, ["sent", "sent", "sending", "sending"], strict=True):
        Delivery.objects.create(campaign=campaign, person=p, status=status)
    Delivery.objects.filter(campaign=campaign).update(created_at=long_ago)
    return campaign, people


@pytest.mark.django_db
def test_stale_sending_deliveries_become_interrupted_and_the_campaign_finishes():
    campaign, _people = _campaign_cut_off_mid_batch()
    assert services.finish_if_done(campaign.pk) is False  # stuck before the repair

    assert tasks.repair_stale_deliveries.delay().get() == 2

    statuses = sorted(
        Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    )
    assert statuses == ["interrupted", "interrupted", "sent", "sent"]
    campaign.refresh_from_db()
    assert campaign.status == "sent"
    assert campaign.finished_at is not None
    assert mail.outbox == []  # nobody is mailed again by the repair


@pytest.mark.django_db
def test_a_redelivered_batch_does_not_resend_to_interrupted_people(settings):
    settings.MARKETING_SEND_RATE_PER_SECOND = 0
    campaign, people = _campaign_cut_off_mid_batch()
    services.repair_stale_deliveries(older_than_seconds=60)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    outcome = services.send_batch(
        campaign.pk, [p.pk for p in people], rate_per_second=None
    )
    assert outcome == {"already": 4}
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_delivery_being_sent_now_is_left_alone():
    p = person(consents=EMAIL)
    campaign = CampaignFactory.create(status="sending", recipients_queued=1)
    Delivery.objects.create(campaign=campaign, person=p, status="sending")
    assert services.repair_stale_deliveries(older_than_seconds=600) == 0
    assert Delivery.objects.get(campaign=campaign).status == "sending"
    assert Campaign.objects.get(pk=campaign.pk).status == "sending"


def test_the_repair_is_scheduled_and_the_visibility_timeout_is_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["repair-stale-deliveries"]
    assert entry["task"] == "marketing.tasks.repair_stale_deliveries"
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert 60 <= timeout <= 1800
