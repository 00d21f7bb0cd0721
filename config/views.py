import sys

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from kombu import Connection

from .middleware import is_database_outage, outage_response


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    # The Redis backend turns an outage into misses (config.cache), so ask
    # Redis itself; other backends are checked by a round trip.
    if hasattr(cache, "ping"):
        cache.ping()
        return
    cache.set("healthz", "ok", 10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was stored")


def _check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # embedded mode: tasks run in-process, there is no broker
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _service_checks() -> dict[str, str]:
    """Each service /healthz and /readyz ask about: "ok" or the error's type."""
    checks = {}
    for name, check in (
        ("database", _check_database),
        ("cache", _check_cache),
        ("broker", _check_broker),
    ):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {exc.__class__.__name__}"
    return checks


@never_cache
def healthz_view(request: HttpRequest) -> JsonResponse:
    """Database, cache and broker reachability: 200 when all are fine, else 503
    JSON naming each check that failed. It never raises: whatever is down, the
    answer is JSON (a database outage met before this view, while loading the
    session, is answered the same way by config.middleware)."""
    checks = _service_checks()
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


def _check_worker_and_beat() -> str:
    """'ok…' when a heartbeat ran within READY_HEARTBEAT_MINUTES (beat sent it
    and a worker ran it), or when tasks run in-process (the embedded mode)."""
    import datetime as dt

    from django.utils import timezone

    from config.celery import HEARTBEAT_KEY

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "ok (tasks run in-process)"
    seen = cache.get(HEARTBEAT_KEY)
    if not seen:
        return "error: no heartbeat seen; start the worker and beat"
    when = dt.datetime.fromisoformat(seen)
    limit = dt.timedelta(minutes=settings.READY_HEARTBEAT_MINUTES)
    if timezone.now() - when > limit:
        return f"error: last heartbeat at {when:%Y-%m-%d %H:%M:%S} UTC"
    return "ok"


@never_cache
def readyz_view(request: HttpRequest) -> JsonResponse:
    """Readiness: what /healthz checks, and whether a worker and beat have
    been seen lately (a heartbeat task that beat sends and a worker runs).
    200 when everything is ready, else 503; JSON either way, never raises."""
    checks = _service_checks()
    try:
        checks["worker_and_beat"] = _check_worker_and_beat()
    except Exception as exc:
        checks["worker_and_beat"] = f"error: {exc.__class__.__name__}"
    ready = all(v.startswith("ok") for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


def server_error_view(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage (raised anywhere, middleware included) is
    the 503 page with Retry-After; anything else is the static 500 page."""
    exc = sys.exc_info()[1]
    if is_database_outage(exc):
        return outage_response(request, exc)
    return HttpResponse(loader.get_template("500.html").render(), status=500)
