"""My bookings shows past and cancelled bookings twenty at a time, newest
first, so the page costs the same however long a person's history is."""

import datetime as dt

import pytest
from django.utils import timezone

from bookings.models import Booking
from config.paging import PER_PAGE as PAST_PER_PAGE
from tests.courses.factories import CourseFactory, SessionFactory

pytestmark = pytest.mark.django_db


def _history(person, n: int) -> list[str]:
    """n past bookings, the newest first; returns their course titles."""
    now = timezone.now()
    titles = []
    for i in range(n):
        starts = now - dt.timedelta(days=10 + i)
        session = SessionFactory.create(
            course=CourseFactory.create(title=f"Past course {i:02d}"),
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
        )
        Booking.objects.create(person=person, session=session, status="attended")
        titles.append(f"Past course {i:02d}")
    return titles


def test_past_bookings_come_a_page_at_a_time_newest_first(learner_client):
    titles = _history(learner_client.user, PAST_PER_PAGE + 5)

    first = learner_client.get("/bookings/").content.decode()
    assert all(t in first for t in titles[:PAST_PER_PAGE])
    assert not any(t in first for t in titles[PAST_PER_PAGE:])
    assert first.index(titles[0]) < first.index(titles[1])
    assert 'href="?past=2#past" rel="next"' in first
    assert "Older" in first
    assert 'rel="prev"' not in first

    second = learner_client.get("/bookings/?past=2").content.decode()
    assert all(t in second for t in titles[PAST_PER_PAGE:])
    assert titles[0] not in second
    assert 'href="?past=1#past" rel="prev"' in second
    assert 'rel="next"' not in second
    assert 'aria-current="page">Page 2</a>' in second


def test_a_page_past_the_end_or_not_a_number_shows_a_real_page(learner_client):
    titles = _history(learner_client.user, PAST_PER_PAGE + 1)
    beyond = learner_client.get("/bookings/?past=9").content.decode()
    assert titles[-1] in beyond
    assert 'aria-current="page">Page 2</a>' in beyond
    for odd in ("²", "0", "-1", "x", "9" * 40):
        page = learner_client.get("/bookings/", {"past": odd})
        assert page.status_code == 200
        assert titles[0] in page.content.decode()


def test_a_short_history_has_no_pages(learner_client):
    _history(learner_client.user, 3)
    page = learner_client.get("/bookings/").content.decode()
    assert "Past course 02" in page
    assert "govuk-pagination" not in page
