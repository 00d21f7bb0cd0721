"""A real Celery worker process SIGKILLed in the middle of a campaign batch."""

import os
import signal
from collections import Counter

import pytest
import redis
from django.db.models import Count

from marketing import services
from marketing.models import Campaign, Delivery
from tests.marketing.factories import EMAIL, CampaignFactory, person

from .conftest import Processes, wait_for, worker_env


@pytest.fixture
def workers(broker_on_private_redis, on_private_db, private_smtp, tmp_path):
    broker = broker_on_private_redis
    env = worker_env(
        database_url=on_private_db.url,
        broker_url=broker.url(1),
        cache_url=broker.url(0),
        smtp_port=private_smtp.port,
        MARKETING_SEND_RATE_PER_SECOND=10,
        CELERY_VISIBILITY_TIMEOUT_SECONDS=3,
        MARKETING_STALE_SENDING_SECONDS=1,
    )
    pool = Processes(env, tmp_path)
    pool.redis = broker
    yield pool
    pool.stop(timeout=15)


def test_a_batch_redelivered_after_sigkill_sends_to_the_rest_and_nobody_twice(
    workers, private_smtp
):
    people = [person(consents=EMAIL) for _ in range(12)]
    opted_out = people[8]
    services.unsubscribe(
        services.unsubscribe_token(opted_out, purpose="marketing", channel="email")
    )
    # The fifth message is held by the mail server while the worker is killed:
    # the server keeps it, the worker never learns (the undecidable case).
    private_smtp.pause_at, private_smtp.pause_seconds = 5, 3.0
    campaign = services.send_campaign(CampaignFactory.create())  # queued on Redis
    assert campaign.status == "sending"
    queued = redis.Redis(port=workers.redis.port, db=1).llen("celery")
    assert queued == 1

    first = workers.worker("worker0", "--without-heartbeat")
    assert wait_for(lambda: len(private_smtp.arrived) >= 5, timeout=60), workers.logs()
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    statuses = Counter(
        Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    )
    assert statuses == {"sent": 4, "sending": 1}
    assert Campaign.objects.get(pk=campaign.pk).status == "sending"

    # Another worker is given the dead worker's batch once the visibility
    # timeout (3 s here, 10 minutes by default) has passed.
    workers.worker("worker1", "--without-heartbeat")
    assert wait_for(
        lambda: Delivery.objects.filter(campaign=campaign).count() == 12, timeout=60
    ), workers.logs()
    # The periodic repair (run by the worker, as beat would) settles the row
    # left "sending" and the campaign finishes.
    from marketing import tasks

    tasks.repair_stale_deliveries.delay()
    assert wait_for(
        lambda: Campaign.objects.get(pk=campaign.pk).status == "sent", timeout=30
    )

    deliveries = dict(
        Delivery.objects.filter(campaign=campaign).values_list("person_id", "status")
    )
    interrupted = [pk for pk, status in deliveries.items() if status == "interrupted"]
    assert len(interrupted) == 1
    assert deliveries[opted_out.pk] == "skipped_no_consent"
    assert list(deliveries.values()).count("sent") == 10
    received = Counter(to[0] for to, _ in private_smtp.accepted)
    assert all(n == 1 for n in received.values())  # nobody twice
    assert opted_out.email not in received
    expected = {p.email for p in people if p.pk not in (opted_out.pk, *interrupted)}
    assert expected <= set(received)  # everyone else once
    assert (
        Delivery.objects.filter(campaign=campaign)
        .values("person")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
        == 0
    )
