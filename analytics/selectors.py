"""Reads for the staff dashboard. Each figure is one aggregate query over a
date range (local days, both ends included), so the page's query count does
not grow with the data; percentiles are worked out from the summed histogram
buckets of RouteMinute, not from single requests.

Page views are read from their daily counts (PageViewDay, rebuilt every
minute by the flush task), which add up across days because a visit code
lives for one day. The funnel counts, per week, the visits (one visit = one visitor on one day,
since the visit code changes daily) that reached each step: the catalogue,
a course page, a booking made. Steps are counted independently: a visit that
came straight to a course page counts at the second step only.
"""

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import Lower, TruncDate, TruncWeek
from django.utils import timezone

from bookings.models import Booking
from courses.models import Course

from .models import (
    BUCKET_FIELDS,
    BUCKETS_MS,
    ErrorMinute,
    PageView,
    PageViewDay,
    RouteMinute,
    Search,
)


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return low, high


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def visits_and_bookings_by_day(
    *, start: dt.date, end: dt.date
) -> list[tuple[dt.date, int, int, int]]:
    """(day, visits, page views, bookings) for every day of the range."""
    low, high = _bounds(start, end)
    tz = timezone.get_current_timezone()
    views = {
        row["day"]: row
        for row in PageViewDay.objects.filter(
            day__gte=start, day__lte=end, route_name="", kind=PageView.Kind.VIEW
        ).values("day", "visits", "views")
    }
    bookings = dict(
        Booking.objects.filter(created_at__gte=low, created_at__lt=high)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    return [
        (
            day,
            views.get(day, {}).get("visits", 0),
            views.get(day, {}).get("views", 0),
            bookings.get(day, 0),
        )
        for day in _days(start, end)
    ]


def top_courses_viewed(
    *, start: dt.date, end: dt.date, limit: int = 10
) -> list[tuple[str, str, int, int]]:
    """(title, path, views, visits) of the most viewed course pages."""
    rows = list(
        PageViewDay.objects.filter(
            day__gte=start,
            day__lte=end,
            route_name="courses:detail",
            kind=PageView.Kind.VIEW,
        )
        .exclude(path="")
        .values("path")
        .annotate(views=Sum("views"), visits=Sum("visits"))
        .order_by("-views", "path")[:limit]
    )
    slugs = {row["path"].strip("/").split("/")[-1]: row["path"] for row in rows}
    titles = (
        dict(Course.objects.filter(slug__in=slugs).values_list("slug", "title"))
        if slugs
        else {}
    )
    by_path = {path: titles.get(slug, path) for slug, path in slugs.items()}
    return [
        (
            by_path.get(row["path"], row["path"]),
            row["path"],
            row["views"],
            row["visits"],
        )
        for row in rows
    ]


def searches_without_results(
    *, start: dt.date, end: dt.date, limit: int = 20
) -> list[tuple[str, int]]:
    low, high = _bounds(start, end)
    return list(
        Search.objects.filter(searched_at__gte=low, searched_at__lt=high, results=0)
        .annotate(term=Lower("terms"))
        .values("term")
        .annotate(n=Count("id"))
        .order_by("-n", "term")
        .values_list("term", "n")[:limit]
    )


def funnel_by_week(
    *, start: dt.date, end: dt.date
) -> list[tuple[dt.date, int, int, int]]:
    """(Monday of the week, catalogue visits, course-page visits, booking visits)."""
    view, booking = PageView.Kind.VIEW, PageView.Kind.BOOKING
    rows = (
        PageViewDay.objects.filter(day__gte=start, day__lte=end, path="")
        .annotate(week=TruncWeek("day"))
        .values("week")
        .annotate(
            catalogue=Sum("visits", filter=Q(route_name="courses:list", kind=view)),
            course=Sum("visits", filter=Q(route_name="courses:detail", kind=view)),
            booked=Sum("visits", filter=Q(route_name="bookings:book", kind=booking)),
        )
        .order_by("week")
    )
    return [
        (_as_date(r["week"]), r["catalogue"] or 0, r["course"] or 0, r["booked"] or 0)
        for r in rows
    ]


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


@dataclass(frozen=True)
class RoutePerformance:
    route: str
    method: str
    requests: int
    errors: int
    mean_ms: float
    mean_queries: float
    p50: float | None  # None: slower than the last bucket (over 5 s)
    p95: float | None
    p99: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def error_percent(self) -> float:
        return 100 * self.error_rate


def percentile(buckets: list[int], fraction: float) -> float | None:
    """The duration below which `fraction` of requests fell, interpolated
    within its histogram bucket; None when it lies in the open last bucket."""
    total = sum(buckets)
    if not total:
        return 0.0
    target = max(1, math.ceil(fraction * total))
    seen = 0
    lower = 0
    for index, count in enumerate(buckets):
        if index == len(BUCKETS_MS):
            return None
        upper = BUCKETS_MS[index]
        if count and seen + count >= target:
            return lower + (upper - lower) * (target - seen) / count
        seen += count
        lower = upper
    return None


def route_performance(
    *, start: dt.date, end: dt.date, limit: int = 30
) -> list[RoutePerformance]:
    """The busiest routes, with their percentiles and error rate."""
    low, high = _bounds(start, end)
    rows = (
        RouteMinute.objects.filter(minute__gte=low, minute__lt=high)
        .values("route", "method")
        .annotate(
            requests=Sum("count"),
            errors=Sum("count", filter=Q(status_class=5)),
            ms=Sum("duration_ms_sum"),
            queries=Sum("queries_sum"),
            **{f"b_{name}": Sum(name) for name in BUCKET_FIELDS},
        )
        .order_by("-requests", "route", "method")[:limit]
    )
    result = []
    for r in rows:
        buckets = [r[f"b_{name}"] or 0 for name in BUCKET_FIELDS]
        requests = r["requests"] or 0
        result.append(
            RoutePerformance(
                route=r["route"],
                method=r["method"],
                requests=requests,
                errors=r["errors"] or 0,
                mean_ms=(r["ms"] or 0) / requests if requests else 0.0,
                mean_queries=(r["queries"] or 0) / requests if requests else 0.0,
                p50=percentile(buckets, 0.50),
                p95=percentile(buckets, 0.95),
                p99=percentile(buckets, 0.99),
            )
        )
    return result


def errors_by_exception(
    *, start: dt.date, end: dt.date, limit: int = 20
) -> list[tuple[str, str, int]]:
    """(route, exception class, count) of server errors."""
    low, high = _bounds(start, end)
    return list(
        ErrorMinute.objects.filter(minute__gte=low, minute__lt=high)
        .values("route", "exception")
        .annotate(n=Sum("count"))
        .order_by("-n", "route", "exception")
        .values_list("route", "exception", "n")[:limit]
    )
