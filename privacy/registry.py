"""The personal-data registry. Each app declares, in its own `privacy.py`, what
it holds about a person and how to export and erase it; the privacy app calls
them without importing those apps. A test walks every model of every project
app and fails when a field that can hold personal data is not declared here.

Usage in `<app>/privacy.py`::

    from privacy.registry import Category, register

    register(Category(
        name="bookings",
        model=Booking,
        fields=["cancel_reason"],          # personal-data fields on this model
        export=export_bookings,            # (person) -> list[dict]
        erase=erase_bookings,              # (person) -> None
        files=[],                          # FileField names: exported, and
                                           # deleted on erasure unless held
        owner="person",                    # the path from a row to the person
        note="Kept as anonymous rows so that attendance counts stay right.",
    ))

`owner` says whose rows these are: a lookup path ending at the person
("request__person" for a row owned through its funding request), a tuple of
paths when a row can be owned either way, or a callable (person) -> Q. It may
be left out only when the model has a `person` or `user` field (or is the user
model itself); registering any other model without it is an error, so a model
owned through a parent row cannot be silently left out of exports.

`withheld` names declared fields (or files) that the export leaves out, each
with the reason given to the person (a password hash, the secret of a link).
`kept_on_erasure` names declared fields that erasure keeps on the (anonymised)
rows, each with the reason (financial records, the accountability record of
disclosures); `tests/privacy/test_erasure_registry.py` checks every other
declared field loses the person's data.

`legal_hold` gives the law or contract that requires the category's rows and
files to be kept on erasure and by retention (for example a funder's
requirement to keep invoices); erasure then only strips what identifies the
person outside the document itself.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class Category:
    name: str
    model: type[models.Model]
    fields: list[str]
    export: Callable
    erase: Callable
    files: list[str] = field(default_factory=list)
    note: str = ""
    owner: str | tuple[str, ...] | Callable[..., Q] = ()
    withheld: dict[str, str] = field(default_factory=dict)
    legal_hold: str = ""
    kept_on_erasure: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.owner:
            object.__setattr__(self, "owner", _default_owner(self.model))
        for what, names in (
            ("withheld", self.withheld),
            ("kept_on_erasure", self.kept_on_erasure),
        ):
            unknown = set(names) - {*self.fields, *self.files}
            if unknown:
                raise ImproperlyConfigured(
                    f"{self.name}: {what} names undeclared fields {sorted(unknown)}"
                )

    @property
    def owner_paths(self) -> tuple[str, ...]:
        """The lookup paths to the person; empty when `owner` is a callable."""
        if callable(self.owner):
            return ()
        return (self.owner,) if isinstance(self.owner, str) else tuple(self.owner)

    def owner_q(self, person) -> Q:
        if callable(self.owner):
            return self.owner(person)
        q = Q(pk__in=[])
        for path in self.owner_paths:
            q |= Q(**{path: person.pk})
        return q

    def rows_of(self, person) -> models.QuerySet:
        """Every row of this category that is the person's."""
        return self.model._default_manager.filter(self.owner_q(person)).distinct()

    @property
    def exported_files(self) -> list[str]:
        return [name for name in self.files if name not in self.withheld]


def _default_owner(model: type[models.Model]) -> str:
    if model._meta.label == settings.AUTH_USER_MODEL:
        return "pk"
    names = {f.name for f in model._meta.get_fields()}
    for name in ("person", "user"):
        if name in names:
            return name
    raise ImproperlyConfigured(
        f"{model._meta.label} has no `person` or `user` field: say whose rows "
        'these are with owner= (for example owner="request__person")'
    )


_REGISTRY: dict[str, Category] = {}


def register(category: Category) -> Category:
    _REGISTRY[category.name] = category
    return category


def categories() -> list[Category]:
    return list(_REGISTRY.values())


def declared_fields() -> set[tuple[str, str]]:
    """{(app_label.ModelName, field)} for every declared personal-data field."""
    return {
        (c.model._meta.label, f)
        for c in _REGISTRY.values()
        for f in [*c.fields, *c.files]
    }


# Fields that look like personal data but are not (a course title, a provider's
# shared inbox): declared with the reason, so the coverage test stays strict.
_NOT_PERSONAL: dict[tuple[str, str], str] = {}


def not_personal(model: type[models.Model], fields: list[str], *, reason: str) -> None:
    for name in fields:
        _NOT_PERSONAL[(model._meta.label, name)] = reason


def not_personal_fields() -> set[tuple[str, str]]:
    return set(_NOT_PERSONAL)


# Retention rules: name -> callable() returning how many rows/files it removed.
_RETENTION: dict[str, Callable[[], int]] = {}


def register_retention(name: str, apply: Callable[[], int]) -> None:
    _RETENTION[name] = apply


def retention_rules() -> dict[str, Callable[[], int]]:
    return dict(_RETENTION)


# What each app stops when processing is restricted (new bookings are refused by
# the apps themselves; these withdraw what is still running for the person):
# name -> callable(person, by) -> None.
_ON_RESTRICTION: dict[str, Callable] = {}


def register_on_restriction(name: str, apply: Callable) -> None:
    _ON_RESTRICTION[name] = apply


def on_restriction() -> dict[str, Callable]:
    return dict(_ON_RESTRICTION)


# What each app forgets when a person objects to profiling or analytics
# (marketing: the opens and clicks it measured): name -> callable(person, purpose).
_ON_OBJECTION: dict[str, Callable] = {}


def register_on_objection(name: str, apply: Callable) -> None:
    _ON_OBJECTION[name] = apply


def on_objection() -> dict[str, Callable]:
    return dict(_ON_OBJECTION)


# What each app stops when an account is closed (bookings: future places pass
# to the next person waiting): name -> callable(person, by) -> None.
_ON_CLOSURE: dict[str, Callable] = {}


def register_on_closure(name: str, apply: Callable) -> None:
    _ON_CLOSURE[name] = apply


def on_closure() -> dict[str, Callable]:
    return dict(_ON_CLOSURE)


@dataclass(frozen=True)
class Correctable:
    """A field staff may correct for a correction request: `read(person)` gives
    its value as text, `write(person, value)` validates (raising ValueError
    with a message safe to show) and saves it."""

    key: str
    label: str
    read: Callable
    write: Callable


_CORRECTABLE: dict[str, Correctable] = {}


def register_correctable(field: Correctable) -> None:
    _CORRECTABLE[field.key] = field


def correctable() -> dict[str, Correctable]:
    return dict(_CORRECTABLE)
