"""Holes the permission matrix found, each pinned by a focused test."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts import roles
from consent.models import PolicyVersion
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

pytestmark = pytest.mark.django_db


def _staff(group: str) -> Client:
    user = UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    give_totp(user)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "group", [roles.COURSE_ADMINS, roles.BOOKING_ADMINS, roles.FUNDING_OFFICERS]
)
def test_a_role_without_the_permission_cannot_delete_a_draft_policy_version(group):
    draft = PolicyVersion.objects.create(
        kind=PolicyVersion.Kind.PRIVACY, version="9.9-draft", body="## Draft\n"
    )
    client = _staff(group)
    url = f"/admin/consent/policyversion/{draft.pk}/delete/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert PolicyVersion.objects.filter(pk=draft.pk).exists()


def test_the_data_protection_lead_deletes_a_draft_but_never_a_published_version():
    draft = PolicyVersion.objects.create(
        kind=PolicyVersion.Kind.PRIVACY, version="9.9-draft", body="## Draft\n"
    )
    published = PolicyVersion.objects.filter(published_at__isnull=False).first()
    client = _staff(roles.DATA_PROTECTION_LEAD)
    url = f"/admin/consent/policyversion/{published.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 403
    url = f"/admin/consent/policyversion/{draft.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not PolicyVersion.objects.filter(pk=draft.pk).exists()
    assert PolicyVersion.objects.filter(pk=published.pk).exists()
