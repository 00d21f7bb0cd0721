"""/readyz: ready only when the database, cache and broker answer and a
heartbeat (sent by beat, run by a worker) was seen lately; JSON either way."""

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.utils import timezone

from config.celery import HEARTBEAT_KEY, heartbeat
from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_workers(settings):
    """Tasks go to the broker, as in production (not run in-process)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.delete(HEARTBEAT_KEY)


def test_ready_in_the_embedded_mode_where_tasks_run_in_process(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "cache": "ok",
            "broker": "ok",
            "worker_and_beat": "ok (tasks run in-process)",
        },
    }


def test_not_ready_before_any_heartbeat(client, with_workers):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker_and_beat"] == (
        "error: no heartbeat seen; start the worker and beat"
    )
    # Liveness is another question: /healthz still answers 200.
    assert client.get("/healthz").status_code == 200


def test_ready_after_a_heartbeat_and_not_when_it_is_old(client, with_workers, settings):
    heartbeat()
    assert client.get("/readyz").status_code == 200
    old = timezone.now() - dt.timedelta(minutes=settings.READY_HEARTBEAT_MINUTES + 1)
    cache.set(HEARTBEAT_KEY, old.isoformat(), timeout=None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker_and_beat"].startswith(
        "error: last heartbeat at "
    )


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_running_the_beat_heartbeat_makes_it_ready(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    cache.delete(HEARTBEAT_KEY)
    assert "heartbeat" in settings.CELERY_BEAT_SCHEDULE
    assert settings.CELERY_BEAT_SCHEDULE["heartbeat"]["task"] == heartbeat.name
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ):
        heartbeat.delay()  # what beat sends every minute
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and client.get("/readyz").status_code != 200:
            time.sleep(0.2)
    assert client.get("/readyz").status_code == 200


def test_a_cache_outage_is_reported_as_json(client, with_workers, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("error: ")
