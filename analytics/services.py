"""Writes of first-party analytics. Every function here is called only for a
visitor whose analytics choice allows it (middleware and views check); none
stores an account id, a whole IP address or a query-string value. A signed-in
visitor's page views and searches carry `account_code` (an HMAC of the
account id), only so that erasure and export reach them (analytics/privacy.py).

Page views are buffered: `record_page_view` pushes one JSON line onto a Redis
list (one round trip, no database query in the request) and
`flush_page_views` (a beat task every minute) moves them into PostgreSQL,
parsing the user agent there. When Redis is not configured or unreachable the
page view is inserted at once instead. Beacon reports (`record_engagement`,
`record_outbound_click`) are written directly: the beacon request is not a
page anyone waits for, and it is rate-limited per visit (`beacon_allowed`).
"""

import datetime as dt
import json
import logging
import threading
import time
import uuid

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from .cleaning import parse_user_agent
from .models import (
    Engagement,
    ErrorMinute,
    OutboundClick,
    PageView,
    PageViewDay,
    RouteMinute,
    Search,
)

log = logging.getLogger(__name__)

BUFFER_KEY = "analytics:page-views"
# About 100 minutes of a busy day's page views: far more than one flush needs.
BUFFER_MAX = 100_000
_UNAVAILABLE = object()


def _redis():
    """(cache, raw client) when the cache is a reachable Redis, else None."""
    from config.cache import ReusingRedisCache

    store = caches["default"]  # `cache` is a proxy: isinstance needs the backend
    if not isinstance(store, ReusingRedisCache) or not store.is_available:
        return None
    return store, store._cache.get_client(write=True)


def record_page_view(event: dict) -> None:
    """Buffer one page view (see the module docstring for its fields)."""
    line = json.dumps(event, default=str)
    found = _redis()
    if found is not None:
        store, client = found
        key = store.make_key(BUFFER_KEY)

        def push():
            # One round trip. The list is capped, so that a beat that stopped
            # running cannot fill Redis: the oldest views go first.
            pipe = client.pipeline(transaction=False)
            pipe.rpush(key, line)
            pipe.ltrim(key, -BUFFER_MAX, -1)
            return pipe.execute()

        if store._call(push, _UNAVAILABLE) is not _UNAVAILABLE:
            return
    _insert([event])


def flush_page_views(*, batch: int = 1000) -> int:
    """Move buffered page views into the database; safe to run twice at once
    (LPOP hands each line to one caller; view ids are unique). Needs Redis 6.2
    or later (LPOP with a count; compose.yaml runs 7)."""
    found = _redis()
    if found is None:
        return 0
    store, client = found
    key = store.make_key(BUFFER_KEY)
    written = 0
    while True:
        lines = store._call(client.lpop, None, key, batch)
        if not lines:
            return written
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:
                log.warning("A buffered page view was not JSON; dropped")
        try:
            written += _insert(events)
        except Exception:
            # Put them back for the next run rather than lose them.
            store._call(client.rpush, None, key, *lines)
            raise
        if len(lines) < batch:
            return written


def _insert(events: list[dict]) -> int:
    views, searches = [], []
    for event in events:
        browser, version, os_family, device = parse_user_agent(event.get("ua", ""))
        at = dt.datetime.fromisoformat(event["at"])
        views.append(
            PageView(
                view_id=uuid.UUID(event["view_id"]),
                kind=event.get("kind", PageView.Kind.VIEW),
                visited_at=at,
                visit=event["visit"],
                route_name=event["route_name"][:100],
                route=event["route"][:200],
                path=event["path"][:500],
                referrer=event.get("referrer", "")[:500],
                browser=browser,
                browser_version=version,
                os=os_family,
                device=device,
                ip_prefix=event.get("ip_prefix", "")[:50],
                account_code=event.get("account", "")[:32],
            )
        )
        if search := event.get("search"):
            searches.append(
                Search(
                    searched_at=at,
                    visit=event["visit"],
                    terms=search["terms"][:200],
                    results=max(0, int(search["results"])),
                    account_code=event.get("account", "")[:32],
                )
            )
    with transaction.atomic():
        PageView.objects.bulk_create(views, ignore_conflicts=True)
        Search.objects.bulk_create(searches)
    return len(views)


def roll_up_page_views(*, days: list[dt.date] | None = None) -> int:
    """Rebuild the dashboard's daily counts (PageViewDay) of `days`; by default
    of every day since the last one rolled up (yesterday at the latest, so that
    views flushed after midnight count), up to today. Idempotent."""
    today = timezone.localdate()
    if days is None:
        last = PageViewDay.objects.aggregate(last=Max("day"))["last"]
        if last is None:
            first = PageView.objects.aggregate(first=Min("visited_at"))["first"]
            last = timezone.localdate(first) if first else today
        start = min(last, today - dt.timedelta(days=1))
        days = [start + dt.timedelta(n) for n in range((today - start).days + 1)]
    written = 0
    tz = timezone.get_current_timezone()
    for day in days:
        low = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        high = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        views = PageView.objects.filter(visited_at__gte=low, visited_at__lt=high)
        counted = {"views": Count("id"), "visits": Count("visit", distinct=True)}
        rows = [
            *(
                PageViewDay(day=day, route_name="", path="", **r)
                for r in views.values("kind").annotate(**counted).order_by()
            ),
            *(
                PageViewDay(day=day, path="", **r)
                for r in views.values("route_name", "kind")
                .annotate(**counted)
                .order_by()
            ),
            *(
                PageViewDay(day=day, route_name="courses:detail", kind="view", **r)
                for r in views.filter(route_name="courses:detail", kind="view")
                .values("path")
                .annotate(**counted)
                .order_by()
            ),
        ]
        with transaction.atomic():
            PageViewDay.objects.filter(day=day).delete()
            PageViewDay.objects.bulk_create(rows)
        written += len(rows)
    return written


# --- the beacon ---------------------------------------------------------------

_local_lock = threading.Lock()
_local_counts: dict[tuple[str, int], int] = {}


def beacon_allowed(visit: str) -> bool:
    """At most ANALYTICS_BEACON_PER_MINUTE reports per visit per minute.

    Counted in the shared cache; and, because the cache answers "1" to every
    count while Redis is down (config/cache.py), also in this process, so an
    outage never lets one visit write without limit."""
    limit = settings.ANALYTICS_BEACON_PER_MINUTE
    minute = int(time.time() // 60)
    with _local_lock:
        if len(_local_counts) > 10_000:
            for old in [k for k in _local_counts if k[1] != minute]:
                del _local_counts[old]
            if len(_local_counts) > 10_000:
                _local_counts.clear()
        local = _local_counts.get((visit, minute), 0) + 1
        _local_counts[(visit, minute)] = local
    if local > limit:
        return False
    key = f"analytics:beacon:{visit}:{minute}"
    cache.add(key, 0, 120)
    return cache.incr(key) <= limit


def record_engagement(
    view_id: uuid.UUID, *, seconds: int, scroll_percent: int, time_zone: str
) -> None:
    """The latest report for a page view replaces the one before (the script
    sends running totals), so a repeated report changes nothing."""
    Engagement.objects.bulk_create(
        [
            Engagement(
                view_id=view_id,
                reported_at=timezone.now(),
                seconds=seconds,
                scroll_percent=scroll_percent,
                time_zone=time_zone,
            )
        ],
        update_conflicts=True,
        unique_fields=["view_id"],
        update_fields=["reported_at", "seconds", "scroll_percent", "time_zone"],
    )


def record_outbound_click(view_id: uuid.UUID, *, target: str) -> None:
    OutboundClick.objects.create(
        view_id=view_id, clicked_at=timezone.now(), target=target[:300]
    )


# --- retention ------------------------------------------------------------------


def _cutoff() -> dt.datetime:
    months = settings.PRIVACY_RETENTION["analytics_events_months"]
    return timezone.now() - relativedelta(months=months)


def remove_old_analytics() -> int:
    """Page views (and their daily counts), searches, engagement and clicks
    older than RETENTION_ANALYTICS_MONTHS."""
    cutoff = _cutoff()
    removed = 0
    for model, field in (
        (PageView, "visited_at"),
        (Search, "searched_at"),
        (Engagement, "reported_at"),
        (OutboundClick, "clicked_at"),
    ):
        count, _ = model.objects.filter(**{f"{field}__lt": cutoff}).delete()
        removed += count
    count, _ = PageViewDay.objects.filter(day__lt=timezone.localdate(cutoff)).delete()
    return removed + count


def remove_old_performance_counts() -> int:
    """The notice keeps service-performance counts as long (26 months)."""
    cutoff = _cutoff()
    removed = 0
    for model in (RouteMinute, ErrorMinute):
        count, _ = model.objects.filter(minute__lt=cutoff).delete()
        removed += count
    return removed
