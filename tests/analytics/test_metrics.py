"""Performance counts: per route pattern, method, status class and minute,
with a duration histogram; written in one statement per flush."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import metrics
from analytics.models import BUCKET_FIELDS, ErrorMinute, RouteMinute
from analytics.selectors import percentile
from tests.courses.factories import SessionFactory

pytestmark = pytest.mark.django_db


def _row(route, method="GET", status_class=2) -> RouteMinute:
    return RouteMinute.objects.get(
        route=route, method=method, status_class=status_class
    )


def test_requests_are_counted_per_route_pattern_never_per_path(client):
    sessions = SessionFactory.create_batch(3)
    for session in sessions:
        assert client.get(f"/courses/{session.course.slug}/").status_code == 200
    client.get("/courses/?q=private+words")
    client.get("/courses/no-such-course/")
    client.post("/courses/")
    assert RouteMinute.objects.count() == 0  # nothing written by the requests
    written = metrics.flush_metrics()
    assert written == RouteMinute.objects.count()
    detail = _row("courses/<slug:slug>/")
    assert detail.count == 3
    assert detail.queries_sum >= 3
    assert detail.duration_ms_sum >= 0
    assert sum(getattr(detail, f) for f in BUCKET_FIELDS) == 3
    assert _row("courses/<slug:slug>/", status_class=4).count == 1
    assert _row("courses/").count == 1
    routes = set(RouteMinute.objects.values_list("route", flat=True))
    assert not any("private" in r or "no-such" in r for r in routes)


def test_a_second_flush_adds_to_the_same_minutes_row(client, settings):
    client.get("/privacy/")
    metrics.flush_metrics()
    client.get("/privacy/")
    client.get("/privacy/")
    with CaptureQueriesContext(connection) as captured:
        metrics.flush_metrics()
    assert len(captured) == 1  # one INSERT ... ON CONFLICT for every row
    row = _row("privacy/")
    assert row.count == 3
    assert RouteMinute.objects.filter(route="privacy/").count() == 1


def test_counts_are_written_by_the_request_that_finds_them_due(client, settings):
    settings.ANALYTICS_METRICS_FLUSH_SECONDS = 0
    client.get("/privacy/")
    assert _row("privacy/").count == 1


def test_server_errors_are_counted_with_the_exception_class_only(client, settings):
    settings.ROOT_URLCONF = "tests.analytics.errors_urls"
    client.raise_request_exception = False
    for number in (1, 2):
        assert client.get(f"/broken/{number}/").status_code == 500
    metrics.flush_metrics()
    error = ErrorMinute.objects.get()
    assert (error.route, error.method, error.exception, error.count) == (
        "broken/<int:number>/",
        "GET",
        "KeyError",
        2,
    )
    assert _row("broken/<int:number>/", status_class=5).count == 2
    stored = " ".join(str(v) for v in ErrorMinute.objects.values_list(flat=False).get())
    assert "message" not in stored


def test_percentiles_come_from_the_histogram():
    # 100 requests: 50 at <=10 ms, 40 at 25-50 ms, 9 at 250-500 ms, 1 over 5 s.
    buckets = [50, 0, 40, 0, 0, 9, 0, 0, 0, 1]
    assert percentile(buckets, 0.50) == 10
    assert percentile(buckets, 0.90) == 50
    assert percentile(buckets, 0.95) == pytest.approx(250 + 250 * 5 / 9)
    assert percentile(buckets, 0.99) == 500
    assert percentile(buckets, 1.0) is None  # beyond the last bucket
    assert percentile([0] * 10, 0.5) == 0.0


def test_a_database_outage_at_flush_time_drops_the_counts_without_raising(
    client, monkeypatch
):
    client.get("/privacy/")

    def down(*args, **kwargs):
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(metrics, "_upsert_routes", down)
    assert metrics.flush_metrics() == 0
    assert metrics.pending() == 0
