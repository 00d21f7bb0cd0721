"""The reports' query string: a date range, how to group, and a download
format. Dates follow the catalogue's pattern (`from` and `to`, ISO or
day/month/year); a bad one is an error beside the field, linked from the
summary at the top, and no report is worked out."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.bounds import bound_date
from config.widgets import GovukDateField

# Longer ranges are refused: a report over decades answers nobody's question
# and only makes the database work.
MAX_DAYS = 366 * 5


class ReportFilterForm(forms.Form):
    by = forms.ChoiceField(label=_("Group by"), required=False)

    def __init__(
        self,
        data,
        *,
        groups: dict[str, str] | None,
        default_from: dt.date,
        default_to: dt.date,
    ):
        super().__init__(data)
        # "from" and "to", as on the catalogue: day, month and year boxes, or
        # one ISO value in a link.
        self.fields["from"] = bound_date(
            GovukDateField(
                label=_("From date"),
                required=False,
                help_text=_("For example, 1 4 2026"),
            )
        )
        self.fields["to"] = bound_date(
            GovukDateField(
                label=_("To date"),
                required=False,
                help_text=_("For example, 31 3 2027"),
            )
        )
        self.default_from, self.default_to = default_from, default_to
        if groups:
            self.fields["by"].choices = list(groups.items())
            self.fields["by"].error_messages["invalid_choice"] = _(
                "Choose one of the groupings in the list"
            )
            self.order_fields(["from", "to", "by"])
        else:
            del self.fields["by"]
            self.order_fields(["from", "to"])
        self.groups = groups

    def clean(self):
        cleaned = super().clean()
        start = cleaned.get("from") or self.default_from
        end = cleaned.get("to") or self.default_to
        if "from" in self.errors or "to" in self.errors:
            return cleaned
        if end < start:
            self.add_error(
                "to", _("“To date” must be the same as or after “From date”")
            )
        elif (end - start).days > MAX_DAYS:
            self.add_error("to", _("Choose a range of 5 years or less"))
        cleaned["from"], cleaned["to"] = start, end
        if self.groups:
            cleaned["by"] = cleaned.get("by") or next(iter(self.groups))
        return cleaned


def last_twelve_months() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today - dt.timedelta(days=365), today


def next_three_months() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today, today + dt.timedelta(days=91)
