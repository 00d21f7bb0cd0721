"""Service-performance counts: every request, no personal data.

Each process adds its requests to an in-memory table keyed by (minute, route
pattern, method, status class): count, total time, total database queries and
a fixed histogram of durations (models.BUCKETS_MS). Server errors are counted
by (minute, route, method, exception class name). The request that finds the
table older than ANALYTICS_METRICS_FLUSH_SECONDS writes it with one
`INSERT ... ON CONFLICT DO UPDATE` per table that adds to the minute's row, so
the tables grow with routes and minutes, never with traffic, and no other
request pays a query. What a process holds when it dies (at most that many
seconds of its counts) is lost; an `atexit` hook writes it on a clean exit.
"""

import atexit
import contextlib
import logging
import sys
import threading
import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import BUCKET_FIELDS, BUCKETS_MS, ErrorMinute, RouteMinute

log = logging.getLogger(__name__)

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
NO_ROUTE = "(no route)"
STATIC = "(static files)"

_lock = threading.Lock()
# (minute, route, method, status class) -> [count, ms, queries, *buckets]
_routes: dict[tuple, list[int]] = {}
# (minute, route, method, exception) -> count
_errors: dict[tuple, int] = {}
_since = time.monotonic()


class QueryCounter:
    """A connection.execute_wrapper that counts the statements a request runs."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def note_exception(sender=None, request=None, **kwargs) -> None:
    """got_request_exception: remember the exception's class name (only)."""
    exc = sys.exc_info()[1]
    if request is not None and exc is not None:
        request._analytics_exception = type(exc).__name__[:100]


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return (match.route or match.view_name or NO_ROUTE)[:200]
    if request.path.startswith(settings.STATIC_URL):
        return STATIC
    return NO_ROUTE


def _bucket(duration_ms: float) -> int:
    for index, bound in enumerate(BUCKETS_MS):
        if duration_ms <= bound:
            return index
    return len(BUCKETS_MS)


def observe(
    *,
    route: str,
    method: str,
    status: int,
    duration_ms: float,
    queries: int,
    exception: str = "",
) -> None:
    minute = timezone.now().replace(second=0, microsecond=0)
    method = method if method in METHODS else "OTHER"
    key = (minute, route, method, max(1, min(5, status // 100)))
    with _lock:
        row = _routes.get(key)
        if row is None:
            row = _routes[key] = [0] * (3 + len(BUCKET_FIELDS))
        row[0] += 1
        row[1] += round(duration_ms)
        row[2] += queries
        row[3 + _bucket(duration_ms)] += 1
        if exception:
            error_key = (minute, route, method, exception)
            _errors[error_key] = _errors.get(error_key, 0) + 1


def flush_due() -> bool:
    return time.monotonic() - _since >= settings.ANALYTICS_METRICS_FLUSH_SECONDS


def _take() -> tuple[dict, dict]:
    global _routes, _errors, _since
    with _lock:
        routes, errors = _routes, _errors
        _routes, _errors = {}, {}
        _since = time.monotonic()
    return routes, errors


def flush_metrics() -> int:
    """Write this process's counts; returns the number of rows written. Counts
    that cannot be written (the database is down) are dropped and logged."""
    routes, errors = _take()
    if not routes and not errors:
        return 0
    try:
        written = _upsert_routes(routes) + _upsert_errors(errors)
    except Exception:
        log.warning(
            "Service-performance counts of %d route-minutes were not written",
            len(routes),
            exc_info=True,
        )
        return 0
    return written


def _upsert(table: str, columns: list[str], key: list[str], added: list[str], rows):
    quote = connection.ops.quote_name
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(
        f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in added
    )
    written = 0
    rows = list(rows)
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        sql = (
            f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 (names are ours)
            f"VALUES {', '.join([placeholders] * len(chunk))} "
            f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {updates}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for row in chunk for value in row])
        written += len(chunk)
    return written


def _upsert_routes(routes: dict) -> int:
    if not routes:
        return 0
    added = ["count", "duration_ms_sum", "queries_sum", *BUCKET_FIELDS]
    key = ["minute", "route", "method", "status_class"]
    return _upsert(
        connection.ops.quote_name(RouteMinute._meta.db_table),
        [*key, *added],
        key,
        added,
        ([*k, *v] for k, v in routes.items()),
    )


def _upsert_errors(errors: dict) -> int:
    if not errors:
        return 0
    key = ["minute", "route", "method", "exception"]
    return _upsert(
        connection.ops.quote_name(ErrorMinute._meta.db_table),
        [*key, "count"],
        key,
        ["count"],
        ([*k, v] for k, v in errors.items()),
    )


def pending() -> int:
    """Route-minutes held in this process and not yet written (tests)."""
    with _lock:
        return len(_routes)


def _flush_at_exit() -> None:
    # The process is ending: nothing to tell if the database is gone.
    with contextlib.suppress(Exception):
        flush_metrics()


atexit.register(_flush_at_exit)
