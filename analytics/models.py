"""What first-party analytics and the service-performance counts store.

None of these rows names a person: no account id, no whole IP address, no
query-string values. A page view carries `visit`, a code that is an HMAC of
the analytics cookie and the day (it changes every day and cannot be turned
back into the cookie), and `ip_prefix`, the address cut to its /24 (IPv4) or
/48 (IPv6). Rows are deleted after RETENTION_ANALYTICS_MONTHS (privacy.py).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PageView(models.Model):
    """One page a visitor who accepted analytics cookies saw (or, kind
    "booking", one booking they made: the end of the funnel)."""

    class Kind(models.TextChoices):
        VIEW = "view", _("Page view")
        BOOKING = "booking", _("Booking made")

    class Device(models.TextChoices):
        DESKTOP = "desktop", _("Desktop")
        MOBILE = "mobile", _("Mobile")
        TABLET = "tablet", _("Tablet")
        BOT = "bot", _("Robot")
        OTHER = "other", _("Other")

    view_id = models.UUIDField(unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.VIEW)
    visited_at = models.DateTimeField(db_index=True)
    visit = models.CharField(max_length=32, db_index=True)
    route_name = models.CharField(max_length=100)
    route = models.CharField(max_length=200)
    path = models.CharField(max_length=500)
    referrer = models.CharField(max_length=500, blank=True)
    browser = models.CharField(max_length=50, blank=True)
    browser_version = models.CharField(max_length=20, blank=True)
    os = models.CharField(max_length=50, blank=True)
    device = models.CharField(
        max_length=10, choices=Device.choices, default=Device.OTHER
    )
    ip_prefix = models.CharField(max_length=50, blank=True)
    # Signed-in page views only: `cleaning.account_code` of the account, so
    # that erasing (or exporting) the account reaches them; "" otherwise.
    account_code = models.CharField(
        max_length=32, blank=True, default="", db_default="", db_index=True
    )

    class Meta:
        permissions = [("view_dashboard", "Can see the analytics dashboard")]
        indexes = [
            models.Index(
                fields=["route_name", "visited_at"], name="pageview_route_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visited_at:%Y-%m-%d %H:%M} {self.path}"


class PageViewDay(models.Model):
    """Page views of one local day, counted for the dashboard, so that a range
    of 26 months reads hundreds of thousands of small rows, not millions.

    Visits add up across days because a visit code lives for one day only. Rows
    per day: all routes together (`route_name` ""), each route (`path` ""),
    and each course page (route "courses:detail" with its `path`). Rebuilt for
    yesterday and today after every flush (services.roll_up_page_views).
    """

    day = models.DateField()
    route_name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=10, choices=PageView.Kind.choices)
    path = models.CharField(max_length=500, blank=True)
    views = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "route_name", "kind", "path"],
                name="pageviewday_one_row_per_count",
            )
        ]
        indexes = [models.Index(fields=["day", "route_name"], name="pageviewday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.route_name or 'all'} {self.path}"


class Engagement(models.Model):
    """What the beacon reported for one page view: the latest report wins."""

    view_id = models.UUIDField(unique=True)
    reported_at = models.DateTimeField(db_index=True)
    seconds = models.PositiveIntegerField(default=0)
    scroll_percent = models.PositiveSmallIntegerField(default=0)
    time_zone = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.view_id}: {self.seconds} s, {self.scroll_percent}%"


class OutboundClick(models.Model):
    view_id = models.UUIDField(db_index=True)
    clicked_at = models.DateTimeField(db_index=True)
    # The origin of the site a link led to; never its path or query string.
    target = models.CharField(max_length=300)

    def __str__(self) -> str:
        return self.target


class Search(models.Model):
    """A catalogue search (its first page only) and how many courses it found."""

    searched_at = models.DateTimeField(db_index=True)
    visit = models.CharField(max_length=32)
    terms = models.CharField(max_length=200)
    results = models.PositiveIntegerField()
    account_code = models.CharField(
        max_length=32, blank=True, default="", db_default="", db_index=True
    )

    def __str__(self) -> str:
        return f"{self.terms} ({self.results})"


class RouteMinute(models.Model):
    """Requests to one route, method and status class in one minute.

    `le_<n>` counts requests that took at most n ms (and more than the bucket
    before); `slower` those over the last bucket. Percentiles are read from
    these buckets (selectors.route_performance).
    """

    minute = models.DateTimeField()
    route = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    status_class = models.PositiveSmallIntegerField()  # 2 for 2xx ... 5 for 5xx
    count = models.PositiveIntegerField(default=0)
    duration_ms_sum = models.BigIntegerField(default=0)
    queries_sum = models.BigIntegerField(default=0)
    le_10 = models.PositiveIntegerField(default=0)
    le_25 = models.PositiveIntegerField(default=0)
    le_50 = models.PositiveIntegerField(default=0)
    le_100 = models.PositiveIntegerField(default=0)
    le_250 = models.PositiveIntegerField(default=0)
    le_500 = models.PositiveIntegerField(default=0)
    le_1000 = models.PositiveIntegerField(default=0)
    le_2500 = models.PositiveIntegerField(default=0)
    le_5000 = models.PositiveIntegerField(default=0)
    slower = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "route", "method", "status_class"],
                name="routeminute_one_row_per_minute",
            )
        ]
        indexes = [models.Index(fields=["minute"], name="routeminute_minute")]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.method} {self.route}"


# The histogram's upper bounds in ms, in the order of RouteMinute's columns.
BUCKETS_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
BUCKET_FIELDS = (*(f"le_{b}" for b in BUCKETS_MS), "slower")


class ErrorMinute(models.Model):
    """Server errors of one route in one minute, by exception class name."""

    minute = models.DateTimeField()
    route = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    exception = models.CharField(max_length=100)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "route", "method", "exception"],
                name="errorminute_one_row_per_minute",
            )
        ]
        indexes = [models.Index(fields=["minute"], name="errorminute_minute")]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.route} {self.exception}"
