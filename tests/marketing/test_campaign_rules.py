"""The rules of sending, scheduling and stopping a campaign as staff meet them:
the exact refusal shown for a campaign that cannot go, what is stored when it
starts or stops, and which campaigns the periodic job starts or queues again."""

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from marketing import services, tasks
from marketing.models import Campaign, Delivery

from .factories import EMAIL, CampaignFactory, person


class Clock:
    """Holds django.utils.timezone.now still (freezegun is not a dependency)."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)


def refusal(campaign):
    with pytest.raises(services.MarketingError) as refused:
        services.send_campaign(campaign)
    return str(refused.value)


# --- what may be sent -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"purpose": "partner_marketing", "channel": "sms"},
            "That purpose cannot use that channel.",
        ),
        # A purpose this version does not know (an old row) is refused, not a crash.
        (
            {"purpose": "newsletter", "channel": "email"},
            "That purpose cannot use that channel.",
        ),
        (
            {"channel": "phone"},
            "Telephone and postal campaigns are not sent: download the list of "
            "people who may be contacted instead.",
        ),
        (
            {"channel": "post"},
            "Telephone and postal campaigns are not sent: download the list of "
            "people who may be contacted instead.",
        ),
        ({"channel": "email", "subject": "   "}, "An email campaign needs a subject."),
        (
            {"subject": "News for {name}", "body": "Hello {first_name} in {town}"},
            "Unknown placeholders: name, town",
        ),
    ],
    ids=[
        "partner offers by email",
        "unknown purpose",
        "telephone",
        "post",
        "email without subject",
        "unknown placeholders in subject and body",
    ],
)
def test_a_campaign_that_cannot_be_sent_says_why_and_stays_a_draft(fields, message):
    person(consents=EMAIL)
    campaign = CampaignFactory.create(**fields)
    assert refusal(campaign) == message
    campaign.refresh_from_db()
    assert (campaign.status, campaign.started_at) == ("draft", None)
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_text_message_needs_no_subject(django_capture_on_commit_callbacks):
    person(consents=[("marketing", "sms")], phone="07700 900123")
    campaign = CampaignFactory.create(channel="sms", subject="", body="Hi")
    with django_capture_on_commit_callbacks(execute=True):
        services.send_campaign(campaign)
    assert [m.to for m in services.sms.outbox] == ["07700 900123"]
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["sending", "sent", "stopped"])
def test_a_campaign_already_under_way_cannot_be_sent_again(status):
    campaign = CampaignFactory.create(name="Spring offers", status=status)
    assert refusal(campaign) == "“Spring offers” has already been sent or stopped."
    assert Campaign.objects.get(pk=campaign.pk).status == status


# --- starting ---------------------------------------------------------------------


@pytest.mark.django_db
def test_sending_now_records_the_start_and_queues_the_audience(
    django_capture_on_commit_callbacks,
):
    people = [person(consents=EMAIL) for _ in range(2)]
    campaign = CampaignFactory.create()
    before = timezone.now()
    with django_capture_on_commit_callbacks() as queued:
        returned = services.send_campaign(campaign)
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (returned.status, stored.status) == ("sending", "sending")
    assert before <= stored.started_at <= timezone.now()
    assert returned.started_at == stored.started_at
    assert mail.outbox == []  # nothing leaves before the commit
    assert len(queued) == 1

    queued[0]()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    stored.refresh_from_db()
    assert (stored.status, stored.recipients_queued) == ("sent", 2)


@pytest.mark.django_db
def test_a_campaign_whose_time_is_now_goes_at_once(
    monkeypatch, django_capture_on_commit_callbacks
):
    clock = Clock(monkeypatch)
    person(consents=EMAIL)
    campaign = CampaignFactory.create(send_at=clock.now)
    with django_capture_on_commit_callbacks(execute=True):
        returned = services.send_campaign(campaign)
    assert returned.status == "sending"
    assert len(mail.outbox) == 1
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.status, stored.started_at) == ("sent", clock.now)


@pytest.mark.django_db
def test_a_future_campaign_is_stored_as_scheduled_and_nothing_is_queued(
    django_capture_on_commit_callbacks,
):
    person(consents=EMAIL)
    campaign = CampaignFactory.create(send_at=timezone.now() + dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True) as queued:
        returned = services.send_campaign(campaign)
    assert returned.status == "scheduled"
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.status, stored.started_at) == ("scheduled", None)
    assert queued == []
    assert mail.outbox == []


@pytest.mark.django_db
def test_with_the_broker_down_the_campaign_still_starts_and_is_queued_later(
    monkeypatch, django_capture_on_commit_callbacks
):
    person(consents=EMAIL)
    campaign = CampaignFactory.create()

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis. Connection refused.")

    with monkeypatch.context() as patched:
        patched.setattr(tasks.queue_campaign, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            returned = services.send_campaign(campaign)
    assert returned.status == "sending"
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.status, stored.recipients_queued) == ("sending", None)
    assert mail.outbox == []

    # The periodic job finds it unqueued after five minutes and queues it.
    Campaign.objects.filter(pk=campaign.pk).update(
        started_at=timezone.now() - dt.timedelta(minutes=6)
    )
    services.start_due_campaigns()
    assert len(mail.outbox) == 1
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"


# --- the periodic job -------------------------------------------------------------


@pytest.mark.django_db
def test_the_periodic_job_starts_every_due_campaign_and_only_those(
    monkeypatch, django_capture_on_commit_callbacks
):
    clock = Clock(monkeypatch)
    ada = person(consents=EMAIL)
    due = [
        CampaignFactory.create(
            status="scheduled", send_at=clock.now - dt.timedelta(minutes=m)
        )
        for m in (0, 10)
    ]
    later = CampaignFactory.create(
        status="scheduled", send_at=clock.now + dt.timedelta(minutes=1)
    )
    draft = CampaignFactory.create(send_at=clock.now - dt.timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.start_due_campaigns() == 2

    for campaign in due:
        campaign.refresh_from_db()
        assert (campaign.status, campaign.started_at) == ("sent", clock.now)
    for campaign, status in ((later, "scheduled"), (draft, "draft")):
        campaign.refresh_from_db()
        assert (campaign.status, campaign.started_at) == (status, None)
    assert sorted(m.extra_headers["X-CPD-Campaign"] for m in mail.outbox) == sorted(
        str(c.pk) for c in due
    )
    assert {m.to[0] for m in mail.outbox} == {ada.email}


@pytest.mark.django_db
def test_the_periodic_job_queues_again_only_campaigns_started_five_minutes_ago_and_never_queued(
    monkeypatch,
):
    clock = Clock(monkeypatch)
    ada = person(consents=EMAIL)

    def sending(seconds_ago, **fields):
        return CampaignFactory.create(
            status=fields.pop("status", "sending"),
            started_at=clock.now - dt.timedelta(seconds=seconds_ago),
            **fields,
        )

    stuck = sending(300.5)
    recent = sending(299.5)  # its queueing task may still be on its way
    queued = sending(3600, recipients_queued=0)
    stopped = sending(3600, status="stopped")  # stopped before it was queued
    put_on_the_queue = []
    queue = tasks.queue_campaign.delay
    monkeypatch.setattr(
        tasks.queue_campaign,
        "delay",
        lambda campaign_id: put_on_the_queue.append(campaign_id) or queue(campaign_id),
    )

    assert services.start_due_campaigns() == 0  # nothing was scheduled

    assert put_on_the_queue == [stuck.pk]

    assert [m.to for m in mail.outbox] == [[ada.email]]
    assert mail.outbox[0].extra_headers["X-CPD-Campaign"] == str(stuck.pk)
    stuck.refresh_from_db()
    assert (stuck.status, stuck.recipients_queued) == ("sent", 1)
    for campaign, status in ((recent, "sending"), (queued, "sending")):
        assert Campaign.objects.get(pk=campaign.pk).status == status
    assert Campaign.objects.get(pk=stopped.pk).status == "stopped"
    assert list(Delivery.objects.values_list("campaign_id", flat=True)) == [stuck.pk]


@pytest.mark.django_db(transaction=True)
def test_a_campaign_another_worker_is_starting_is_skipped_not_waited_for():
    person(consents=EMAIL)
    campaign = CampaignFactory.create(
        status="scheduled", send_at=timezone.now() - dt.timedelta(minutes=1)
    )
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                Campaign.objects.select_for_update().get(pk=campaign.pk)
                locked.set()
                release.wait(timeout=5)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(timeout=5)
        assert services.start_due_campaigns() == 0
        assert Campaign.objects.get(pk=campaign.pk).status == "scheduled"
    finally:
        release.set()
        thread.join()
    assert mail.outbox == []


class StopsAnotherCampaignBackend:
    """Staff stop a scheduled campaign while the first message of another goes."""

    campaign_id = None

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self.inner = EmailBackend(*args, **kwargs)

    def open(self):
        return True

    def close(self):
        return None

    def send_messages(self, messages):
        if self.campaign_id is not None:
            services.stop_campaign(Campaign.objects.get(pk=self.campaign_id))
            type(self).campaign_id = None
        return self.inner.send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_a_campaign_stopped_while_the_periodic_job_runs_is_not_started(settings):
    settings.EMAIL_BACKEND = f"{__name__}.StopsAnotherCampaignBackend"
    person(consents=EMAIL)
    a_minute_ago = timezone.now() - dt.timedelta(minutes=1)
    stopped_meanwhile = CampaignFactory.create(status="scheduled", send_at=a_minute_ago)
    started = CampaignFactory.create(status="scheduled", send_at=a_minute_ago)
    StopsAnotherCampaignBackend.campaign_id = stopped_meanwhile.pk

    assert services.start_due_campaigns() == 1

    assert Campaign.objects.get(pk=started.pk).status == "sent"
    stopped_meanwhile.refresh_from_db()
    assert (stopped_meanwhile.status, stopped_meanwhile.started_at) == ("stopped", None)
    assert [m.extra_headers["X-CPD-Campaign"] for m in mail.outbox] == [str(started.pk)]


# --- stopping ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["scheduled", "sending"])
def test_stopping_records_when_and_leaves_other_campaigns_alone(status):
    campaign = CampaignFactory.create(status=status)
    other = CampaignFactory.create(status=status)
    before = timezone.now()
    returned = services.stop_campaign(campaign)
    assert returned.status == "stopped"
    assert before <= returned.finished_at <= timezone.now()
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.status, stored.finished_at) == ("stopped", returned.finished_at)
    other.refresh_from_db()
    assert (other.status, other.finished_at) == (status, None)


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["draft", "sent", "stopped"])
def test_only_a_scheduled_or_sending_campaign_can_be_stopped(status):
    campaign = CampaignFactory.create(name="Spring offers", status=status)
    with pytest.raises(services.MarketingError) as refused:
        services.stop_campaign(campaign)
    assert str(refused.value) == "“Spring offers” is not scheduled or sending."
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.status, stored.finished_at) == (status, None)
