"""Back-office sessions end after STAFF_SESSION_IDLE_MINUTES without a request
and STAFF_SESSION_MAX_HOURS after sign-in; learners' sessions do not.

The clock is moved by replacing django.utils.timezone.now (freezegun is not a
dependency), so the session store's own expiry moves with it."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import roles
from accounts.middleware import SEEN_AT
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

pytestmark = pytest.mark.django_db

IDLE_MESSAGE = (
    "You were signed out after 30 minutes without activity, to keep the back "
    "office safe. Sign in again to carry on."
)
MAX_AGE_MESSAGE = (
    "You were signed out 8 hours after you signed in, to keep the back office "
    "safe. Sign in again to carry on."
)


class Clock:
    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def move(self, **delta):
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff(clock):
    user = UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    give_totp(user)
    return user


@pytest.fixture
def superuser(clock):
    # No staff flag: a superuser reaches the back office all the same.
    user = UserFactory.create(is_staff=False, is_superuser=True)
    give_totp(user)
    return user


def assert_sent_to_sign_in(client, response, *, next_path, message):
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/accounts/login/"
    assert parse_qs(location.query)["next"] == [next_path]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert message in page.content.decode()
    # And they are anonymous from now on.
    assert "_auth_user_id" not in client.session
    again = client.get("/bookings/")
    assert again.status_code == 302
    assert again["Location"].startswith("/accounts/login/")


# Django's admin wants the staff flag; a superuser without it works in /staff/.
BACK_OFFICE_PAGE = {"staff": "/admin/", "superuser": "/staff/processing/"}


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_a_back_office_session_ends_after_30_idle_minutes(request, clock, who):
    client = signed_in(request.getfixturevalue(who))
    page = BACK_OFFICE_PAGE[who]
    assert client.get(page).status_code == 200
    clock.move(minutes=29)
    assert client.get(page).status_code == 200  # 29 minutes: still in
    clock.move(minutes=30)  # 30 minutes since that request
    response = client.get(f"{page}?q=kept")
    assert_sent_to_sign_in(
        client, response, next_path=f"{page}?q=kept", message=IDLE_MESSAGE
    )


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_a_busy_back_office_session_still_ends_8_hours_after_sign_in(
    request, clock, who
):
    client = signed_in(request.getfixturevalue(who))
    page = BACK_OFFICE_PAGE[who]
    for _ in range(23):  # a request every 20 minutes: never idle
        clock.move(minutes=20)
        assert client.get(page).status_code == 200
    clock.move(minutes=20)  # 8 hours since sign-in
    response = client.get(page)
    assert_sent_to_sign_in(client, response, next_path=page, message=MAX_AGE_MESSAGE)


def test_signing_in_again_starts_a_new_8_hours(clock, staff):
    client = signed_in(staff)
    clock.move(hours=7, minutes=50)
    client.force_login(staff)
    clock.move(minutes=20)
    assert client.get("/admin/").status_code == 200


def test_a_group_member_without_the_staff_flag_is_timed_out_too(clock):
    user = UserFactory.create()
    user.groups.add(Group.objects.get(name=roles.FUNDING_OFFICERS))
    client = signed_in(user)
    clock.move(minutes=31)
    response = client.get("/bookings/")
    assert_sent_to_sign_in(
        client, response, next_path="/bookings/", message=IDLE_MESSAGE
    )


def test_learners_keep_their_session_idle_or_busy(clock, verified_user):
    client = signed_in(verified_user)
    clock.move(days=3)  # idle for three days
    assert client.get("/bookings/").status_code == 200
    for _ in range(30):  # then busy for ten hours
        clock.move(minutes=20)
        assert client.get("/bookings/").status_code == 200
    assert client.session["_auth_user_id"] == str(verified_user.pk)


def test_a_learner_given_a_staff_role_is_timed_out_within_a_minute(
    clock, verified_user
):
    client = signed_in(verified_user)
    verified_user.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    clock.move(minutes=1)
    assert client.get("/bookings/").status_code == 200  # noticed here
    clock.move(minutes=30)
    response = client.get("/bookings/")
    assert_sent_to_sign_in(
        client, response, next_path="/bookings/", message=IDLE_MESSAGE
    )


def test_a_timed_out_post_is_not_acted_on_and_returns_to_its_form(clock, staff):
    client = signed_in(staff)
    clock.move(minutes=45)
    response = client.post(
        "/admin/auth/group/add/",
        {"name": "Made after the timeout"},
        HTTP_REFERER="http://testserver/admin/auth/group/add/",
    )
    assert not Group.objects.filter(name="Made after the timeout").exists()
    assert_sent_to_sign_in(
        client,
        response,
        next_path="/admin/auth/group/add/",
        message="What you last sent was not saved.",
    )


def test_a_foreign_referer_is_not_a_next_address(clock, staff):
    client = signed_in(staff)
    clock.move(minutes=45)
    response = client.post("/admin/", HTTP_REFERER="https://evil.example/admin/")
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == ["/"]


def test_the_settings_change_the_limits(clock, staff, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 5
    client = signed_in(staff)
    clock.move(minutes=5)
    response = client.get("/admin/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out after 5 minutes without activity" in page


def session_writes(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum(
        1
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]
    )


@pytest.mark.parametrize("who", ["staff", "verified_user"])
def test_the_session_is_written_at_most_once_a_minute(request, clock, who):
    client = signed_in(request.getfixturevalue(who))
    path = "/admin/" if who == "staff" else "/bookings/"
    seen = client.session[SEEN_AT]
    for _ in range(5):
        clock.move(seconds=10)
        assert session_writes(client, path) == 0
    assert client.session[SEEN_AT] == seen
    clock.move(seconds=10)  # a minute since the stamp
    assert session_writes(client, path) == 1
    assert client.session[SEEN_AT] == seen + 60
