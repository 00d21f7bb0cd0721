"""The shape of analytics input: the beacon's report and the dashboard's dates."""

import datetime as dt
import functools
import uuid
import zoneinfo
from dataclasses import dataclass
from urllib.parse import urlsplit

from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.bounds import bound_date
from config.numbers import parse_int
from config.widgets import GovukDateField

from .middleware import TOKEN_SALT

TOKEN_MAX_AGE_SECONDS = 24 * 3600
KINDS = ("engagement", "click")


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@dataclass(frozen=True)
class Beacon:
    view_id: uuid.UUID
    visit: str
    kind: str
    seconds: int = 0
    scroll_percent: int = 0
    time_zone: str = ""
    target: str = ""


def parse_beacon(data, *, own_hosts: set[str]) -> Beacon | None:
    """The report, or None when any part of it is not what the script sends:
    an unsigned, altered or day-old token, an unknown kind, a number out of
    range, a time zone that is not one, a link that is not to another site."""
    token = data.get("token", "")
    if not isinstance(token, str) or len(token) > 300:
        return None
    try:
        signed = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE_SECONDS)
        view_id = uuid.UUID(hex=str(signed["v"]))
        visit = str(signed["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    kind = data.get("kind", "")
    if kind == "engagement":
        seconds = parse_int(data.get("seconds"), minimum=0, maximum=86_400)
        scroll = parse_int(data.get("scroll"), minimum=0, maximum=100)
        time_zone = data.get("tz", "")
        if seconds is None or scroll is None or not isinstance(time_zone, str):
            return None
        if time_zone and time_zone not in _time_zones():
            return None
        return Beacon(view_id, visit, kind, seconds, scroll, time_zone)
    if kind == "click":
        target = _outbound(data.get("href", ""), own_hosts)
        return Beacon(view_id, visit, kind, target=target) if target else None
    return None


def _outbound(href: object, own_hosts: set[str]) -> str:
    """'https://example.org' for a link to another site, else ''. The origin
    only: a path can be a meeting's joining link or hold someone's name."""
    if not isinstance(href, str) or not href or len(href) > 2000:
        return ""
    if any(ord(c) < 32 or ord(c) == 127 for c in href):
        return ""
    try:
        parts = urlsplit(href)
        host = parts.hostname
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not host:
        return ""
    if parts.netloc.lower() in own_hosts:
        return ""
    return f"{parts.scheme}://{parts.netloc.lower()}"[:300]


# --- the dashboard --------------------------------------------------------------

DEFAULT_DAYS = 28
MAX_DAYS = 800  # about the 26 months analytics is kept


def _date_field(label):
    field = GovukDateField(
        label=label, required=False, help_text=_("For example, 14 9 2026")
    )
    return bound_date(field, past_only=False, years_ahead=1)


class DateRangeForm(forms.Form):
    date_from = _date_field(_("From date"))
    date_to = _date_field(_("To date"))

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error(
                "date_to", _("The end date must be on or after the start date")
            )
        elif start and end and (end - start).days > MAX_DAYS:
            self.add_error(
                "date_to", _("Choose a range of at most %(n)s days") % {"n": MAX_DAYS}
            )
        return data

    def period(self) -> tuple[dt.date, dt.date]:
        """The range asked for, or the last DEFAULT_DAYS days for any part
        missing or wrong (the errors are shown beside the fields)."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("date_to") or today
        start = data.get("date_from") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        return start, end
