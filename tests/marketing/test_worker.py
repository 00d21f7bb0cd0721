"""Campaign sending through a real Celery worker on the Redis broker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from marketing import services, tasks
from marketing.models import Campaign, Delivery
from tests.bookings.test_mail_delivery import real_broker, wait_for  # noqa: F401

from .factories import EMAIL, CampaignFactory, person


@pytest.mark.django_db(transaction=True)
def test_an_opt_out_between_queueing_and_sending_is_honoured(real_broker, settings):  # noqa: F811
    real_broker.control.purge()
    settings.MARKETING_SEND_RATE_PER_SECOND = 10
    people = [person(consents=EMAIL) for _ in range(8)]
    early, late = people[1], people[-1]
    campaign = services.send_campaign(CampaignFactory.create())  # queued on Redis
    assert campaign.status == "sending"

    # Opts out after the campaign was queued, before any worker picked it up.
    services.unsubscribe(
        services.unsubscribe_token(early, purpose="marketing", channel="email")
    )
    with start_worker(
        real_broker, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ):
        assert wait_for(lambda: len(mail.outbox) >= 1)
        # Opts out while the worker is sending (at 10 a second, before their turn).
        services.unsubscribe(
            services.unsubscribe_token(late, purpose="marketing", channel="email")
        )
        # At-least-once delivery: a batch arrives again.
        tasks.send_campaign_batch.delay(campaign.pk, [p.pk for p in people])
        assert wait_for(
            lambda: Campaign.objects.get(pk=campaign.pk).status == "sent", timeout=30
        )
        time.sleep(0.5)  # let the duplicate finish

    sent_to = sorted(m.to[0] for m in mail.outbox)
    expected = sorted(p.email for p in people if p not in (early, late))
    assert sent_to == expected  # each once
    statuses = dict(
        Delivery.objects.filter(campaign=campaign).values_list("person", "status")
    )
    assert statuses[early.pk] == statuses[late.pk] == "skipped_no_consent"
    assert list(statuses.values()).count("sent") == 6
