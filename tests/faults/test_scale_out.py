"""The app scaled out as on several machines (issue 15): two gunicorn servers
on two ports (separate process trees, nothing shared in memory), two Celery
workers, one PostgreSQL, one Redis and a real SMTP server.

- 200 learners book one session of 10 places at once, half through each
  server: exactly 10 are confirmed, the other 190 wait, and every booking's
  mail is received by the SMTP server exactly once, sent by whichever worker
  took it (both take some).
- Periodic tasks fired twice at the same moment (what two beats, or a beat
  restarted mid-tick, would do), with both workers taking them at once, do
  their work once: each confirmed learner gets one reminder, nobody's mail
  goes twice. Beat itself runs as one process (README, "Deployment
  topology"); this is what makes a second one harmless.
"""

import concurrent.futures
import datetime as dt
import email
from collections import Counter

import pytest
import requests
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from bookings.models import Booking, MailRecord
from config.outbox import OUTBOX_HEADER
from tests.courses.factories import SessionFactory
from tests.funding.factories import cheap_people

from .conftest import Processes, answers_health, wait_for, worker_env

CSRF = "f" * 32
LEARNERS = 200
PLACES = 10


@pytest.fixture
def cluster(on_private_db, broker_on_private_redis, private_smtp, tmp_path):
    redis_server = broker_on_private_redis
    env = worker_env(
        database_url=on_private_db.url,
        broker_url=redis_server.url(1),
        cache_url=redis_server.url(0),
        smtp_port=private_smtp.port,
        CONN_MAX_AGE=60,
    )
    running = Processes(env, tmp_path)
    servers = [running.server("web1"), running.server("web2")]
    running.worker("worker1")
    running.worker("worker2")

    def workers_ready() -> bool:
        return all("ready." in running.log(f"worker{n}") for n in (1, 2))

    try:
        assert wait_for(lambda: all(answers_health(b) for b in servers), timeout=60), (
            running.logs(2000)
        )
        assert wait_for(workers_ready, timeout=60), running.logs(2000)
        running.servers = servers
        yield running
    finally:
        running.stop()


def signed_in(people) -> list[dict]:
    """A session cookie for each person, stored in the database both servers
    read (as a sign-in on either would leave it)."""
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=p, email=p.email, verified=True, primary=True)
            for p in people
        ]
    )
    cookies = []
    for person in people:
        store = SessionStore()
        store[SESSION_KEY] = str(person.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = person.get_session_auth_hash()
        store.create()
        cookies.append(
            {settings.SESSION_COOKIE_NAME: store.session_key, "csrftoken": CSRF}
        )
    return cookies


def received_rows(smtp) -> Counter:
    """How many times the SMTP server received each outbox row."""
    return Counter(
        email.message_from_bytes(content)[OUTBOX_HEADER]
        for _to, content in smtp.accepted
    )


def test_two_servers_and_two_workers_book_exactly_the_places_and_mail_each_once(
    cluster, private_smtp
):
    # Starting BOOKING_REMINDER_DAYS from now, so the reminder task has work.
    day = timezone.localdate() + dt.timedelta(days=settings.BOOKING_REMINDER_DAYS)
    starts = timezone.make_aware(dt.datetime.combine(day, dt.time(13, 0)))
    session = SessionFactory.create(
        capacity=PLACES, starts_at=starts, ends_at=starts + dt.timedelta(hours=2)
    )
    people = cheap_people(LEARNERS)
    cookies = signed_in(people)

    def book(i: int) -> tuple[int, str]:
        base = cluster.servers[i % 2]
        response = requests.post(
            f"{base}/sessions/{session.pk}/book/",
            cookies=cookies[i],
            headers={"X-CSRFToken": CSRF},
            allow_redirects=False,
            timeout=60,
        )
        return response.status_code, response.headers.get("Location", "")

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(book, range(LEARNERS)))

    # Every request booked (a place or the waiting list) and led to its booking.
    assert Counter(code for code, _ in answers) == {302: LEARNERS}, cluster.logs(2000)
    assert all(location.startswith("/bookings/") for _, location in answers)
    bookings = Booking.objects.filter(session=session)
    assert bookings.count() == LEARNERS
    assert sorted(bookings.values_list("person_id", flat=True)) == sorted(
        p.pk for p in people
    )
    assert bookings.filter(status="confirmed").count() == PLACES
    assert bookings.filter(status="waitlisted").count() == LEARNERS - PLACES

    # Each booking's mail (a confirmation or a waiting-list mail) arrives once.
    records = MailRecord.objects.filter(booking__session=session)
    assert records.count() == LEARNERS
    assert wait_for(lambda: len(private_smtp.accepted) >= LEARNERS, timeout=90), (
        cluster.logs(2000)
    )
    assert wait_for(
        lambda: records.filter(status="sent").count() == LEARNERS, timeout=30
    )
    rows = received_rows(private_smtp)
    assert set(rows) == {f"bookings.MailRecord:{r.pk}" for r in records}
    assert set(rows.values()) == {1}
    confirmed = set(
        bookings.filter(status="confirmed").values_list("person__email", flat=True)
    )
    confirmations = [
        to[0]
        for to, content in private_smtp.accepted
        if "Booking confirmed" in email.message_from_bytes(content)["Subject"]
    ]
    assert sorted(confirmations) == sorted(confirmed)
    # Both workers sent some of it: the queue is shared, not owned.
    for name in ("worker1", "worker2"):
        assert "send_booking_mail" in cluster.log(name), cluster.logs(2000)

    # Two beats firing every periodic task at the same moment: both workers
    # run each body at once; the work is done once.
    from config.celery import app

    before = len(private_smtp.accepted)
    results = [
        app.send_task(entry["task"])
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        for _beat in range(2)
    ]
    for result in results:
        result.id  # noqa: B018 (sent; no result backend to wait on)
    reminders = MailRecord.objects.filter(booking__session=session, kind="reminder")
    assert wait_for(lambda: reminders.count() >= PLACES, timeout=60), cluster.logs(2000)
    assert wait_for(
        lambda: len(private_smtp.accepted) >= before + PLACES, timeout=60
    ), cluster.logs(2000)

    # Let every duplicate task finish before counting.
    def finished() -> int:
        logs = cluster.log("worker1") + cluster.log("worker2")
        return logs.count("] succeeded in ") + logs.count("] raised unexpected")

    assert wait_for(
        lambda: finished() >= LEARNERS + PLACES + len(results), timeout=60
    ), cluster.logs(2000)
    assert reminders.count() == PLACES
    assert sorted(reminders.values_list("booking__person__email", flat=True)) == sorted(
        confirmed
    )
    rows = received_rows(private_smtp)
    assert len(private_smtp.accepted) == before + PLACES
    assert set(rows.values()) == {1}  # no message twice, reminders included
