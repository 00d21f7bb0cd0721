"""Admin helpers for a relation to a table that grows with use: a list
filter, and a search widget for the admin's own pages' forms.

Django's own filter for a foreign key (`list_filter = ("organisation",)`)
lists a link for every row of the related table, read on every changelist
request: thousands of schools or practices make the sidebar, and the page,
grow without bound. `name_contains("organisation")` is a text box instead:
the changelist shows the rows whose organisation's name holds every word
typed (up to five), found through the trigram index of names
(`accounts/0009`)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.search import holding_every_word

MAX_LENGTH = 100


class NameContainsFilter(admin.SimpleListFilter):
    template = "admin/name_contains_filter.html"
    field_path = ""  # the relation, e.g. "organisation"

    def lookups(self, request, model_admin):
        return ()

    def has_output(self) -> bool:
        return True

    def value(self) -> str:
        value = super().value()
        if isinstance(value, list):
            value = value[-1] if value else ""
        if not isinstance(value, str) or "\x00" in value or len(value) > MAX_LENGTH:
            return ""
        return " ".join(value.split())

    def queryset(self, request, queryset):
        return holding_every_word(queryset, self.value(), f"{self.field_path}__name")

    def choices(self, changelist):
        yield {
            "parameter": self.parameter_name,
            "value": self.value(),
            "max_length": MAX_LENGTH,
            # The changelist's other choices (search, filters, order) stay.
            "hidden": [
                (name, value)
                for name, value in changelist.params.items()
                if name not in (self.parameter_name, "p")
            ],
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }


def name_contains(field_path: str, title=None) -> type[NameContainsFilter]:
    """A `NameContainsFilter` for the relation `field_path` (its `name`)."""
    return type(
        f"{field_path.title().replace('_', '')}NameFilter",
        (NameContainsFilter,),
        {
            "field_path": field_path,
            "parameter_name": f"{field_path}_name",
            "title": title or _(field_path.replace("_", " ")),
        },
    )


def organisation_search():
    """The admin's search-as-you-type widget for choosing organisations on
    the admin's own pages (raising invoices, recording a payment, resolving
    a bank line), where a drop-down listed every organisation. It asks the
    admin's autocomplete view, through a relation to Organisation the admin
    knows (an invoice's), so the same permission and search apply; the
    page must include the form's media."""
    from django.contrib.admin.widgets import AutocompleteSelect

    from organisations.models import Invoice

    # One choice only: the search box of the admin's multiple choice
    # (select2's) has no label, which the accessibility sweep refuses.
    return AutocompleteSelect(Invoice._meta.get_field("organisation"), admin.site)
