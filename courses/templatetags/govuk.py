"""GOV.UK style for times and money in templates.

- `clock`: "10am", "1:30pm", "midday", "midnight".
- `time_range`: a session's "10am to 1pm" (dates are written separately).
- `when`: a date and time, "Friday 11 December 2026 at 10am" (the date's
  format can be given: `|when:"j M Y"` is "11 Dec 2026 at 10am").
- `money`: "£1,850", "£75.50", and a negative amount with a real minus
  sign (U+2212) before the pound sign, never "£-60.00".
"""

import datetime as dt
import functools
from decimal import Decimal

from django import template
from django.template.defaultfilters import date as date_format_filter
from django.utils import timezone
from django.utils.translation import get_language

register = template.Library()

MINUS = "\N{MINUS SIGN}"


@register.filter
def clock(value: dt.datetime | dt.time | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).time()
    if (value.hour, value.minute) == (12, 0):
        return "midday"
    if (value.hour, value.minute) == (0, 0):
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return (
        f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"
    )


@register.filter
def when(value: dt.datetime | None, date_format: str = "l j F Y") -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    if _DATE_ONLY.issuperset(c for c in date_format if c.isalpha()):
        day = _day(get_language(), local.date(), date_format)
    else:
        day = date_format_filter(local, date_format)
    return f"{day} at {clock(local)}"


# The letters of Django's date formats that read the day alone (not the time
# or the time zone).
_DATE_ONLY = frozenset("dDjlNSwzWFmMnyYLtbEo")


@functools.lru_cache(maxsize=1024)
def _day(language: str | None, day: dt.date, date_format: str) -> str:
    """A day in `date_format`, in `language` (the active one: the caller's
    key): formatting it reads the day's and month's names through the
    translations, about 25 microseconds, and a page of twenty dates has few
    different days."""
    return date_format_filter(day, date_format)


@register.simple_tag
def time_range(starts: dt.datetime, ends: dt.datetime) -> str:
    return f"{clock(starts)} to {clock(ends)}"


@register.filter
def money(value: Decimal | int | None, pence: str = "") -> str:
    """Whole pounds without pence unless `pence` is "always" (ledgers, where
    amounts line up)."""
    if value is None:
        return ""
    value = Decimal(value)
    sign = MINUS if value < 0 else ""
    value = abs(value)
    if value == value.to_integral_value() and pence != "always":
        return f"{sign}£{value:,.0f}"
    return f"{sign}£{value:,.2f}"


@register.filter
def has_error(messages) -> bool:
    """Whether the page shows an error message (its title then starts
    "Error: "). Reading the messages here does not use them up for the page."""
    return any(m.level_tag == "error" for m in messages or ())
