"""What the privacy notice (1.7) promises of analytics, held against the code:
no account id or relation (only a code made from the account for signed-in
rows, so that erasure and export reach them), every field declared,
retention registered."""

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


def test_every_text_field_is_declared(client):
    declared = registry.not_personal_fields() | registry.declared_fields()
    for model in apps.get_app_config("analytics").get_models():
        for field in model._meta.concrete_fields:
            if field.get_internal_type() == "CharField" and not field.choices:
                assert (model._meta.label, field.name) in declared, field.name
    reason = registry._NOT_PERSONAL[("analytics.PageViewDay", "path")]
    assert "for everyone together" in reason


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
        "a code made from your account (never your name or email address)",
        "deleted when you ask us to erase it",
        "if your browser sends Global Privacy Control",
        "We delete these records after 26 months",
        "For every request the service counts, per kind of page and per minute",
    ):
        assert words in body, words


def test_erasing_a_person_deletes_their_signed_in_events_and_only_theirs(client):
    """Page views and searches made while signed in carry the account's code
    (never its id): erasure deletes them, with the beacon's reports about
    those views; anonymous visitors' rows and other people's stay."""
    from analytics.cleaning import account_code
    from analytics.models import Engagement, OutboundClick
    from consent.services import record_consent

    person = UserFactory.create(email="erase.me@example.org")
    other = UserFactory.create()
    for who in (person, other):
        record_consent(who, "analytics", "web", True, source="cookie_banner")
        client.force_login(who)
        accepting(client).get("/courses/?q=erase")
    client.logout()
    accepting(client).get("/courses/?q=anonymous")
    services.flush_page_views()
    mine = PageView.objects.get(account_code=account_code(person.pk))
    Engagement.objects.create(
        view_id=mine.view_id, reported_at=timezone.now(), seconds=5, time_zone="UTC"
    )
    OutboundClick.objects.create(
        view_id=mine.view_id, clicked_at=timezone.now(), target="https://a.example"
    )
    assert (PageView.objects.count(), Search.objects.count()) == (3, 3)
    assert str(person.pk) not in mine.account_code
    erase_person(person)
    assert not PageView.objects.filter(view_id=mine.view_id).exists()
    assert not Engagement.objects.filter(view_id=mine.view_id).exists()
    assert not OutboundClick.objects.filter(view_id=mine.view_id).exists()
    assert (PageView.objects.count(), Search.objects.count()) == (2, 2)
    assert PageView.objects.filter(account_code=account_code(other.pk)).exists()
    assert PageView.objects.filter(account_code="").count() == 1
    for view in PageView.objects.all():
        values = " ".join(str(getattr(view, f.attname)) for f in view._meta.fields)
        assert "erase.me" not in values
    assert uuid.UUID(str(PageView.objects.first().view_id))


def test_an_objection_to_analytics_removes_what_was_recorded_while_signed_in(client):
    from analytics.cleaning import account_code
    from consent.services import record_consent
    from privacy.services import object_to_analytics

    person = UserFactory.create()
    record_consent(person, "analytics", "web", True, source="cookie_banner")
    client.force_login(person)
    accepting(client).get("/courses/?q=first+aid")
    services.flush_page_views()
    assert PageView.objects.filter(account_code=account_code(person.pk)).exists()
    object_to_analytics(person)
    assert not PageView.objects.filter(account_code=account_code(person.pk)).exists()
    assert not Search.objects.filter(account_code=account_code(person.pk)).exists()
