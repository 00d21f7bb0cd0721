"""A private Redis (cache and broker) stopped and started under bookings."""

import time

import pytest
from allauth.account.models import EmailAddress
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.cache import cache
from django.test import Client

from bookings import tasks
from bookings.models import Booking, MailRecord
from config.celery import app as celery_app
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory

from .conftest import wait_for


@pytest.fixture
def app_on_private_redis(broker_on_private_redis, on_private_db, settings):
    """Cache and broker on the private Redis; tasks go through the broker."""
    private_redis = broker_on_private_redis
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ReusingRedisCache",
            "LOCATION": private_redis.url(0),
            "OPTIONS": {
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
                "RETRY_AFTER": 0.5,
            },
        }
    }
    return private_redis


def _learner():
    person = UserFactory.create()
    EmailAddress.objects.create(
        user=person, email=person.email, verified=True, primary=True
    )
    client = Client()
    client.force_login(person)
    return person, client


def test_bookings_succeed_with_redis_down_and_each_is_mailed_once_after(
    app_on_private_redis,
):
    redis_server = app_on_private_redis
    session = SessionFactory.create(capacity=3)
    learners = [_learner() for _ in range(4)]

    redis_server.stop()
    for _person, client in learners:
        response = client.post(f"/sessions/{session.pk}/book/")
        assert response.status_code == 302, response.content[:300]
        page = client.get("/bookings/")  # the page after booking opens
        assert page.status_code == 200
        assert session.course.title in page.content.decode()
    health = Client().get("/healthz")
    assert health.status_code == 503
    assert health.json()["checks"] == {
        "database": "ok",
        "cache": "error: ConnectionError",
        "broker": "error: OperationalError",
    }
    bookings = Booking.objects.filter(session=session)
    assert sorted(bookings.values_list("status", flat=True)) == [
        "confirmed",
        "confirmed",
        "confirmed",
        "waitlisted",
    ]
    records = MailRecord.objects.filter(booking__session=session)
    assert records.count() == 4
    assert set(records.values_list("status", flat=True)) == {"pending"}
    assert mail.outbox == []

    redis_server.start()
    time.sleep(0.6)  # the cache's pause after a failure
    cache.set("back", 1)
    assert cache.get("back") == 1
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ):
        tasks.send_pending_mail.delay(0)  # what beat runs every minute
        tasks.send_pending_mail.delay(0)  # at-least-once: it may come twice
        assert wait_for(
            lambda: set(records.values_list("status", flat=True)) == {"sent"}
        )
        time.sleep(1.0)  # let the duplicate sweep finish
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p, _ in learners)
    assert Client().get("/healthz").status_code == 200
