"""AnalyticsMiddleware: performance counts for every request, and a page view
for visitors whose analytics choice allows it.

Placed second in MIDDLEWARE (after the request id), so its time and query
count cover everything below it, and outside ConsentMiddleware, whose
decision (`request.analytics_allowed`: accepted cookies, no Sec-GPC, and for
a signed-in person `can_contact(person, "web", "analytics")`, which is false
when they objected, restricted processing or their account is closed or
erased) it reads after the response instead of asking the database again.

Nothing here may break a page: any failure is logged and the response goes
out as it was.
"""

import logging
import re
import time
import uuid

from django.core import signing
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from consent.middleware import ANALYTICS_COOKIE

from . import cleaning, metrics, services

log = logging.getLogger(__name__)

# base.html writes this where the beacon script's token goes; it is replaced
# per response here (so a page cached whole, as the catalogue is, still gets
# a token of its own), or emptied when nothing is recorded.
TOKEN_SLOT = b"analytics-token-slot-5c1e9a"
TOKEN_SALT = "cpd.analytics.beacon"  # noqa: S105 (a salt, not a secret)
# Pages never recorded: the back office, our own endpoints, probes.
NOT_RECORDED = ("admin/", "staff/", "analytics/", "healthz", "readyz")
_SCRIPT = re.compile(rb"<script [^>]*data-token=\"" + TOKEN_SLOT + rb"\"></script>")
# The catalogue's result count, written by courses/course_list_content.html.
_RESULTS = re.compile(rb'data-analytics-results="([0-9]{1,9})"')


def beacon_token(view_id: uuid.UUID, visit: str) -> str:
    return signing.dumps({"v": view_id.hex, "c": visit}, salt=TOKEN_SALT)


class AnalyticsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = metrics.QueryCounter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        try:
            metrics.observe(
                route=metrics.route_of(request),
                method=request.method or "",
                status=response.status_code,
                duration_ms=duration_ms,
                queries=counter.count,
                exception=getattr(request, "_analytics_exception", ""),
            )
        except Exception:
            log.exception("A request was not counted; the page is unaffected")
        token = ""
        try:
            token = self._record(request, response)
        except Exception:
            log.exception("A page view was not recorded; the page is unaffected")
        try:
            # Always: with no token the beacon script is taken out of the page.
            self._fill_token(response, token)
            if metrics.flush_due():
                metrics.flush_metrics()
        except Exception:
            log.exception("Analytics failed for a request; the page is unaffected")
        return response

    def _record(self, request, response) -> str:
        """Record the page view if allowed; the beacon token for it, or ''."""
        if not getattr(request, "analytics_allowed", False):
            return ""
        match = request.resolver_match
        if match is None or match.route.startswith(NOT_RECORDED):
            return ""
        kind = _kind(request, response, match)
        if kind is None:
            return ""
        cookie_id = request.COOKIES.get(ANALYTICS_COOKIE, "")
        if not cookie_id and ANALYTICS_COOKIE in response.cookies:
            cookie_id = response.cookies[ANALYTICS_COOKIE].value  # set just now
        if not cookie_id:
            return ""
        visit = cleaning.visit_code(cookie_id)
        view_id = uuid.uuid4()
        event = {
            "view_id": str(view_id),
            "kind": kind,
            "at": timezone.now().isoformat(),
            "visit": visit,
            "route_name": match.view_name or "",
            "route": match.route,
            "path": cleaning.page_address(
                request.path, request.META.get("QUERY_STRING", ""), match
            ),
            "referrer": cleaning.clean_referrer(
                request.headers.get("Referer", ""),
                own_hosts=cleaning.own_hosts(request),
            ),
            # Parsed (and dropped) when the buffer is flushed.
            "ua": request.headers.get("User-Agent", "")[:500],
            "ip_prefix": cleaning.truncate_ip(cleaning.client_address(request)),
            "search": _search(request, response, match),
            "account": cleaning.account_code(request.user.pk)
            if getattr(request, "user", None) is not None
            and request.user.is_authenticated
            else "",
        }
        services.record_page_view(event)
        return beacon_token(view_id, visit) if kind == "view" else ""

    def _fill_token(self, response, token: str) -> None:
        if getattr(response, "streaming", False) or not response.get(
            "Content-Type", ""
        ).startswith("text/html"):
            return
        content = response.content
        if TOKEN_SLOT not in content:
            return
        if token:
            response.content = content.replace(TOKEN_SLOT, token.encode())
        else:
            # Nothing recorded (an objection, a restriction, a page we do not
            # record): the script is not loaded at all.
            response.content = _SCRIPT.sub(b"", content)
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))


def _kind(request, response, match) -> str | None:
    if (
        request.method == "GET"
        and response.status_code == 200
        and response.get("Content-Type", "").startswith("text/html")
    ):
        return "view"
    # The funnel's last step: a booking made (it redirects to the booking's
    # own page under My bookings; a refusal goes back to the course page).
    if (
        request.method == "POST"
        and match.view_name == "bookings:book"
        and response.status_code in (302, 303)
        and response.get("Location", "").startswith(reverse("bookings:list"))
    ):
        return "booking"
    return None


def _search(request, response, match) -> dict | None:
    """The catalogue's search terms and result count, on its first page only
    (later pages are the same search). The count is read from the page, where
    the catalogue wrote it (cached or not), so recording adds no query."""
    if match.view_name != "courses:list":
        return None
    terms = " ".join(request.GET.get("q", "").split())[:200]
    if not terms or request.GET.get("page", "1") not in ("", "1"):
        return None
    found = _RESULTS.search(response.content)
    if found is None:
        return None
    return {"terms": terms, "results": int(found.group(1))}
