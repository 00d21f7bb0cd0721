import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts import roles
from privacy.models import DataSubjectRequest
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp


def dpo_client():
    dpo = UserFactory.create(is_staff=True)
    dpo.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    give_totp(dpo)
    client = Client()
    client.force_login(dpo)
    return client


@pytest.mark.django_db
def test_the_data_protection_lead_alone_cannot_erase_a_superuser():
    client = dpo_client()
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    dsr = DataSubjectRequest.objects.create(
        person=admin, kind="erasure", identity_verified=True
    )
    page = client.post(
        "/admin/privacy/datasubjectrequest/",
        {"action": "erase_data", "_selected_action": [dsr.pk], "confirm": "yes"},
        follow=True,
    ).content.decode()
    assert (
        "This is a superuser&#x27;s account: one person alone cannot erase it." in page
    )
    assert "Nothing was erased." in page
    admin.refresh_from_db()
    assert admin.erased_at is None
    assert admin.is_superuser


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["restrict", "lift"])
def test_restriction_and_lifting_need_identity_verified(action):
    client = dpo_client()
    person = UserFactory.create(processing_restricted=(action == "lift"))
    dsr = DataSubjectRequest.objects.create(person=person, kind="restriction")
    page = client.post(
        "/admin/privacy/datasubjectrequest/",
        {"action": action, "_selected_action": [dsr.pk]},
        follow=True,
    ).content.decode()
    assert "identity first" in page
    person.refresh_from_db()
    assert person.processing_restricted is (action == "lift")


@pytest.mark.django_db
def test_only_a_superuser_can_deactivate_a_staff_account():
    client = dpo_client()
    staff = UserFactory.create(is_staff=True)
    page = client.get(f"/admin/accounts/user/{staff.pk}/change/").content.decode()
    assert 'name="is_active"' not in page
