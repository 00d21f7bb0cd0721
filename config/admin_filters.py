"""An admin list filter for a relation to a table that grows with use.

Django's own filter for a foreign key (`list_filter = ("organisation",)`)
lists a link for every row of the related table, read on every changelist
request: thousands of schools or practices make the sidebar, and the page,
grow without bound. `name_contains("organisation")` is a text box instead:
the changelist shows the rows whose organisation's name holds every word
typed (up to five), found through the trigram index of names
(`accounts/0009`)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

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
        for word in self.value().split()[:5]:
            queryset = queryset.filter(**{f"{self.field_path}__name__icontains": word})
        return queryset

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
