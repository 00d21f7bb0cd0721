"""The staff dashboard: the figures of a small known world, who may see it,
dates that cannot be used, and a query count that does not grow with data."""

import datetime as dt
import re
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from accounts import roles
from analytics import services
from analytics.models import PageView, RouteMinute, Search
from bookings.models import Booking
from courses.models import Course
from tests.bookings.factories import BookingFactory
from tests.courses.factories import CourseFactory

from .conftest import staff_client

pytestmark = pytest.mark.django_db

URL = "/staff/analytics/"


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(
        day, dt.time(hour), tzinfo=timezone.get_current_timezone()
    )


def _view(day, visit, route_name, path, kind="view"):
    return PageView(
        view_id=uuid.uuid4(),
        kind=kind,
        visited_at=_at(day),
        visit=visit,
        route_name=route_name,
        route="x/",
        path=path,
    )


def build_world(day: dt.date, *, scale: int = 1) -> None:
    """On `day`: visits a and b (and `scale` times more), course pages, one
    booking, searches, and performance counts for two routes."""
    course = Course.objects.filter(slug="infection-control").first() or (
        CourseFactory.create(title="Infection control", slug="infection-control")
    )
    views = []
    for n in range(scale):
        a, b = f"a{n}", f"b{n}"
        views += [
            _view(day, a, "courses:list", "/courses/?q"),
            _view(day, a, "courses:detail", f"/courses/{course.slug}/"),
            _view(day, a, "bookings:book", "/sessions/1/book/", kind="booking"),
            _view(day, b, "courses:detail", f"/courses/{course.slug}/"),
            _view(day, b, "courses:detail", "/courses/unknown/"),
        ]
    PageView.objects.bulk_create(views)
    Search.objects.bulk_create(
        [
            Search(searched_at=_at(day), visit="a0", terms="Phlebotomy", results=0),
            Search(searched_at=_at(day), visit="b0", terms="phlebotomy", results=0),
            Search(searched_at=_at(day), visit="b0", terms="wound", results=4),
        ]
    )
    booking = BookingFactory.create()
    Booking.objects.filter(pk=booking.pk).update(created_at=_at(day))
    minute = _at(day).replace(minute=5)
    RouteMinute.objects.bulk_create(
        [
            RouteMinute(
                minute=minute,
                route="courses/",
                method="GET",
                status_class=2,
                count=98 * scale,
                duration_ms_sum=3000 * scale,
                queries_sum=490 * scale,
                le_25=50 * scale,
                le_100=48 * scale,
            ),
            RouteMinute(
                minute=minute,
                route="courses/",
                method="GET",
                status_class=5,
                count=2 * scale,
                duration_ms_sum=9000 * scale,
                le_5000=2 * scale,
            ),
        ]
    )
    services.roll_up_page_views(days=[day])


def _cells(html: str, heading: str, *, section: str = "") -> list[str]:
    """The cells of the first table row whose header is `heading` (after the
    heading with id `section`, when given)."""
    if section:
        html = html[html.index(f'id="{section}"') :]
    row = re.search(
        rf"<tr[^>]*><th scope=\"row\"[^>]*>(?:<a [^>]*>)?{re.escape(heading)}(?:</a>)?"
        r"</th>(.*?)</tr>",
        html,
        re.S,
    )
    assert row, f"no row {heading!r}"
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)


def test_the_figures_of_a_known_world(client):
    day = timezone.localdate() - dt.timedelta(days=2)
    build_world(day)
    viewer = staff_client(roles.ANALYTICS_VIEWERS)
    response = viewer.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    # Visits a and b, 4 page views (the booking is not a view), 1 booking.
    assert _cells(html, day.strftime("%-d %b %Y").lstrip("0")) == ["2", "4", "1"]
    # Course pages: infection control 2 views by 2 visits; unknown by its path.
    assert _cells(html, "Infection control") == ["2", "2"]
    assert _cells(html, "/courses/unknown/") == ["1", "1"]
    # Searches with no results, case folded together; "wound" found some.
    assert re.search(r"phlebotomy</td><td[^>]*>2</td>", html)
    assert "wound" not in html
    # Funnel for the week: 1 catalogue visit, 2 course visits, 1 booked.
    monday = day - dt.timedelta(days=day.weekday())
    assert _cells(html, monday.strftime("%-d %b %Y"), section="funnel") == [
        "1",
        "2",
        "1",
    ]
    # courses/: 100 requests, p50 in 10-25 ms, p95/p99 in 25-100 ms, 2% errors.
    perf = _cells(html, "GET /courses/")
    assert perf[0] == "100"
    assert perf[1] == "25"  # 50th of 100 is the last of the first bucket
    assert perf[2] == "97"  # 95th: 25 + 75 * 45/48
    assert perf[3] == "3750"  # 99th: the first of 2 in the 2500-5000 bucket
    assert perf[5] == "2.0% (2)"
    # Each chart has an accessible name and a table beside it.
    assert html.count('role="img"') == 4
    for chart in ("visits-chart", "top-chart", "funnel-chart", "latency-chart"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html


def test_the_date_range_filters_the_figures(client):
    day = timezone.localdate() - dt.timedelta(days=40)
    build_world(day)
    viewer = staff_client(roles.ANALYTICS_VIEWERS)
    html = viewer.get(URL).content.decode()  # the last 28 days: nothing
    assert "No course pages were viewed in these dates." in html
    html = viewer.get(
        URL, {"date_from": day.isoformat(), "date_to": day.isoformat()}
    ).content.decode()
    assert _cells(html, "Infection control") == ["2", "2"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "2026-13-45"}, "date_from", "From date must be a real date"),
        ({"date_to": "yesterday"}, "date_to", "To date must be a real date"),
        ({"date_from": "0001-01-01"}, "date_from", "Enter a date in or after 1900"),
        (
            {"date_from": "2026-05-02", "date_to": "2026-05-01"},
            "date_to",
            "The end date must be on or after the start date",
        ),
        (
            {"date_from": "2020-01-01", "date_to": "2026-05-01"},
            "date_to",
            "Choose a range of at most 800 days",
        ),
    ],
)
def test_dates_that_cannot_be_used_get_a_linked_message(params, field, message):
    viewer = staff_client(roles.ANALYTICS_VIEWERS)
    response = viewer.get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert f'<a href="#id_{field}_day">{message}' in html
    assert f'id="id_{field}_error"' in html
    assert "<title>Error: " in html


@pytest.mark.parametrize(
    ("group", "status"),
    [
        (roles.ANALYTICS_VIEWERS, 200),
        (roles.DATA_PROTECTION_LEAD, 200),
        (roles.BOOKING_ADMINS, 403),
        (roles.COURSE_ADMINS, 403),
        (roles.FUNDING_OFFICERS, 403),
    ],
)
def test_only_analytics_viewers_and_the_data_protection_lead_see_it(group, status):
    assert staff_client(group).get(URL).status_code == status


def test_learners_are_refused_and_visitors_sent_to_sign_in(learner_client):
    assert learner_client.get(URL).status_code == 403
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_query_count_does_not_grow_with_the_data(
    client, django_assert_max_num_queries
):
    day = timezone.localdate() - dt.timedelta(days=3)
    viewer = staff_client(roles.ANALYTICS_VIEWERS)
    viewer.get(URL)  # warm the session and permission caches
    build_world(day)
    with django_assert_max_num_queries(14) as small:
        viewer.get(URL)
    build_world(day - dt.timedelta(days=1), scale=30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = viewer.get(URL).content.decode()
    assert _cells(html, "Infection control")[0] == "62"


def test_chart_labels_are_escaped():
    from analytics import charts

    svg = charts.bar_chart(
        chart_id="c", title="<b>T</b>", desc="d&d", rows=[("<script>x</script>", 3)]
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert '<title id="c-title">&lt;b&gt;T&lt;/b&gt;</title>' in svg
