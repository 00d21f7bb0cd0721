"""Every required field of every project form says what to do when it is left
empty ("Enter your first name"), never Django's "This field is required.": a
GOV.UK error message names the thing that is missing. A new form that forgets
fails here."""

import pytest
from django import forms

from tests.config.test_form_bounds import fields_of, project_form_classes

DJANGO_DEFAULT = str(forms.Field.default_error_messages["required"])

# (form class name, field name): why the default message can stay. Empty: every
# required field of every form has its own message today.
EXEMPT: dict[tuple[str, str], str] = {}


def _required_fields():
    for cls in project_form_classes():
        for name, field in fields_of(cls).items():
            if field.required and not isinstance(field.widget, forms.HiddenInput):
                yield cls, name, field


def test_the_walk_finds_the_forms_the_issue_names():
    names = {(cls.__name__, name) for cls, name, _field in _required_fields()}
    for expected in [
        ("SignupForm", "first_name"),
        ("ProfileForm", "last_name"),
        ("PriorLearningForm", "completed_on"),
        ("EmailAttendeesForm", "subject"),
        ("InvoiceForm", "invoice_date"),
    ]:
        assert expected in names


@pytest.mark.django_db
def test_no_required_field_keeps_djangos_default_message():
    generic = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls, name, field in _required_fields()
        if str(field.error_messages.get("required")) == DJANGO_DEFAULT
        and (cls.__name__, name) not in EXEMPT
    ]
    assert generic == [], (
        "Give these fields a specific GOV.UK error message (error_messages="
        '{"required": ...}), like "Enter your first name": ' + ", ".join(generic)
    )


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ("accounts.forms.SignupForm", "first_name", "Enter your first name"),
        ("accounts.forms.ProfileForm", "last_name", "Enter your last name"),
        (
            "bookings.forms.PriorLearningForm",
            "completed_on",
            "Enter the date you completed the training",
        ),
        ("bookings.forms.EmailAttendeesForm", "body", "Enter the message to send"),
        ("funding.forms.InvoiceForm", "number", "Enter the invoice number"),
    ],
)
@pytest.mark.django_db
def test_an_empty_form_shows_the_specific_message(form, field, message):
    import importlib

    module, name = form.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    bound = cls(data={})
    assert not bound.is_valid()
    assert bound.errors[field] == [message]
