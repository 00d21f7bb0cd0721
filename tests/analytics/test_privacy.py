"""What the privacy notice (1.7) promises of analytics, held against the code:
no link to an account, every field declared, retention registered."""

import uuid

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from analytics import services
from analytics.models import PageView, Search
from consent.selectors import policy_current
from privacy import registry
from privacy.services import erase_person
from tests.accounts.factories import UserFactory

from .conftest import accepting

pytestmark = pytest.mark.django_db


def test_no_analytics_table_can_point_at_a_person():
    for model in apps.get_app_config("analytics").get_models():
        for field in model._meta.get_fields():
            assert not field.is_relation, f"{model.__name__}.{field.name}"


def test_every_text_field_is_declared_with_the_reason_it_names_no_one():
    declared = registry.not_personal_fields()
    for model in apps.get_app_config("analytics").get_models():
        for field in model._meta.concrete_fields:
            if field.get_internal_type() == "CharField" and not field.choices:
                assert (model._meta.label, field.name) in declared, field.name
    reason = registry._NOT_PERSONAL[("analytics.PageView", "ip_prefix")]
    assert "changes every day" in reason
    assert "/24" in reason


def test_retention_is_registered_for_events_and_performance_counts():
    rules = registry.retention_rules()
    assert "analytics events" in rules
    assert "service performance counts" in rules
    assert settings.PRIVACY_RETENTION["analytics_events_months"] == 26


def test_the_published_notice_says_what_is_built(client):
    body = policy_current("privacy").body
    for words in (
        "Only if you accept analytics cookies",
        "a code that changes every day",
        "we keep only the first part of your IP address",
        "we do not link these records to your account",
        "if your browser sends Global Privacy Control",
        "We delete these records after 26 months",
        "For every request the service counts, per kind of page and per minute",
    ):
        assert words in body, words


def test_erasing_a_person_leaves_analytics_totals_and_nothing_of_theirs(client):
    """The rows cannot be found by person (the notice promises no link), so
    erasure has nothing to delete there, and totals stay as they were."""
    person = UserFactory.create(email="erase.me@example.org")
    client.force_login(person)
    from consent.services import record_consent

    record_consent(person, "analytics", "web", True, source="cookie_banner")
    accepting(client).get("/courses/?q=erase")
    services.flush_page_views()
    Search.objects.create(
        searched_at=timezone.now(), visit="v", terms="other", results=1
    )
    before = (PageView.objects.count(), Search.objects.count())
    erase_person(person)
    assert (PageView.objects.count(), Search.objects.count()) == before == (1, 2)
    for view in PageView.objects.all():
        values = " ".join(str(getattr(view, f.attname)) for f in view._meta.fields)
        assert "erase.me" not in values
        assert str(person.pk) not in values.split()
    assert uuid.UUID(str(PageView.objects.get().view_id))
