import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from courses import services
from courses.models import Course, Provider
from tests.accounts.factories import UserFactory
from tests.courses.factories import (
    CourseFactory,
    ProviderFactory,
    SessionFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    return [c.title for c in response.context["courses"]]


def test_hidden_courses_stay_hidden(client):
    visible = SessionFactory.create(course__title="Visible").course
    SessionFactory.create(course__title="Draft one", course__status=Course.Status.DRAFT)
    SessionFactory.create(
        course__title="Archived one", course__status=Course.Status.ARCHIVED
    )
    SessionFactory.create(
        course__title="Past only",
        starts_at=timezone.now() - dt.timedelta(days=2),
    )
    CourseFactory.create(title="No sessions")
    response = client.get("/courses/")
    assert titles(response) == [visible.title]
    for slug in [
        c.slug for c in Course.objects.exclude(pk=visible.pk).exclude(title="Past only")
    ]:
        if Course.objects.get(slug=slug).status != Course.Status.PUBLISHED:
            assert client.get(f"/courses/{slug}/").status_code == 404


def test_a_past_session_is_never_offered_on_the_course_page(client):
    course = CourseFactory.create()
    SessionFactory.create(
        course=course, starts_at=timezone.now() - dt.timedelta(days=1)
    )
    SessionFactory.create(course=course, venue="Future Hall")
    html = client.get(course.get_absolute_url()).content.decode()
    assert "Future Hall" in html
    assert html.count("govuk-table__row") == 2  # header row and one session


def test_course_card_shows_what_a_learner_needs(client):
    topic = TopicFactory.create(name="Safeguarding")
    course = CourseFactory.create(
        title="Safeguarding children",
        price=Decimal("45"),
        cpd_hours=Decimal("6"),
        mode=Course.Mode.LIVE_ONLINE,
        topics=[topic],
        provider__name="SkillsFirst",
    )
    SessionFactory.create(course=course, capacity=12)
    html = client.get("/courses/").content.decode()
    for text in (
        "Safeguarding children",
        "SkillsFirst",
        "Safeguarding",
        "Live online webinar",
        "6 hours",
        "£45",
        "12 places left",
    ):
        assert text in html


def test_search_uses_prefix_matching_across_fields(client):
    s1 = SessionFactory.create(course__title="Safeguarding adults")
    s2 = SessionFactory.create(
        course__title="Phonics", course__description="Includes safeguarding."
    )
    s3 = SessionFactory.create(
        course__title="Maths", course__provider__name="Safeguard Partners"
    )
    topic = TopicFactory.create(name="Safeguarding")
    s4 = SessionFactory.create(course__title="Topic only", course__topics=[topic])
    SessionFactory.create(course__title="Unrelated")
    services.reindex_courses()
    found = titles(client.get("/courses/?q=safeguard"))
    assert set(found) == {s.course.title for s in (s1, s2, s3, s4)}
    assert found[0] == "Safeguarding adults"  # a title match ranks first


def test_search_is_consistent_with_filters(client):
    free = SessionFactory.create(course__title="Safeguarding free", course__price=0)
    SessionFactory.create(
        course__title="Safeguarding paid", course__price=Decimal("10")
    )
    services.reindex_courses()
    assert titles(client.get("/courses/?q=safeguarding&free=on")) == [free.course.title]


def test_filters_combine_into_a_shareable_url(client):
    topic = TopicFactory.create(slug="leadership")
    provider = ProviderFactory.create(kind=Provider.Kind.PARTNER)
    soon = timezone.now() + dt.timedelta(days=5)
    match = SessionFactory.create(
        starts_at=soon,
        course__provider=provider,
        course__topics=[topic],
        course__mode=Course.Mode.LIVE_ONLINE,
    ).course
    SessionFactory.create(
        starts_at=soon, course__provider=provider, course__topics=[topic]
    )
    SessionFactory.create(
        starts_at=soon + dt.timedelta(days=60),
        course__provider=provider,
        course__topics=[topic],
        course__mode=Course.Mode.LIVE_ONLINE,
    )
    day = timezone.localdate(soon)
    url = (
        f"/courses/?topic=leadership&mode=live_online&provider={provider.pk}"
        f"&from={day:%Y-%m-%d}&to={day + dt.timedelta(days=1):%Y-%m-%d}"
    )
    response = client.get(url)
    assert titles(response) == [match.title]
    html = response.content.decode()
    assert 'value="leadership" selected' in html
    assert 'value="live_online" selected' in html
    # The date is shown back in its day, month and year boxes.
    assert re.search(rf'name="from_year"[^>]*value="{day.year}"', html), html


def test_has_places_hides_full_sessions(client, django_user_model):
    from bookings.models import Booking

    full = SessionFactory.create(capacity=1, course__title="Full")
    Booking.objects.create(
        person=UserFactory.create(), session=full, status="confirmed"
    )
    open_ = SessionFactory.create(course__title="Open")
    assert titles(client.get("/courses/?available=on")) == [open_.course.title]
    html = client.get("/courses/").content.decode()
    assert "full, join the waiting list" in html


def test_sort_by_title_and_by_soonest(client):
    SessionFactory.create(
        course__title="Bravo", starts_at=timezone.now() + dt.timedelta(days=1)
    )
    SessionFactory.create(
        course__title="Alpha", starts_at=timezone.now() + dt.timedelta(days=9)
    )
    assert titles(client.get("/courses/?sort=title")) == ["Alpha", "Bravo"]
    assert titles(client.get("/courses/?sort=soonest")) == ["Bravo", "Alpha"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=abc", "There is no page “abc”"),
        ("page=999", "There are only 1 pages"),
        ("from=notadate", "From date must be a real date"),
        ("to=2026-13-45", "To date must be a real date"),
        ("from_day=1&from_month=&from_year=2026", "From date must include a month"),
        ("to_day=&to_month=&to_year=2026", "To date must include a day and month"),
        ("from_day=31&from_month=2&from_year=2027", "From date must be a real date"),
        (
            "from_day=%C2%B2&from_month=2&from_year=2027",
            "From date must be a real date",
        ),
        ("from_day=1&from_month=12&from_year=26", "Year must include 4 numbers"),
        ("topic=unknown", "There is no topic called “unknown”"),
        ("mode=teleport", "“teleport” is not a way courses are delivered"),
        ("provider=abc", "There is no such provider"),
        ("sort=price", "Courses cannot be sorted by “price”"),
        ("from={tomorrow}&to={today}", "“To” must be the same as or after “From”"),
        # A NUL is refused before the catalogue: tests/config/test_middleware.py
        ("q=%27%22;--", ""),
    ],
)
def test_nonsense_parameters_give_a_normal_page_with_a_message(client, query, message):
    SessionFactory.create(course__title="Still shown")
    today = timezone.localdate()
    query = query.format(today=today, tomorrow=today + dt.timedelta(days=1))
    response = client.get(f"/courses/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    if message:
        assert "Still shown" in html
        # A linked error summary, and "Error: " starting the title.
        assert "<title>Error: " in html
        target = re.search(rf'<li><a href="#([\w-]+)">[^<]*{re.escape(message)}', html)
        assert target, html
        assert f'id="{target.group(1)}"' in html
    else:
        assert "<title>Error: " not in html


def test_dates_are_day_month_and_year_boxes_that_filter_like_an_iso_date(client):
    day = timezone.localdate() + dt.timedelta(days=20)
    SessionFactory.create(
        course__title="Later",
        starts_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
    )
    SessionFactory.create(
        course__title="Sooner", starts_at=timezone.now() + dt.timedelta(days=2)
    )
    parts = f"from_day={day.day}&from_month={day.month}&from_year={day.year}"
    response = client.get(f"/courses/?{parts}")
    assert titles(response) == ["Later"]
    assert titles(client.get(f"/courses/?from={day:%Y-%m-%d}")) == ["Later"]
    html = response.content.decode()
    assert 'type="date"' not in html
    # The GOV.UK date input: a fieldset with a legend and three labelled boxes,
    # showing what was typed.
    assert (
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">From date'
        in html
    )
    for part, value in (("day", day.day), ("month", day.month), ("year", day.year)):
        assert (
            f'<label class="govuk-label govuk-date-input__label" for="id_from_{part}">'
            in html
        )
        assert re.search(
            rf'name="from_{part}"[^>]*value="{value}"|value="{value}"[^>]*name="from_{part}"',
            html,
        )


def test_unknown_course_is_a_404_in_the_site_layout(client):
    response = client.get("/courses/no-such-course/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "Skip to main content" in html


def test_course_page_warns_when_details_are_shared_with_a_third_party(client):
    session = SessionFactory.create(
        course__provider__kind=Provider.Kind.THIRD_PARTY,
        course__provider__shares_attendee_details=True,
    )
    html = client.get(session.course.get_absolute_url()).content.decode()
    assert "your name and work email will be shared with them" in html
    internal = SessionFactory.create()
    html = client.get(internal.course.get_absolute_url()).content.decode()
    assert "will be shared" not in html


def test_course_page_shows_times_in_london(client, settings):
    starts = dt.datetime(2030, 7, 1, 9, 0, tzinfo=dt.UTC)  # 10am BST
    session = SessionFactory.create(starts_at=starts)
    html = client.get(session.course.get_absolute_url()).content.decode()
    assert "10am" in html or "10:00" in html


@pytest.mark.parametrize("per_page", [10, 50])
def test_catalogue_and_search_run_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, per_page
):
    topics = TopicFactory.create_batch(3)
    for i in range(per_page + 5):
        SessionFactory.create(course__title=f"Safeguarding {i}", course__topics=topics)
    services.reindex_courses()
    with django_assert_max_num_queries(8):
        response = client.get(f"/courses/?per_page={per_page}")
    assert len(response.context["courses"]) == per_page
    with django_assert_max_num_queries(8):
        response = client.get(f"/courses/?q=safeguard&available=on&per_page={per_page}")
    assert len(response.context["courses"]) == per_page


@pytest.mark.parametrize("sessions", [2, 30])
def test_course_page_runs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, sessions
):
    course = CourseFactory.create(topics=TopicFactory.create_batch(2))
    SessionFactory.create_batch(sessions, course=course)
    with django_assert_max_num_queries(8):
        response = client.get(course.get_absolute_url())
    assert len(response.context["sessions"]) == sessions


def test_home_lists_upcoming_sessions_and_a_search_box(client):
    SessionFactory.create(course__title="Coming soon")
    html = client.get("/").content.decode()
    assert "Coming soon" in html
    assert 'name="q"' in html
