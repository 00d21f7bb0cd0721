"""Middleware of our own: two kinds of request that must never be a 500.

1. A database outage is a 503 with Retry-After, not the 500 page.

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

2. Input the application can never make sense of is refused at the door.

A NUL byte or another control character in a path, a query string or a form
value reaches PostgreSQL (which refuses NUL in text and raises, a 500) or ends
up stored where nobody can read it. A very long query string makes a slow
search and a huge cache key. Both get a clear 400 page before any view runs, so
nothing is written. Tabs and line breaks stay allowed in form values (a
textarea sends them); nowhere else do they make sense.
"""

import logging
import re

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

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


# C0 controls and DEL; tab, line feed and carriage return are allowed in form
# values only.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# No search, filter or link of ours comes near this; a longer query string is
# refused rather than searched.
MAX_QUERY_STRING = 4096


def _bad_request(request: HttpRequest, reason: str) -> HttpResponse:
    # The page's own address is what was refused: never echo it back.
    return render(
        request,
        "400.html",
        {"reason": reason, "current_path": "/"},
        status=400,
    )


class RefuseUnreadableInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _CONTROL.search(request.path):
            return _bad_request(
                request, _("The web address contains a character it cannot contain.")
            )
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
            return _bad_request(
                request,
                _("The web address is too long. Shorten your search and try again."),
            )
        for key, values in request.GET.lists():
            if _CONTROL.search(key) or any(_CONTROL.search(v) for v in values):
                return _bad_request(
                    request,
                    _("The web address contains a character it cannot contain."),
                )
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            for key, values in request.POST.lists():
                if _CONTROL.search(key) or any(
                    _CONTROL_IN_TEXT.search(v) for v in values
                ):
                    return _bad_request(
                        request,
                        _(
                            "The form contains a character that cannot be typed, "
                            "such as a NUL. Remove it and send the form again."
                        ),
                    )
        return self.get_response(request)
