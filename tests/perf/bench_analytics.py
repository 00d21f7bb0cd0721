"""Benchmark of the analytics dashboard at scale.

Fills the analytics tables of the database DATABASE_URL names (use a
throwaway one: its page views, searches and performance counts are replaced)
with, by default, 5,000,000 page views over 26 months (five per visit, a
booking step for one in fifty), 500,000 searches (one in ten found nothing)
and per-minute performance counts of 8 routes for the last 90 days, rolls
the page views up into their daily counts (as the flush task does), then
times each figure of /staff/analytics/ and the whole page for the last 28
days and for the whole 26 months, and prints time and query count. Built
with generate_series in PostgreSQL (a few minutes for 5 million rows); kept
between runs unless --fresh. Prints figures; exits 0 whatever they are.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_analytics \\
    SECRET_KEY=bench DEBUG=0 .venv/bin/python tests/perf/bench_analytics.py \\
        [--page-views 5000000] [--fresh]
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from analytics import selectors, services, views  # noqa: E402
from analytics.models import PageView, PageViewDay, RouteMinute, Search  # noqa: E402

DAYS = 790  # about 26 months


def build(page_views: int) -> None:
    print(f"Building {page_views:,} page views ...", flush=True)
    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE analytics_pageview, analytics_search, analytics_routeminute"
        )
        c.execute(
            """
            INSERT INTO analytics_pageview (view_id, kind, visited_at, visit,
                route_name, route, path, referrer, browser, browser_version, os,
                device, ip_prefix)
            SELECT md5(i::text)::uuid,
                   CASE WHEN i %% 50 = 4 THEN 'booking' ELSE 'view' END,
                   now() - ((i / 5) %% %(days)s) * interval '1 day'
                         - (i %% 5) * interval '1 minute'
                         - ((i / 5 / %(days)s) %% 1440) * interval '1 minute',
                   left(md5('visit' || (i / 5)::text), 32),
                   CASE i %% 5 WHEN 0 THEN 'courses:list'
                               WHEN 1 THEN 'courses:detail'
                               WHEN 2 THEN 'courses:detail'
                               WHEN 3 THEN 'courses:home'
                               ELSE CASE WHEN i %% 50 = 4 THEN 'bookings:book'
                                         ELSE 'bookings:list' END END,
                   'x/',
                   CASE WHEN i %% 5 IN (1, 2)
                        THEN '/courses/course-' || (i %% 500)::text || '/'
                        ELSE '/courses/' END,
                   '', 'Chrome', '120', 'Windows', 'desktop', '203.0.113.0/24'
            FROM generate_series(1, %(n)s) AS i
            """,
            {"n": page_views, "days": DAYS},
        )
        c.execute(
            """
            INSERT INTO analytics_search (searched_at, visit, terms, results)
            SELECT now() - (i %% %(days)s) * interval '1 day',
                   left(md5('visit' || i::text), 32),
                   'term ' || (i %% 2000)::text,
                   CASE WHEN i %% 10 = 0 THEN 0 ELSE i %% 40 END
            FROM generate_series(1, %(n)s) AS i
            """,
            {"n": page_views // 10, "days": DAYS},
        )
        c.execute(
            """
            INSERT INTO analytics_routeminute (minute, route, method, status_class,
                count, duration_ms_sum, queries_sum, le_10, le_25, le_50, le_100,
                le_250, le_500, le_1000, le_2500, le_5000, slower)
            SELECT date_trunc('minute', now()) - m * interval '1 minute',
                   'route-' || r::text || '/', 'GET', 2,
                   20, 900, 100, 5, 5, 4, 3, 2, 1, 0, 0, 0, 0
            FROM generate_series(0, 90 * 1440 - 1) AS m, generate_series(1, 8) AS r
            """
        )
        c.execute("ANALYZE analytics_pageview, analytics_search, analytics_routeminute")
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def roll_up() -> None:
    """The daily counts the flush task keeps, for every day at once."""
    started = time.perf_counter()
    today = timezone.localdate()
    days = [today - dt.timedelta(days=n) for n in range(DAYS + 1)]
    rows = services.roll_up_page_views(days=days)
    with connection.cursor() as c:
        c.execute("ANALYZE analytics_pageviewday")
    print(
        f"Rolled up {len(days)} days into {rows:,} daily counts in "
        f"{time.perf_counter() - started:.0f} s "
        f"({(time.perf_counter() - started) / len(days) * 1000:.0f} ms a day, "
        "the flush task's cost for today and yesterday every minute)",
        flush=True,
    )


def timed(label: str, call) -> None:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        call()
        seconds = time.perf_counter() - started
    print(f"  {label:<34} {seconds * 1000:8.0f} ms  {len(queries):3d} queries")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--page-views", type=int, default=5_000_000)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    if args.fresh or PageView.objects.count() < args.page_views:
        build(args.page_views)
        PageViewDay.objects.all().delete()
    if not PageViewDay.objects.exists():
        roll_up()
    print(
        f"{PageView.objects.count():,} page views, {Search.objects.count():,} "
        f"searches, {RouteMinute.objects.count():,} route-minutes, "
        f"{PageViewDay.objects.count():,} daily counts",
        flush=True,
    )
    today = timezone.localdate()
    staff = User(email="bench@example.org", is_active=True, is_superuser=True)
    for label, start in (
        ("last 28 days", today - dt.timedelta(days=27)),
        ("26 months", today - dt.timedelta(days=DAYS)),
    ):
        print(f"{label}:")
        span = {"start": start, "end": today}
        timed(
            "visits and bookings by day",
            lambda s=span: selectors.visits_and_bookings_by_day(**s),
        )
        timed("top courses viewed", lambda s=span: selectors.top_courses_viewed(**s))
        timed(
            "searches without results",
            lambda s=span: selectors.searches_without_results(**s),
        )
        timed("funnel by week", lambda s=span: selectors.funnel_by_week(**s))
        timed("route performance", lambda s=span: selectors.route_performance(**s))
        timed("errors by exception", lambda s=span: selectors.errors_by_exception(**s))
        request = RequestFactory().get(
            "/staff/analytics/",
            {"date_from": start.isoformat(), "date_to": today.isoformat()},
        )
        request.user = staff
        timed("whole dashboard page", lambda r=request: views.dashboard_view(r))


if __name__ == "__main__":
    main()
