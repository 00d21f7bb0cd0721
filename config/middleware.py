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

3. A body too large is refused before it is read.

Django never reads more of a body than its Content-Length, and parses form
fields only up to DATA_UPLOAD_MAX_MEMORY_SIZE, but files it streams to disk
without any limit. `RequestSizeLimitMiddleware` answers 413 with
`templates/413.html` when the declared length is over `MAX_REQUEST_BYTES`,
without reading the body, opening the session or touching the database. A body
sent without a length (`Transfer-Encoding: chunked`; browsers never send one)
would be read as empty by Django, so it is refused plainly with 411 rather than
failing later as a missing CSRF token. Django's own limits (too many form
fields or files, form fields over DATA_UPLOAD_MAX_MEMORY_SIZE) are met when
`RefuseUnreadableInputMiddleware` first reads the form, and get the same 413
page instead of a 400.
The proxy in front must enforce a limit too (README, "Request size").
"""

import logging
import re

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
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
    if request is not None and request.path.rstrip("/") in ("/healthz", "/readyz"):
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

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


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
        if request.method == "POST" and request.content_type in FORM_TYPES:
            try:
                # The first read of the form: where Django's own limits bite.
                form = request.POST
            except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
                log.warning("Refused a form to %s: %s", request.path, exc)
                return too_large_response(
                    reason=_("The form has more in it than any of our forms needs.")
                )
            for key, values in form.lists():
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


def too_large_response(*, status: int = 413, reason: str = "") -> HttpResponse:
    """The 413 page, rendered without the request: no session, no database."""
    mb = settings.MAX_REQUEST_BYTES / (1024 * 1024)
    file_mb = settings.MAX_UPLOAD_BYTES / (1024 * 1024)
    response = HttpResponse(
        loader.get_template("413.html").render(
            {
                "reason": reason,
                "request_mb": f"{mb:g}",
                "file_mb": f"{file_mb:g}",
                "length_required": status == 411,
            }
        ),
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _declared_length(request: HttpRequest) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or ""
    try:
        return max(int(raw), 0)
    except ValueError:
        return None


class RequestSizeLimitMiddleware:
    """Refuses a request body over MAX_REQUEST_BYTES, or one without a declared
    length, before reading it (see item 3 above)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = _declared_length(request)
        if length is not None and length > settings.MAX_REQUEST_BYTES:
            log.warning(
                "Refused a %s request of %s bytes to %s (MAX_REQUEST_BYTES is %s)",
                request.method,
                length,
                request.path,
                settings.MAX_REQUEST_BYTES,
            )
            return too_large_response()
        if not length and request.META.get("HTTP_TRANSFER_ENCODING"):
            return too_large_response(status=411)
        return self.get_response(request)
