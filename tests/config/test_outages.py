"""Pages degrade, never 500, when the cache's Redis or PostgreSQL is down.

The private-instance versions (a real Redis stopped, a real PostgreSQL
restarted under a live server) are in tests/faults/; these run in-process
against a cache pointed at a dead or silent address, and a database
connection pointed at a port where nothing listens."""

import socket
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from courses.services import reindex_courses
from tests.courses.factories import SessionFactory


@pytest.fixture
def silent_redis():
    """A TCP port that accepts connections and never answers: every cache
    call waits for its socket timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield server.getsockname()[1]
    server.close()


def _cache_at(settings, location, *, timeout=2.0, retry_after=5.0):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ReusingRedisCache",
            "LOCATION": location,
            "OPTIONS": {
                "socket_connect_timeout": timeout,
                "socket_timeout": timeout,
                "RETRY_AFTER": retry_after,
            },
        }
    }
    cache.reset_breaker()


@pytest.mark.django_db
def test_signed_in_pages_and_healthz_work_with_the_cache_down(
    learner_client, settings, first_policies
):
    _cache_at(settings, "redis://127.0.0.1:1/0")
    session = SessionFactory.create(course__title="Outage phonics")
    reindex_courses()
    for path in (
        "/",
        "/courses/",
        # Searches read CourseSearch; a ranked one counts from its first matches.
        "/courses/?q=phonics",
        "/courses/?q=phonics&sort=soonest&page=2",
        # Within dates, by title, with places left: sorted in CourseSearch.
        "/courses/?q=phonics&from=2020-01-01&sort=title&available=1",
        "/bookings/",
        "/preferences/",
        "/privacy/",
        # The paged lists (config.paging) read the database alone.
        "/bookings/?past=2",
        "/training-record/?attended=2&elsewhere=2",
        "/transactions/?entries=2",
        "/my-data/?shared=2",
        "/preferences/?history=2",
    ):
        response = learner_client.get(path)
        assert response.status_code == 200, path
    # The pages served whole from the cache to visitors without a session.
    for path in ("/", "/courses/", f"/courses/{session.course.slug}/"):
        response = Client().get(path)
        assert response.status_code == 200, path
        assert "slot-7d2f0c9e" not in response.content.decode(), path
    assert "Outage phonics" in Client().get("/courses/?q=phon").content.decode()
    # Booking succeeds and the page after it opens: no 500 after the booking.
    response = learner_client.post(f"/sessions/{session.pk}/book/", follow=True)
    assert response.status_code == 200
    assert learner_client.user.bookings.filter(status="confirmed").count() == 1
    health = learner_client.get("/healthz")
    assert health.status_code == 503
    assert health["Content-Type"] == "application/json"
    assert health.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "error: ConnectionError", "broker": "ok"},
    }


@pytest.mark.django_db
def test_the_workplace_search_and_the_staff_queues_work_with_the_cache_down(
    learner_client, settings, monkeypatch
):
    """Choosing a workplace tells cached pages (a running reservation admits
    its members), and the staff queues filter by name: neither may fail
    when Redis does."""
    from accounts import forms, roles
    from accounts.models import Organisation, Profile
    from courses.models import Reservation
    from tests.conftest import staff_client

    _cache_at(settings, "redis://127.0.0.1:1/0")
    monkeypatch.setattr(forms, "WORKPLACES_LISTED", 1)
    school, _other = (
        Organisation.objects.create(name=n) for n in ("Hillside Primary", "Oakwood")
    )
    session = SessionFactory.create(capacity=5)
    Reservation.objects.create(
        session=session, places=2, organisation=school, until=session.starts_at
    )
    form = {"first_name": "Ada", "last_name": "Lovelace", "phone": "", "postcode": ""}
    page = learner_client.post("/profile/edit/", {**form, "workplace_search": "hill"})
    assert page.status_code == 200
    assert "Choose your workplace from those found" in page.content.decode()
    response = learner_client.post(
        "/profile/edit/", {**form, "workplace_search": "hillside primary"}
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=learner_client.user).organisation == school
    officer = staff_client(roles.FUNDING_OFFICERS)
    for path in (
        "/staff/funding/?provider=uni&workplace=hill&page=2",
        "/staff/funding/applications/?page=2",
    ):
        assert officer.get(path).status_code == 200, path
    booking_admin = staff_client(roles.BOOKING_ADMINS)
    response = booking_admin.get("/admin/bookings/booking/?organisation_name=hill")
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_silent_cache_costs_one_timeout_then_is_not_tried(settings, silent_redis):
    _cache_at(settings, f"redis://127.0.0.1:{silent_redis}/0", timeout=0.5)
    started = time.monotonic()
    assert cache.get("anything", "fallback") == "fallback"
    first = time.monotonic() - started
    assert first >= 0.4  # it did try, and waited for the timeout
    assert not cache.is_available
    started = time.monotonic()
    for _ in range(20):
        assert cache.get("anything") is None
        cache.set("anything", 1)
        assert cache.add("lock", 1) is True  # locks (allauth's) are granted
        assert cache.incr("counter") == 1
        assert cache.get_many(["a", "b"]) == {}
        cache.delete("anything")
    assert time.monotonic() - started < 0.2  # the breaker is open: no waiting


@pytest.mark.django_db
def test_the_cache_is_tried_again_after_the_pause(settings):
    _cache_at(settings, "redis://127.0.0.1:1/0", retry_after=0.2)
    assert cache.get("k") is None
    assert not cache.is_available
    time.sleep(0.3)
    assert cache.is_available  # the next call will try Redis again


@pytest.mark.django_db
def test_sign_in_works_with_the_cache_down_because_rate_limits_fail_open(
    client, verified_user, settings
):
    _cache_at(settings, "redis://127.0.0.1:1/0")
    started = time.monotonic()
    response = client.post(
        "/accounts/login/",
        {"login": verified_user.email, "password": "correct-horse-battery"},
    )
    assert response.status_code == 302
    assert time.monotonic() - started < 1.0  # no waiting for a cache lock
    assert client.get("/bookings/").status_code == 200


@pytest.mark.django_db
def test_the_cache_still_works_when_redis_answers(settings):
    assert cache.is_available
    cache.set("k", "v", 10)
    assert cache.get("k") == "v"
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")  # a real miss still behaves as Django's does


# --- the database down --------------------------------------------------------------


@pytest.fixture
def database_down(django_db_blocker):
    """The default connection points at a port where nothing listens."""
    with django_db_blocker.unblock():
        connection.close()
        saved = dict(connection.settings_dict)
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
        yield
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def test_a_page_is_503_with_retry_after_when_the_database_is_down(
    database_down, settings
):
    settings.DATABASE_OUTAGE_RETRY_AFTER_SECONDS = 45
    response = Client(raise_request_exception=False).get("/courses/")
    assert response.status_code == 503
    assert response["Retry-After"] == "45"
    for search in (
        "/courses/?q=maths&free=1",
        "/courses/?q=maths&from=2020-01-01&sort=title&available=1",
    ):
        searched = Client(raise_request_exception=False).get(search)
        assert searched.status_code == 503, search
    assert "Sorry, the service is unavailable" in response.content.decode()
    assert "Nothing you had already saved has been lost" in response.content.decode()


def test_a_signed_in_page_is_503_when_the_session_cannot_be_loaded(database_down):
    # The session is read by middleware, before any view: handler500's path.
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a" * 32
    response = client.get("/bookings/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Sorry, the service is unavailable" in response.content.decode()


def test_healthz_is_503_json_when_the_database_is_down(database_down, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client = Client(raise_request_exception=False)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "error: OperationalError"
    assert body["checks"]["cache"] == "ok"
    # Even when the session (read before the view) is what fails.
    client.cookies["sessionid"] = "a" * 32
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: OperationalError"


def test_other_errors_are_still_the_500_page(rf):
    from config.views import server_error_view

    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error_view(rf.get("/"))
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()
