"""A private PostgreSQL restarted under a live server taking a burst of bookings."""

import re
import threading
import time

import pytest
import requests
from allauth.account.models import EmailAddress
from django.test import Client

from bookings.models import Booking, MailRecord
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory

from .conftest import Processes, answers_health, wait_for, worker_env

CSRF = "f" * 32  # any well-formed secret: Django compares cookie and header


@pytest.fixture
def live_app(on_private_db, private_redis, private_smtp, tmp_path):
    """gunicorn serving the app on the private PostgreSQL and Redis, keeping
    database connections (CONN_MAX_AGE) so that recovery must not need them."""
    env = worker_env(
        database_url=on_private_db.url,
        broker_url=private_redis.url(1),
        cache_url=private_redis.url(0),
        smtp_port=private_smtp.port,
        CONN_MAX_AGE=60,
        DATABASE_OUTAGE_RETRY_AFTER_SECONDS=15,
    )
    processes = Processes(env, tmp_path)
    base = processes.server("gunicorn")
    try:
        assert wait_for(lambda: answers_health(base), timeout=60), processes.logs()
        yield base
    finally:
        processes.stop()


def _signed_in_cookies(person) -> dict:
    client = Client()
    client.force_login(person)  # the session row is on the private database
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF}


def _book(base, session, cookies) -> requests.Response:
    return requests.post(
        f"{base}/sessions/{session.pk}/book/",
        cookies=cookies,
        headers={"X-CSRFToken": CSRF},
        allow_redirects=False,
        timeout=30,
    )


def test_bookings_during_a_restart_fail_cleanly_or_succeed_and_capacity_holds(
    live_app, on_private_db
):
    postgres = on_private_db
    session = SessionFactory.create(capacity=5)
    people = []
    for _ in range(12):
        person = UserFactory.create()
        EmailAddress.objects.create(
            user=person, email=person.email, verified=True, primary=True
        )
        people.append((person, _signed_in_cookies(person)))
    from django.db import connection

    connection.close()  # this process holds no connection across the restart

    # Outage, step by step: pages and /healthz say 503, with Retry-After.
    postgres.stop()
    page = requests.get(live_app + "/bookings/", cookies=people[0][1], timeout=30)
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "15"
    assert "Sorry, the service is unavailable" in page.text
    health = requests.get(live_app + "/healthz", timeout=30)
    assert health.status_code == 503
    assert health.json()["checks"]["database"] == "error: OperationalError"
    postgres.start()

    # A burst of bookings with a restart in the middle of it.
    results: dict[int, int] = {}
    locations: dict[int, str] = {}

    def book(i, person, cookies):
        # No assert here: a failure in a thread would only be a warning. The
        # main thread checks what each one saw.
        time.sleep(0.15 * i)
        response = _book(live_app, session, cookies)
        results[person.pk] = response.status_code
        locations[person.pk] = response.headers.get("Location", "")

    threads = [
        threading.Thread(target=book, args=(i, p, c)) for i, (p, c) in enumerate(people)
    ]
    for t in threads:
        t.start()
    time.sleep(0.3)
    postgres.restart()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 12
    assert set(results.values()) <= {302, 503}  # never a 500
    # A booking made leads to its own page.
    for pk, code in results.items():
        if code == 302:
            assert re.fullmatch(r"/bookings/\d+/", locations[pk]), locations[pk]

    # The app recovers without a restart; those refused try again.
    assert wait_for(
        lambda: requests.get(live_app + "/healthz", timeout=10).status_code == 200,
        timeout=30,
    )
    for person, cookies in people:
        if results[person.pk] == 503:
            response = _book(live_app, session, cookies)
            assert response.status_code == 302  # booked now, or already booked
    connection.ensure_connection()
    bookings = Booking.objects.filter(session=session)
    assert sorted(bookings.values_list("person_id", flat=True)) == sorted(
        p.pk for p, _ in people
    )  # one each: nothing lost, nothing doubled
    assert bookings.filter(status="confirmed").count() == 5  # capacity exact
    assert bookings.filter(status="waitlisted").count() == 7
    # Nothing half-written: each booking has exactly its one outbox row.
    for booking in bookings:
        kinds = list(
            MailRecord.objects.filter(booking=booking).values_list("kind", flat=True)
        )
        assert kinds == [booking.status], (booking.pk, kinds)
    page = requests.get(live_app + "/bookings/", cookies=people[0][1], timeout=30)
    assert page.status_code == 200
    assert session.course.title in page.text
