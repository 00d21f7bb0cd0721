"""Every form field that takes text has a length and every date a range.

A 1,000,000-character note or a completion date of 0001-01-01 is nobody's
real input: forms refuse it with a message beside the field.
`tests/config/test_form_bounds.py` walks every form in the project apps and
fails on a text field without `max_length` or a date field without both a
lower and an upper bound, so a new form cannot forget them.

- `limit_text(field, n)`: a max_length, its validator and the input's maxlength.
- `bound_date(field, past_only=..., years_ahead=...)`: not before 1900, not in
  the future when `past_only` (training already done, money already paid),
  otherwise not more than `years_ahead` years ahead. The upper bound is worked
  out when the form is checked, not when the module is imported.
"""

import datetime as dt

from django import forms
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EARLIEST_DATE = dt.date(1900, 1, 1)

# Lengths for free text that has no column limit of its own.
LONG_TEXT = 5000  # a note, a reason, a statement
VERY_LONG_TEXT = 20000  # a campaign's body


def limit_text(field: forms.CharField, max_length: int) -> forms.CharField:
    field.max_length = max_length
    field.validators.append(MaxLengthValidator(max_length))
    field.widget.attrs["maxlength"] = str(max_length)
    return field


def _latest(past_only: bool, years_ahead: int, as_datetime: bool):
    def latest():
        today = timezone.localdate()
        day = today if past_only else today + dt.timedelta(days=366 * years_ahead)
        if as_datetime:
            return timezone.make_aware(dt.datetime.combine(day, dt.time.max))
        return day

    return latest


def bound_date(
    field: forms.DateField | forms.DateTimeField,
    *,
    past_only: bool = False,
    years_ahead: int = 10,
):
    as_datetime = isinstance(field, forms.DateTimeField)
    earliest = EARLIEST_DATE
    if as_datetime:
        earliest = timezone.make_aware(dt.datetime.combine(EARLIEST_DATE, dt.time()))
    field.validators.append(
        MinValueValidator(earliest, message=_("Enter a date in or after 1900"))
    )
    if past_only:
        message = _("The date must be today or in the past")
    else:
        message = _("Enter a date no more than %(years)s years from now") % {
            "years": years_ahead
        }
    field.validators.append(
        MaxValueValidator(_latest(past_only, years_ahead, as_datetime), message=message)
    )
    return field
