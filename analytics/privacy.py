"""What analytics holds about a person. Nothing in it names anyone: a visit
code that changes daily (an HMAC of the analytics cookie and the day), the IP
address cut to /24 (IPv4) or /48 (IPv6), addresses without query values. A
page view or search made while signed in also carries `account_code`, an HMAC
of the account id that staff never see: it is what lets erasure delete a
person's analytics events (and the beacon's reports about those page views)
and export show them. Rows are deleted after RETENTION_ANALYTICS_MONTHS."""

from django.db.models import Q

from privacy.registry import (
    Category,
    not_personal,
    register,
    register_on_objection,
    register_retention,
)

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

not_personal(
    PageViewDay,
    ["route_name", "path"],
    reason="Counts of page views and visits per day and route or course page, "
    "for everyone together.",
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


def _code(person) -> str:
    from .cleaning import account_code

    return account_code(person.pk)


def _own_views(person):
    return PageView.objects.filter(account_code=_code(person)).values("view_id")


def export_page_views(person) -> list[dict]:
    return list(
        PageView.objects.filter(account_code=_code(person))
        .order_by("visited_at")
        .values(
            "visited_at",
            "kind",
            "visit",
            "route_name",
            "route",
            "path",
            "referrer",
            "browser",
            "browser_version",
            "os",
            "device",
            "ip_prefix",
        )
    )


def export_searches(person) -> list[dict]:
    return list(
        Search.objects.filter(account_code=_code(person))
        .order_by("searched_at")
        .values("searched_at", "visit", "terms", "results")
    )


def export_engagement(person) -> list[dict]:
    return list(
        Engagement.objects.filter(view_id__in=_own_views(person))
        .order_by("reported_at")
        .values("reported_at", "seconds", "scroll_percent", "time_zone")
    )


def export_outbound_clicks(person) -> list[dict]:
    return list(
        OutboundClick.objects.filter(view_id__in=_own_views(person))
        .order_by("clicked_at")
        .values("clicked_at", "target")
    )


def erase_analytics(person) -> None:
    """Delete every analytics event made while signed in as the person: the
    beacon's reports about their page views first, then the views and
    searches. The dashboard's daily counts are totals and stay."""
    views = list(_own_views(person).values_list("view_id", flat=True))
    Engagement.objects.filter(view_id__in=views).delete()
    OutboundClick.objects.filter(view_id__in=views).delete()
    PageView.objects.filter(account_code=_code(person)).delete()
    Search.objects.filter(account_code=_code(person)).delete()


_WHY_CODE = {
    "account_code": "An HMAC of your account id: it means nothing outside our "
    "database and is how we find these rows."
}

register(
    Category(
        name="analytics_page_views",
        model=PageView,
        fields=[
            "visit",
            "route_name",
            "route",
            "path",
            "referrer",
            "browser",
            "browser_version",
            "os",
            "ip_prefix",
            "account_code",
        ],
        owner=lambda person: Q(account_code=_code(person)),
        export=export_page_views,
        erase=erase_analytics,
        withheld=_WHY_CODE,
        note="Pages you viewed while signed in, if you accepted analytics "
        "cookies; deleted with your account.",
    )
)
register(
    Category(
        name="analytics_searches",
        model=Search,
        fields=["visit", "terms", "account_code"],
        owner=lambda person: Q(account_code=_code(person)),
        export=export_searches,
        erase=erase_analytics,
        withheld=_WHY_CODE,
    )
)
register(
    Category(
        name="analytics_engagement",
        model=Engagement,
        fields=["time_zone"],
        owner=lambda person: Q(view_id__in=_own_views(person)),
        export=export_engagement,
        erase=erase_analytics,
    )
)
register(
    Category(
        name="analytics_outbound_clicks",
        model=OutboundClick,
        fields=["target"],
        owner=lambda person: Q(view_id__in=_own_views(person)),
        export=export_outbound_clicks,
        erase=erase_analytics,
    )
)

# An objection to analytics also removes what was recorded while signed in.
register_on_objection(
    "analytics events",
    lambda person, purpose: erase_analytics(person) if purpose == "analytics" else None,
)

register_retention("analytics events", services.remove_old_analytics)
register_retention("service performance counts", services.remove_old_performance_counts)
