"""Analytics holds nothing that names a person, so there is nothing to export
or erase for one: no account id, a visit code that changes daily (an HMAC of
the analytics cookie and the day, which cannot be reversed or matched to an
account), the IP address cut to /24 (IPv4) or /48 (IPv6), addresses without
query values. Rows are deleted after RETENTION_ANALYTICS_MONTHS."""

from privacy.registry import not_personal, register_retention

from . import services
from .models import (
    Engagement,
    ErrorMinute,
    OutboundClick,
    PageView,
    PageViewDay,
    RouteMinute,
    Search,
)

_NO_LINK = (
    "Not linked to any account: tied together only by a visit code that changes "
    "every day (an HMAC of the analytics cookie and the day) and, for page "
    "views, the IP address truncated to /24 (IPv4) or /48 (IPv6)."
)

not_personal(
    PageView,
    [
        "visit",
        "route_name",
        "route",
        "path",
        "referrer",
        "browser",
        "browser_version",
        "os",
        "ip_prefix",
    ],
    reason=_NO_LINK + " Addresses keep query names, never their values; an "
    "address holding an id or a token is kept as its route pattern; another "
    "site's address is kept as its origin only.",
)
not_personal(
    PageViewDay,
    ["route_name", "path"],
    reason="Counts of page views and visits per day and route or course page, "
    "for everyone together.",
)
not_personal(
    Search,
    ["visit", "terms"],
    reason=_NO_LINK + " Terms typed into the catalogue's search box, kept "
    "without any link to who typed them.",
)
not_personal(
    Engagement,
    ["time_zone"],
    reason=_NO_LINK + " A time zone name such as Europe/London.",
)
not_personal(
    OutboundClick,
    ["target"],
    reason=_NO_LINK + " The origin of another website a link led to.",
)
not_personal(
    RouteMinute,
    ["route", "method"],
    reason="Counts per URL pattern and minute, for every request together.",
)
not_personal(
    ErrorMinute,
    ["route", "method", "exception"],
    reason="Counts per URL pattern, minute and exception class name.",
)

register_retention("analytics events", services.remove_old_analytics)
register_retention("service performance counts", services.remove_old_performance_counts)
