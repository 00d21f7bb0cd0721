"""The beacon endpoint and the staff dashboard."""

import datetime as dt
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from consent.middleware import ANALYTICS_COOKIE
from consent.selectors import analytics_allowed

from . import charts, cleaning, selectors, services
from .forms import DateRangeForm, parse_beacon


def _same_origin(request: HttpRequest) -> bool:
    """The browser's own word that the report comes from one of our pages:
    an Origin header naming this site (browsers send it with every POST,
    sendBeacon's included), and Sec-Fetch-Site, when sent, same-origin."""
    origin = request.headers.get("Origin", "")
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site != "same-origin":
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return (
        bool(parts.netloc)
        and parts.scheme in ("http", "https")
        and (parts.netloc.lower() in cleaning.own_hosts(request))
    )


@csrf_exempt  # sendBeacon cannot send the CSRF header: see the docstring
@require_POST
def beacon_view(request: HttpRequest) -> HttpResponse:
    """Time on page, scroll depth, time zone or an outbound click for one page
    view, from static/js/analytics.js.

    Instead of the CSRF token: the report must carry the signed token the page
    view was given (it names the view and the visit, and is a day old at most),
    come from our own origin, and be sent by a browser whose analytics cookie
    gives the same visit code. Anything else is a 400 and nothing is written.
    A visitor whose choice no longer allows analytics gets a 204 and nothing
    is written; more than ANALYTICS_BEACON_PER_MINUTE reports a minute, a 429.
    """
    if not _same_origin(request):
        return HttpResponse(status=400)
    beacon = parse_beacon(request.POST, own_hosts=cleaning.own_hosts(request))
    if beacon is None:
        return HttpResponse(status=400)
    cookie_id = request.COOKIES.get(ANALYTICS_COOKIE, "")
    if not cookie_id or not analytics_allowed(request):
        return HttpResponse(status=204)
    if beacon.visit not in _visit_codes(cookie_id):
        return HttpResponse(status=400)
    if not services.beacon_allowed(beacon.visit):
        return HttpResponse(status=429)
    if beacon.kind == "engagement":
        services.record_engagement(
            beacon.view_id,
            seconds=beacon.seconds,
            scroll_percent=beacon.scroll_percent,
            time_zone=beacon.time_zone,
        )
    else:
        services.record_outbound_click(beacon.view_id, target=beacon.target)
    return HttpResponse(status=204)


def _visit_codes(cookie_id: str) -> set[str]:
    """Today's code and yesterday's: a page opened before midnight reports after."""
    today = timezone.localdate()
    return {
        cleaning.visit_code(cookie_id, today),
        cleaning.visit_code(cookie_id, today - dt.timedelta(days=1)),
    }


@login_required
@permission_required("analytics.view_dashboard", raise_exception=True)
@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    form = DateRangeForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    start, end = form.period()
    days = selectors.visits_and_bookings_by_day(start=start, end=end)
    top = selectors.top_courses_viewed(start=start, end=end)
    empty_searches = selectors.searches_without_results(start=start, end=end)
    funnel = selectors.funnel_by_week(start=start, end=end)
    routes = selectors.route_performance(start=start, end=end)
    errors = selectors.errors_by_exception(start=start, end=end)
    period = f"{start:%-d %B %Y} to {end:%-d %B %Y}"
    day_labels = [f"{d:%-d %b}" for d, *_ in days]
    context = {
        "form": form,
        "start": start,
        "end": end,
        "days": days,
        "top": top,
        "empty_searches": empty_searches,
        "funnel": funnel,
        "routes": routes,
        "errors": errors,
        "visits_chart": charts.column_chart(
            chart_id="visits-chart",
            title=f"Visits and bookings per day, {period}",
            desc="Columns per day: visits with analytics accepted, and bookings "
            "made. The table beside gives the figures.",
            labels=day_labels,
            series=[
                ("Visits", [v for _, v, _, _ in days]),
                ("Bookings", [b for *_, b in days]),
            ],
        ),
        "top_chart": charts.bar_chart(
            chart_id="top-chart",
            title=f"Most viewed courses, {period}",
            desc="Page views of each course page. The table beside gives the figures.",
            rows=[(title, views) for title, _, views, _ in top],
        ),
        "funnel_chart": charts.column_chart(
            chart_id="funnel-chart",
            title=f"Booking funnel by week, {period}",
            desc="Per week, visits that viewed the catalogue, a course page, and "
            "made a booking. The table beside gives the figures.",
            labels=[f"{w:%-d %b}" for w, *_ in funnel],
            series=[
                ("Catalogue", [c for _, c, _, _ in funnel]),
                ("Course page", [c for _, _, c, _ in funnel]),
                ("Booked", [b for *_, b in funnel]),
            ],
        ),
        "latency_chart": charts.bar_chart(
            chart_id="latency-chart",
            title=f"95th percentile response time per route, {period}",
            desc="Milliseconds within which 95 in 100 requests to each route were "
            "answered. The table below gives p50, p95, p99 and error rates.",
            rows=[
                (f"{r.method} /{r.route}", round(r.p95) if r.p95 is not None else 5000)
                for r in routes[:15]
            ],
            unit=" ms",
        ),
    }
    return render(request, "analytics/dashboard.html", context)
