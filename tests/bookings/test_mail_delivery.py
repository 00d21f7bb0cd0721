"""Mail delivery through a real Celery worker on the Redis broker."""

import time

import pytest
from allauth.account.models import EmailAddress
from celery.contrib.testing.worker import start_worker
from django.core import mail

from bookings import services, tasks
from bookings.models import MailRecord
from config.celery import app as celery_app
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory


def _reset_producer_pool():
    # Forget pooled broker connections so the next publish uses the current URL.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def real_broker(settings):
    celery_app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    original = celery_app.conf.broker_url
    yield celery_app
    celery_app.conf.broker_url = original
    _reset_producer_pool()


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def person():
    p = UserFactory.create()
    EmailAddress.objects.create(user=p, email=p.email, verified=True, primary=True)
    return p


@pytest.mark.django_db(transaction=True)
def test_a_duplicated_confirmation_task_sends_one_mail(real_broker):
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ):
        booking = services.book_session(person(), SessionFactory.create())
        record = MailRecord.objects.get(booking=booking)
        # At-least-once delivery: the same task arrives again.
        tasks.send_booking_mail.delay(record.pk)
        tasks.send_booking_mail.delay(record.pk)
        assert wait_for(lambda: MailRecord.objects.get(pk=record.pk).status == "sent")
        time.sleep(1.0)  # give the duplicates time to run
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("Booking confirmed")


@pytest.mark.django_db(transaction=True)
def test_booking_succeeds_with_the_broker_down_and_mails_once_it_is_back(
    real_broker, monkeypatch
):
    real_url = celery_app.conf.broker_url
    down = "redis://127.0.0.1:1/0"  # nothing listens there
    # Celery prefers the CELERY_BROKER_URL environment variable to its
    # configuration, so the broker is only really down with both changed.
    monkeypatch.setenv("CELERY_BROKER_URL", down)
    celery_app.conf.broker_url = down
    _reset_producer_pool()
    with celery_app.connection_for_write() as connection:
        assert connection.as_uri().endswith("@127.0.0.1:1/0")
    booking = services.book_session(person(), SessionFactory.create())
    assert booking.status == "confirmed"
    record = MailRecord.objects.get(booking=booking)
    assert record.status == "pending"
    assert mail.outbox == []

    monkeypatch.setenv("CELERY_BROKER_URL", real_url)
    celery_app.conf.broker_url = real_url
    _reset_producer_pool()
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ):
        tasks.send_pending_mail.delay(0)  # what beat runs every minute
        tasks.send_pending_mail.delay(0)
        assert wait_for(lambda: MailRecord.objects.get(pk=record.pk).status == "sent")
        time.sleep(1.0)
    assert len(mail.outbox) == 1
