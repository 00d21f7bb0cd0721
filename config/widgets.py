"""The GOV.UK date input: day, month and year as three boxes, not `type=date`.

The browser's date picker is hard to use with a screen reader or voice control,
differs between browsers and cannot take a date typed in the order people say
it. GOV.UK's pattern is three text boxes in a fieldset
(https://design-system.service.gov.uk/components/date-input/).

- `GovukDateInput` reads `<name>_day`, `<name>_month` and `<name>_year`, and
  folds them into one value "day/month/year" (parts as typed). Where none of
  the parts was sent it reads `<name>` itself, so a link such as
  `/courses/?from=2026-12-01` (the public contract) keeps working.
- `GovukDateField` turns that value into a date, with GOV.UK's messages:
  "From date must include a month", "… must be a real date", "Year must
  include 4 numbers". Parts are read with `parse_int` (ASCII digits only).
"""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from config.numbers import parse_int

PARTS = ("day", "month", "year")
PART_LENGTH = 10  # more than anyone types into one box; the rest is cut


class GovukDateInput(forms.MultiWidget):
    template_name = "forms/widgets/govuk_date.html"
    use_fieldset = True

    def __init__(self, attrs=None):
        def box(width: int):
            return forms.TextInput(
                attrs={
                    "class": f"govuk-input govuk-date-input__input "
                    f"govuk-input--width-{width}",
                    "inputmode": "numeric",
                }
            )

        super().__init__({"day": box(2), "month": box(2), "year": box(4)}, attrs)

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [str(value.day), str(value.month), str(value.year)]
        if isinstance(value, str):
            if value.count("/") == 2:
                return value.split("/")
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                return [None, None, None]
            return [str(day.day), str(day.month), str(day.year)]
        return [None, None, None]

    def value_from_datadict(self, data, files, name):
        parts = [str(data.get(f"{name}_{part}", ""))[:PART_LENGTH] for part in PARTS]
        if not any(f"{name}_{part}" in data for part in PARTS):
            return data.get(name)
        parts = [part.strip() for part in parts]
        if not any(parts):
            # Empty boxes: a value given as one (a test client, an old form).
            return data.get(name, "")
        return "/".join(parts)

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not any(f"{name}_{p}" in data for p in PARTS)

    def get_context(self, name, value, attrs):
        invalid = (attrs or {}).pop("aria-invalid", None)
        context = super().get_context(name, value, attrs)
        for part, sub in zip(PARTS, context["widget"]["subwidgets"], strict=True):
            sub["part"] = part
            if sub["attrs"].get("id"):
                sub["attrs"]["id"] = f"{context['widget']['attrs']['id']}_{part}"
            sub["label"] = {"day": _("Day"), "month": _("Month"), "year": _("Year")}[
                part
            ]
            if invalid:
                sub["attrs"]["class"] += " govuk-input--error"
        return context


def fold_date_parts(query, names) -> "dict[str, str]":
    """`{name: value}` for each date field `name` sent as parts in `query`, the
    value as `GovukDateInput` reads it (for views that key a cache by a fixed
    list of parameters)."""
    widget = GovukDateInput()
    folded = {}
    for name in names:
        if any(f"{name}_{part}" in query for part in PARTS):
            folded[name] = widget.value_from_datadict(query, None, name)
    return folded


class GovukDateField(forms.DateField):
    widget = GovukDateInput
    input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
    default_error_messages = {
        "invalid": _("%(label)s must be a real date"),
        "incomplete": _("%(label)s must include a %(missing)s"),
        "year": _("Year must include 4 numbers"),
    }

    def _error(self, code: str, **params):
        label = str(self.label or _("Date"))
        message = self.error_messages[code]
        # A form may give its own message, which need not name the label.
        try:
            message = message % {"label": label, **params}
        except (KeyError, TypeError, ValueError):
            message = str(message)
        return forms.ValidationError(message, code=code)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        value = str(value).strip()
        if value.count("/") != 2:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise self._error("invalid") from None
        raw = value.split("/")
        missing = [str(n) for n, part in zip(PARTS, raw, strict=True) if not part]
        if missing:
            names = {"day": _("day"), "month": _("month"), "year": _("year")}
            words = [str(names[m]) for m in missing]
            joined = words[0] if len(words) == 1 else " and ".join(words)
            raise self._error("incomplete", missing=joined)
        day, month, year = (parse_int(part) for part in raw)
        if None in (day, month, year):
            raise self._error("invalid")
        if len(raw[2]) != 4:
            raise self._error("year")
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise self._error("invalid") from None
