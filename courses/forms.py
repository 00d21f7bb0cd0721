from django import forms
from django.utils.translation import gettext_lazy as _

from config.bounds import bound_date
from config.widgets import GovukDateField

from .models import Course, Provider, Topic

PER_PAGE_CHOICES = (10, 20, 50)


class CatalogueForm(forms.Form):
    """The catalogue's query string. Invalid values are reported and ignored."""

    q = forms.CharField(label=_("Search courses"), max_length=200, required=False)
    topic = forms.ChoiceField(label=_("Topic"), required=False)
    mode = forms.ChoiceField(
        label=_("How it is delivered"),
        required=False,
        choices=[("", _("Any way")), *Course.Mode.choices],
    )
    provider = forms.ChoiceField(label=_("Provider"), required=False)
    free = forms.BooleanField(label=_("Free courses only"), required=False)
    available = forms.BooleanField(
        label=_("Only courses with places left"), required=False
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("", _("Best match, then soonest")),
            ("soonest", _("Soonest")),
            ("title", _("Title")),
        ],
    )

    def __init__(self, data, *, topics: list[Topic], providers: list[Provider]):
        super().__init__(data)
        self.topics = {t.slug: t for t in topics}
        self.providers = {str(p.pk): p for p in providers}
        self.fields["topic"].choices = [("", _("Any topic"))] + [
            (t.slug, t.name) for t in topics
        ]
        self.fields["provider"].choices = [("", _("Any provider"))] + [
            (str(p.pk), p.name) for p in providers
        ]
        # "from" and "to" are the public parameter names (DESIGN.md): the boxes
        # are from_day, from_month, from_year; ?from=2026-12-01 works too.
        self.fields["from"] = GovukDateField(
            label=_("From date"),
            required=False,
            help_text=_("For example, 1 12 2026"),
        )
        self.fields["to"] = GovukDateField(
            label=_("To date"),
            required=False,
            help_text=_("For example, 31 12 2026"),
        )
        bound_date(self.fields["from"])
        bound_date(self.fields["to"])
        self.fields["topic"].error_messages["invalid_choice"] = _(
            "There is no topic called “%(value)s”; showing every topic"
        )
        self.fields["provider"].error_messages["invalid_choice"] = _(
            "There is no such provider; showing every provider"
        )
        self.fields["mode"].error_messages["invalid_choice"] = _(
            "“%(value)s” is not a way courses are delivered; showing every kind"
        )
        self.fields["sort"].error_messages["invalid_choice"] = _(
            "Courses cannot be sorted by “%(value)s”"
        )
        self.order_fields(
            [
                "q",
                "topic",
                "mode",
                "provider",
                "from",
                "to",
                "free",
                "available",
                "sort",
            ]
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and end < start:
            self.add_error("to", _("“To” must be the same as or after “From”"))
            cleaned.pop("to", None)
        return cleaned
