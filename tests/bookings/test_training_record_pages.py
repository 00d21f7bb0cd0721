"""The training record shows the sessions attended and the training done
elsewhere twenty at a time each, newest first, so the page costs the same
however long a person's record is; its totals still count everything."""

import datetime as dt

import pytest
from django.utils import timezone

from bookings.models import Booking, PriorLearning
from bookings.views import TO_EVALUATE_SHOWN
from config.paging import PER_PAGE as PAST_PER_PAGE
from tests.courses.factories import CourseFactory, SessionFactory

pytestmark = pytest.mark.django_db


# All in one year, so its totals are known.
LAST_YEAR = timezone.now().replace(
    year=timezone.now().year - 1, month=11, day=30, hour=10
)


def _attended(person, n: int) -> list[str]:
    """n sessions attended, the newest first; returns their course titles."""
    now = LAST_YEAR
    titles = []
    for i in range(n):
        starts = now - dt.timedelta(days=10 + i)
        session = SessionFactory.create(
            course=CourseFactory.create(title=f"Attended course {i:02d}", cpd_hours=2),
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
        )
        Booking.objects.create(person=person, session=session, status="attended")
        titles.append(f"Attended course {i:02d}")
    return titles


def _elsewhere(person, n: int) -> list[str]:
    today = LAST_YEAR.date()
    for i in range(n):
        PriorLearning.objects.create(
            person=person,
            title=f"Elsewhere course {i:02d}",
            completed_on=today - dt.timedelta(days=20 + i),
            cpd_hours=1,
        )
    return [f"Elsewhere course {i:02d}" for i in range(n)]


def test_each_list_comes_a_page_at_a_time_newest_first(learner_client):
    attended = _attended(learner_client.user, PAST_PER_PAGE + 3)
    elsewhere = _elsewhere(learner_client.user, PAST_PER_PAGE + 2)

    first = learner_client.get("/training-record/").content.decode()
    for titles in (attended, elsewhere):
        assert all(f">{t}<" in first for t in titles[:PAST_PER_PAGE])
        assert not any(f">{t}<" in first for t in titles[PAST_PER_PAGE:])
        assert first.index(f">{titles[0]}<") < first.index(f">{titles[1]}<")
    assert 'href="?attended=2#attended" rel="next"' in first
    assert 'href="?elsewhere=2#elsewhere" rel="next"' in first
    assert 'rel="prev"' not in first

    # Older sessions attended; the other list stays where it was.
    second = learner_client.get("/training-record/?attended=2&elsewhere=2")
    page = second.content.decode()
    assert all(f">{t}<" in page for t in attended[PAST_PER_PAGE:])
    assert f">{attended[0]}<" not in page
    assert all(f">{t}<" in page for t in elsewhere[PAST_PER_PAGE:])
    assert 'href="?elsewhere=2&amp;attended=1#attended" rel="prev"' in page
    assert 'href="?attended=2&amp;elsewhere=1#elsewhere" rel="prev"' in page
    assert 'rel="next"' not in page


def test_the_totals_count_the_whole_record_not_the_page(learner_client):
    _attended(learner_client.user, PAST_PER_PAGE + 3)
    _elsewhere(learner_client.user, PAST_PER_PAGE + 2)
    page = learner_client.get("/training-record/?attended=2").content.decode()
    # 23 sessions of 2 hours and 22 of 1 hour, whichever page is shown.
    year = f'<th scope="row" class="govuk-table__header">{LAST_YEAR.year}</th>'
    row = page[page.index(year) : page.index("</tr>", page.index(year))]
    assert [c.split(">")[-1] for c in row.split("</td>")[:3]] == ["46", "22", "68"]


def test_a_page_past_the_end_or_not_a_number_shows_a_real_page(learner_client):
    titles = _attended(learner_client.user, PAST_PER_PAGE + 1)
    beyond = learner_client.get("/training-record/?attended=9").content.decode()
    assert f">{titles[-1]}<" in beyond
    assert 'aria-current="page">Page 2</a>' in beyond
    # The links keep the page each list shows, not what was asked for.
    asked = learner_client.get("/training-record/?attended=2&elsewhere=999")
    assert 'href="?attended=1#attended" rel="prev"' in asked.content.decode()
    for odd in ("²", "0", "-1", "x", "9" * 40):
        page = learner_client.get(
            "/training-record/", {"attended": odd, "elsewhere": odd}
        )
        assert page.status_code == 200
        assert f">{titles[0]}<" in page.content.decode()


def test_a_short_record_has_no_pages(learner_client):
    _attended(learner_client.user, 3)
    _elsewhere(learner_client.user, 2)
    page = learner_client.get("/training-record/").content.decode()
    assert ">Attended course 02<" in page
    assert ">Elsewhere course 01<" in page
    assert "govuk-pagination" not in page


def test_sessions_to_evaluate_are_listed_a_few_at_a_time(learner_client):
    titles = _attended(learner_client.user, TO_EVALUATE_SHOWN + 2)
    page = learner_client.get("/training-record/").content.decode()
    asked = page.count("Evaluate Attended course")
    assert asked == TO_EVALUATE_SHOWN
    assert f"Evaluate {titles[0]}" in page
    assert "More sessions are waiting for your feedback" in page
