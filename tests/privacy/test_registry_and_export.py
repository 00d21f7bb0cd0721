import csv
import io
import json
import zipfile

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from privacy import registry, services
from tests.bookings.factories import BookingFactory

PERSONAL_NAME_HINTS = (
    "name",
    "email",
    "phone",
    "address",
    "postcode",
    "town",
    "note",
    "comment",
    "reason",
    "statement",
    "detail",
    "description",
    "body",
    "subject",
    "title",
    "ip",
    "reference",
    "token",
    "password",
)
PROJECT_APPS = (
    "accounts",
    "courses",
    "bookings",
    "funding",
    "consent",
    "privacy",
    "marketing",
    "analytics",
    "reports",
    "organisations",
    "payments",
    "products",
)


def could_hold_personal_data(field: models.Field) -> bool:
    if isinstance(
        field,
        models.EmailField
        | models.FileField
        | models.GenericIPAddressField
        | models.TextField,
    ):
        return True
    if isinstance(field, models.CharField) and field.choices is None:
        # Whole words of the field name, so "to_status" is not mistaken for "to".
        words = field.name.split("_")
        return field.name == "to" or any(hint in words for hint in PERSONAL_NAME_HINTS)
    return False


def test_every_field_that_can_hold_personal_data_is_declared():
    declared = registry.declared_fields() | registry.not_personal_fields()
    missing = []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.concrete_fields:
            if (
                could_hold_personal_data(field)
                and (model._meta.label, field.name) not in declared
            ):
                missing.append(f"{model._meta.label}.{field.name}")
    assert missing == [], "declare these in the app's privacy.py: " + ", ".join(missing)


def test_every_declared_field_exists():
    for label, name in registry.declared_fields() | registry.not_personal_fields():
        model = apps.get_model(label)
        model._meta.get_field(name)


@pytest.mark.django_db
def test_export_is_a_zip_of_valid_json_and_csv_with_every_category():
    booking = BookingFactory.create(cancel_reason="Clash with =SUM(A1)")
    content = services.export_person(booking.person)
    archive = zipfile.ZipFile(io.BytesIO(content))
    names = set(archive.namelist())
    data = json.loads(archive.read("data.json"))
    categories = {c.name for c in registry.categories()}
    assert set(data["categories"]) == categories
    assert {f"{name}.csv" for name in categories} <= names
    assert "README.txt" in names
    for name in categories:
        rows = list(csv.DictReader(io.StringIO(archive.read(f"{name}.csv").decode())))
        assert len(rows) == len(data["categories"][name])
    account = data["categories"]["account"][0]
    assert account["email"] == booking.person.email
    bookings = list(csv.DictReader(io.StringIO(archive.read("bookings.csv").decode())))
    assert bookings[0]["cancel_reason"] == "Clash with =SUM(A1)"
    assert settings.PRIVACY_EXPORT_INLINE_MAX_ROWS > 0
