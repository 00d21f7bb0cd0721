"""Erasure, driven by the registry: every declared field and file of every
category is filled with a unique marker for one person (the same world the
export test builds), the person is erased, and no declared field of any row
may still hold its marker, and no declared file may still be on disk.

A new category, field or file is picked up with no edit here. What erasure may
keep is declared in the registry itself, never in this test: a category under a
`legal_hold` (funders' invoices) keeps its rows and files, and a category may
name `kept_on_erasure` fields with the reason the law or the accounts need them.
"""

import datetime as dt

import pytest
from django.db import models

from privacy import registry, services
from tests.accounts.factories import UserFactory
from tests.privacy.test_export_registry import fill_every_category


def _marker_rows(category: registry.Category, name: str, show) -> models.QuerySet:
    """Rows of the category's table (anyone's) that still hold the marker."""
    field = category.model._meta.get_field(name)
    manager = category.model._default_manager
    if isinstance(field, models.ForeignKey):
        return manager.filter(**{f"{name}__name": show})
    if isinstance(field, models.FileField):
        return manager.none()  # checked on disk
    if isinstance(field, models.JSONField):
        return manager.filter(**{f"{name}__contains": show})
    if isinstance(show, str):
        return manager.filter(**{f"{name}__contains": show})
    return manager.none()


def _still_the_persons(category, person, name, show) -> bool:
    """A choice, number, flag or date marker kept on the person's own rows."""
    if isinstance(show, str | list) or category.owner_paths == ():
        return False
    field = category.model._meta.get_field(name)
    if isinstance(field, models.FileField | models.ForeignKey):
        return False
    if isinstance(show, bool | dt.datetime) and not isinstance(
        field, models.BooleanField | models.DateTimeField
    ):
        return False
    return category.rows_of(person).filter(**{name: show}).exists()


@pytest.mark.django_db
def test_erasure_leaves_no_declared_field_or_file_of_any_category(private_media):
    person = UserFactory.create()
    expected = fill_every_category(person)
    stored_files = {
        (category.name, name): [
            getattr(row, name).name
            for row in category.rows_of(person)
            if getattr(row, name)
        ]
        for category in registry.categories()
        for name in category.files
    }
    services.erase_person(person)
    person.refresh_from_db()

    left = []
    for category in registry.categories():
        if category.legal_hold:
            continue  # kept by law; the export test proves it is still shown
        kept = set(getattr(category, "kept_on_erasure", {}) or {})
        for name, show, _withheld in expected[category.name]:
            if name in kept:
                continue
            label = f"{category.name}.{name}"
            if name in category.files:
                on_disk = [
                    path
                    for path in stored_files[(category.name, name)]
                    if (private_media / path).exists()
                ]
                if on_disk:
                    left.append(f"{label} (file on disk)")
            elif _marker_rows(category, name, show).exists():
                left.append(label)
            elif _still_the_persons(category, person, name, show):
                left.append(f"{label} (still on their rows)")
    assert left == [], "erasure left: " + ", ".join(left)
