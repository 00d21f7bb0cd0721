"""Every text field has a max_length and every date field a range, in every
form of the project apps; and the training record refuses the reported input."""

import datetime as dt
import importlib
import inspect
import pathlib

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
)
from django.utils import timezone

from bookings.models import PriorLearning

# The apps whose code lives in this repository (not Django's or allauth's).
PROJECT_APPS = [
    a.name
    for a in apps.get_app_configs()
    if pathlib.Path(a.path).parent == pathlib.Path(settings.BASE_DIR)
]
# Free text is never a choice, a boolean, a file or a number.
NOT_TEXT = (
    forms.ChoiceField,
    forms.ModelChoiceField,
    forms.BooleanField,
    forms.FileField,
    forms.NullBooleanField,
)
# Values for the keyword arguments that some forms' __init__ require, so the
# fields those forms add at run time are checked too.
KNOWN_KWARGS = {
    "topics": [],
    "providers": [],
    "organisations": [],
    "rounds": [],
    "person": None,
    "user": None,
    "request": None,
    "data": None,
}


def project_form_classes():
    found = []
    for app in PROJECT_APPS:
        try:
            module = importlib.import_module(f"{app}.forms")
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, forms.BaseForm)
                and hasattr(cls, "base_fields")
                and cls.__module__ == module.__name__
            ):
                found.append(cls)
    return found


def fields_of(cls):
    """The fields of an instance when one can be made, else the declared ones."""
    params = inspect.signature(cls.__init__).parameters
    kwargs = {
        name: KNOWN_KWARGS[name]
        for name, p in params.items()
        if p.kind == p.KEYWORD_ONLY and p.default is p.empty and name in KNOWN_KWARGS
    }
    if "data" in params and params["data"].default is params["data"].empty:
        kwargs["data"] = None
    try:
        return cls(**kwargs).fields
    except Exception:
        return cls.base_fields


def problems_of(cls) -> list[str]:
    problems = []
    for name, field in fields_of(cls).items():
        where = f"{cls.__module__}.{cls.__name__}.{name}"
        kinds = {type(v) for v in field.validators}
        is_text = isinstance(field, forms.CharField) and not isinstance(field, NOT_TEXT)
        if is_text and (field.max_length is None or MaxLengthValidator not in kinds):
            problems.append(f"{where}: text without an enforced max_length")
        is_date = isinstance(field, forms.DateField | forms.DateTimeField)
        if is_date and not {MinValueValidator, MaxValueValidator} <= kinds:
            problems.append(f"{where}: date without a lower and an upper bound")
    return problems


def test_the_walk_finds_the_forms_it_must_check():
    names = {c.__name__ for c in project_form_classes()}
    assert {"PriorLearningForm", "CourseForm", "CatalogueForm"} <= names


@pytest.mark.django_db
def test_every_text_field_has_a_max_length_and_every_date_a_range():
    problems = [p for cls in project_form_classes() for p in problems_of(cls)]
    assert problems == []


def test_the_walk_catches_an_unbounded_field():
    class Careless(forms.Form):
        note = forms.CharField(widget=forms.Textarea)
        on = forms.DateField()

    assert len(problems_of(Careless)) == 2


TOMORROW = object()  # the day after the test runs


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"notes": "x" * 1_000_000}, "notes", "Ensure this value has at most 5000"),
        (
            {"completed_on": "0001-01-01"},
            "completed_on",
            "Enter a date in or after 1900",
        ),
        (
            {"completed_on": TOMORROW},
            "completed_on",
            "The date must be today or in the past",
        ),
    ],
)
def test_training_record_refuses_huge_notes_and_impossible_dates(
    learner_client, values, field, message
):
    data = {"title": "Elsewhere", "completed_on": "2025-05-01", "cpd_hours": "2"}
    data.update(values)
    if data["completed_on"] is TOMORROW:
        # Read when the test runs, not when it is collected (a run that
        # passes midnight would otherwise send today's date).
        data["completed_on"] = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = learner_client.post("/training-record/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    # The error summary links to the field (a date to its day box).
    target = f"id_{field}_day" if field == "completed_on" else f"id_{field}"
    assert f'href="#{target}"' in html
    assert not PriorLearning.objects.exists()


@pytest.mark.parametrize(
    ("form_class", "field", "limit"),
    [
        ("ReasonForm", "reason", 5000),
        ("ApplicationForm", "statement", 10_000),
    ],
)
def test_funding_free_text_is_refused_beyond_its_length_not_only_in_the_browser(
    form_class, field, limit
):
    # The limit used to be set on the field in __init__, which changes the
    # widget's maxlength but adds no validator: the server took any length.
    from funding import forms as funding_forms

    bound = getattr(funding_forms, form_class).base_fields[field]
    assert bound.clean("x" * limit) == "x" * limit
    with pytest.raises(
        forms.ValidationError, match=f"at most {limit:,}|at most {limit}"
    ):
        bound.clean("x" * 1_000_000)
