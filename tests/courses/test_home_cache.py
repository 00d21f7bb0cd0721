"""The home page is served whole from the catalogue cache to visitors without
a session (like the catalogue's pages), and is never behind: a booking shows
at once, a session drops out when it starts, and a signed-in person gets a
page of their own."""

import datetime as dt
import re
import time

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking
from courses import services
from tests.accounts.factories import UserFactory
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_home_is_served_from_the_cache_and_a_booking_shows_at_once(
    client, django_assert_num_queries
):
    session = SessionFactory.create(course__title="Phonics", capacity=3)
    assert "3 places left" in home(client)
    with django_assert_num_queries(0):  # the whole page, from the cache
        assert "3 places left" in home(Client())
    Booking.objects.create(
        person=UserFactory.create(), session=session, status="confirmed"
    )
    services.catalogue_changed()  # what every booking service calls
    html = home(client)
    assert "2 places left" in html
    assert "3 places left" not in html


def test_each_visitor_gets_their_own_token_and_signed_in_people_their_own_page():
    SessionFactory.create(course__title="Shared home")
    first, second = Client(), Client()
    one, two = home(first), home(second)
    assert "Shared home" in one
    assert "Shared home" in two
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    tokens = {
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        for html in (one, two)
    }
    assert len(tokens) == 2
    assert "slot-7d2f0c9e" not in one + two
    person = UserFactory.create()
    signed_in = Client()
    signed_in.force_login(person)
    html = home(signed_in)
    assert "Shared home" in html
    assert "Sign out" in html
    assert "Sign out" not in home(Client())


def test_a_course_page_is_served_from_the_cache_until_it_would_change(
    client, django_assert_num_queries
):
    """For visitors without a session a course page comes whole from the
    cache; a booking shows at once, and so does booking closing for a date,
    at the moment it closes (time alone changes the page then)."""
    now = timezone.now()
    session = SessionFactory.create(
        course__title="Phonics",
        capacity=3,
        booking_closes_at=now + dt.timedelta(seconds=1.5),
    )
    url = session.course.get_absolute_url()
    html = client.get(url).content.decode()
    assert "3 places left" in html
    assert "Sign in to book" in html
    with django_assert_num_queries(0):
        assert "3 places left" in Client().get(url).content.decode()
    Booking.objects.create(
        person=UserFactory.create(), session=session, status="confirmed"
    )
    services.catalogue_changed()
    assert "2 places left" in client.get(url).content.decode()
    time.sleep(
        max(0.0, (session.booking_closes_at - timezone.now()).total_seconds()) + 0.1
    )
    html = client.get(url).content.decode()
    assert "Booking closed" in html
    assert "Sign in to book" not in html


def test_an_unknown_or_unpublished_course_is_not_found_from_the_cache_either():
    draft = SessionFactory.create(course__status="draft").course
    for _ in range(2):
        assert Client().get(draft.get_absolute_url()).status_code == 404
        assert Client().get("/courses/no-such-course/").status_code == 404


def test_a_course_page_changes_at_the_first_start_close_or_reservation_end():
    from types import SimpleNamespace

    from courses.selectors import sessions_unchanged_until

    now = timezone.now()

    def at(minutes):
        return now + dt.timedelta(minutes=minutes)

    sessions = [
        SimpleNamespace(
            starts_at=at(90),
            closes_at=at(-5),  # booking closed already: not a change to come
            reserved=[SimpleNamespace(until=at(30))],
        ),
        SimpleNamespace(starts_at=at(60), closes_at=at(45), reserved=[]),
    ]
    assert sessions_unchanged_until(sessions, now=now) == at(30)
    sessions[0].reserved = []
    assert sessions_unchanged_until(sessions, now=now) == at(45)
    assert sessions_unchanged_until([], now=now) is None
