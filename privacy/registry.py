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
        files=[],                          # FileField names to delete on erasure
        note="Kept as anonymous rows so that attendance counts stay right.",
    ))
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models


@dataclass(frozen=True)
class Category:
    name: str
    model: type[models.Model]
    fields: list[str]
    export: Callable
    erase: Callable
    files: list[str] = field(default_factory=list)
    note: str = ""


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
