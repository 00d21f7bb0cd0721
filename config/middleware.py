"""A database outage is a 503 with Retry-After, not the 500 page.

When PostgreSQL is down or restarting, every request that touches it raises
`django.db.OperationalError` (cannot connect, connection lost) or
`InterfaceError` (the connection was already closed). Those are temporary and
not a fault in the request, so the person gets `templates/503.html` ("try
again in a minute; nothing you had saved is lost"), rendered without the
database, context processors or the session, with status 503 and a
`Retry-After` header (`DATABASE_OUTAGE_RETRY_AFTER_SECONDS`) that load
balancers and crawlers honour. /healthz answers the same as JSON.

Two entry points share `outage_response`: `DatabaseOutageMiddleware` turns an
exception raised by a view into the 503 page, and `config.views.server_error_view`
(the project's handler500) does the same for one raised by another middleware
(loading the session or the signed-in user, say), which Django turns into a
500 before any middleware could see it. Nothing is retried: the request's own
transaction was rolled back by PostgreSQL, so nothing is half-written.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

log = logging.getLogger(__name__)

DATABASE_OUTAGE = (OperationalError, InterfaceError)


def is_database_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_OUTAGE)


def outage_response(request: HttpRequest | None, exc: BaseException) -> HttpResponse:
    retry_after = str(getattr(settings, "DATABASE_OUTAGE_RETRY_AFTER_SECONDS", 30))
    log.warning(
        "The database is unavailable (%s: %s); answered 503",
        exc.__class__.__name__,
        exc,
    )
    if request is not None and request.path.rstrip("/") == "/healthz":
        response: HttpResponse = JsonResponse(
            {
                "status": "unavailable",
                "checks": {"database": f"error: {exc.__class__.__name__}"},
            },
            status=503,
        )
    else:
        # No request: no context processors, nothing that reads the database.
        response = HttpResponse(
            loader.get_template("503.html").render({"retry_after": retry_after}),
            status=503,
        )
    response["Retry-After"] = retry_after
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    """Views that raise OperationalError/InterfaceError answer 503 (see above)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            return outage_response(request, exception)
        return None
