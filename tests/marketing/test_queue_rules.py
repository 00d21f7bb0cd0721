"""The rules of queueing a campaign and of finishing it: the audience goes onto
the queue in batches of MARKETING_BATCH_SIZE with the count stored, a campaign
finishes when every queued person has an outcome (and no other campaign does),
and deliveries a dead worker left behind are recorded as interrupted."""

import datetime as dt
import logging

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from marketing import services, tasks
from marketing.models import Campaign, Delivery

from .factories import EMAIL, CampaignFactory, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_batches(monkeypatch):
    """What goes onto the broker: (campaign id, person ids) per batch task."""
    batches = []
    send_batch = tasks.send_campaign_batch.delay

    def record(campaign_id, person_ids):
        batches.append((campaign_id, list(person_ids)))
        return send_batch(campaign_id, person_ids)

    monkeypatch.setattr(tasks.send_campaign_batch, "delay", record)
    return batches


def sending(**fields):
    return CampaignFactory.create(status="sending", started_at=timezone.now(), **fields)


def test_the_audience_is_queued_in_batches_of_the_batch_size(queued_batches):
    people = [person(consents=EMAIL) for _ in range(7)]
    campaign = sending()

    assert services.queue_campaign(campaign.pk, batch_size=3) == 7

    assert [c for c, _ in queued_batches] == [campaign.pk] * 3
    assert [len(ids) for _, ids in queued_batches] == [3, 3, 1]
    assert sorted(i for _, ids in queued_batches for i in ids) == sorted(
        p.pk for p in people
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.recipients_queued) == ("sent", 7)
    assert len(mail.outbox) == 7


def test_an_audience_that_fills_its_batches_exactly_leaves_no_empty_batch(
    queued_batches,
):
    [person(consents=EMAIL) for _ in range(6)]
    campaign = sending()
    assert services.queue_campaign(campaign.pk, batch_size=3) == 6
    assert [len(ids) for _, ids in queued_batches] == [3, 3]
    assert Campaign.objects.get(pk=campaign.pk).recipients_queued == 6


def test_a_campaign_to_nobody_finishes_at_once(queued_batches):
    campaign = sending(audience="chosen", job_titles="Astronaut")
    person(job_title="Teacher")
    assert services.queue_campaign(campaign.pk, batch_size=3) == 0
    assert queued_batches == []
    campaign.refresh_from_db()
    assert (campaign.status, campaign.recipients_queued) == ("sent", 0)
    assert campaign.finished_at is not None


@pytest.mark.parametrize("status", ["draft", "scheduled", "sent", "stopped"])
def test_only_a_sending_campaign_is_queued(status, queued_batches):
    person(consents=EMAIL)
    campaign = CampaignFactory.create(status=status)
    other = sending()
    assert services.queue_campaign(campaign.pk, batch_size=3) == 0
    assert queued_batches == []
    campaign.refresh_from_db()
    assert (campaign.status, campaign.recipients_queued) == (status, None)
    assert Campaign.objects.get(pk=other.pk).recipients_queued is None


def test_a_campaign_finishes_only_when_every_queued_person_has_an_outcome():
    people = [person(consents=EMAIL) for _ in range(2)]
    campaign = sending(recipients_queued=2)
    other = sending(recipients_queued=1)
    Delivery.objects.create(campaign=campaign, person=people[0], status="sent")
    Delivery.objects.create(campaign=other, person=people[0], status="sent")
    Delivery.objects.create(campaign=campaign, person=people[1], status="sending")

    assert services.finish_if_done(campaign.pk) is False
    assert Campaign.objects.get(pk=campaign.pk).status == "sending"

    Delivery.objects.filter(campaign=campaign, person=people[1]).update(status="failed")
    before = timezone.now()
    assert services.finish_if_done(campaign.pk) is True
    campaign.refresh_from_db()
    assert campaign.status == "sent"
    assert before <= campaign.finished_at <= timezone.now()
    assert services.finish_if_done(campaign.pk) is False  # already finished


def test_a_campaign_not_yet_queued_or_stopped_is_not_finished():
    unqueued = sending()
    stopped = CampaignFactory.create(status="stopped", recipients_queued=0)
    assert services.finish_if_done(unqueued.pk) is False
    assert services.finish_if_done(stopped.pk) is False
    assert Campaign.objects.get(pk=unqueued.pk).status == "sending"
    assert Campaign.objects.get(pk=stopped.pk).status == "stopped"


def test_finishing_one_campaign_leaves_another_sending():
    p = person(consents=EMAIL)
    done = sending(recipients_queued=1)
    busy = sending(recipients_queued=5)
    Delivery.objects.create(campaign=done, person=p, status="sent")
    assert services.finish_if_done(done.pk) is True
    busy.refresh_from_db()
    assert (busy.status, busy.finished_at) == ("sending", None)


def test_a_campaign_stopped_just_as_its_last_outcome_is_counted_stays_stopped():
    p = person(consents=EMAIL)
    campaign = sending(recipients_queued=1)
    Delivery.objects.create(campaign=campaign, person=p, status="sent")
    stopped = []

    def staff_stop_meanwhile(execute, sql, params, many, context):
        if not stopped and 'FROM "marketing_delivery"' in sql:
            stopped.append(sql)
            services.stop_campaign(campaign)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(staff_stop_meanwhile):
        assert services.finish_if_done(campaign.pk) is False

    assert stopped
    assert Campaign.objects.get(pk=campaign.pk).status == "stopped"


def test_interrupted_deliveries_say_why_and_the_repair_is_logged(caplog):
    people = [person(consents=EMAIL) for _ in range(3)]
    campaign = sending(recipients_queued=3)
    for p, status in zip(people, ["sending", "sending", "sent"], strict=True):
        Delivery.objects.create(campaign=campaign, person=p, status=status)
    Delivery.objects.update(created_at=timezone.now() - dt.timedelta(minutes=11))
    fresh = sending(recipients_queued=1)
    Delivery.objects.create(campaign=fresh, person=people[0], status="sending")

    with caplog.at_level(logging.WARNING, logger="marketing.services"):
        assert services.repair_stale_deliveries(older_than_seconds=600) == 2

    assert sorted(
        Delivery.objects.filter(campaign=campaign).values_list("status", "error")
    ) == [
        ("interrupted", "The worker stopped while sending; not resent."),
        ("interrupted", "The worker stopped while sending; not resent."),
        ("sent", ""),
    ]
    assert Delivery.objects.get(campaign=fresh).status == "sending"
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"
    assert Campaign.objects.get(pk=fresh.pk).status == "sending"
    assert [r.getMessage() for r in caplog.records] == [
        "Marked 2 interrupted campaign deliveries"
    ]


def test_a_repair_with_nothing_to_do_logs_nothing(caplog):
    with caplog.at_level(logging.WARNING, logger="marketing.services"):
        assert services.repair_stale_deliveries(older_than_seconds=600) == 0
    assert caplog.records == []
