import pytest


@pytest.fixture
def marketing_client_surveys(db):
    """Signed in as a member of the "Marketing officers" role, with two-factor."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from accounts import roles
    from tests.accounts.factories import UserFactory
    from tests.conftest import give_totp

    officer = UserFactory.create(is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.MARKETING_OFFICERS))
    give_totp(officer)
    client = Client()
    client.force_login(officer)
    return client


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MARKETING_SEND_RATE_PER_SECOND = 0
    settings.SITE_URL = "http://testserver"
