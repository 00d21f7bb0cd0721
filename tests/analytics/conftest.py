import re

import pytest
from django.test import Client

from analytics import metrics
from analytics.models import ErrorMinute, RouteMinute
from tests.conftest import staff_client  # noqa: F401 (the tests import it from here)

COOKIE_ID = "R4nd0m-analytics-cookie-id"
TOKEN = re.compile(r'data-token="([^"]*)"')


@pytest.fixture(autouse=True)
def _no_counts_from_before(db):
    """Each test sees only its own performance counts."""
    metrics._take()
    RouteMinute.objects.all().delete()
    ErrorMinute.objects.all().delete()
    yield
    metrics._take()


@pytest.fixture(autouse=True)
def _policies(first_policies):
    """Consent records name the published notice (tests/conftest.py)."""


def accepting(client: Client, cookie_id: str = COOKIE_ID) -> Client:
    """A browser that accepted analytics cookies and was given its id."""
    client.cookies["cookie_choice"] = "accepted"
    client.cookies["cpd_analytics_id"] = cookie_id
    return client


def token_of(response) -> str:
    found = TOKEN.search(response.content.decode())
    assert found, "no beacon script on the page"
    return found.group(1)
