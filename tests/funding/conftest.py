import re

import pytest
from django.core import mail

from accounts import roles
from funding import services
from tests.conftest import give_totp, staff_client  # noqa: F401 (tests import it from here)

from .factories import FundingRequestFactory


@pytest.fixture
def officer(db):
    return staff_client(roles.FUNDING_OFFICERS)


@pytest.fixture
def booking_admin(db):
    return staff_client(roles.BOOKING_ADMINS)


def support_token(to: str) -> str:
    """The token from the last manager mail sent to `to`."""
    for message in reversed(mail.outbox):
        if message.to == [to]:
            found = re.search(r"/funding/support/([\w-]+)/", message.body)
            if found:
                return found.group(1)
    raise AssertionError(f"no support link mailed to {to}")


@pytest.fixture
def submit(django_capture_on_commit_callbacks):
    """Submit a request as its owner, run the mail, return the manager's token."""

    def _submit(funding_request=None, **kwargs):
        funding_request = funding_request or FundingRequestFactory.create(**kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            services.submit_funding_request(funding_request, by=funding_request.person)
        funding_request.refresh_from_db()
        return funding_request, support_token(funding_request.manager_email)

    return _submit


@pytest.fixture
def approved(submit, officer, django_capture_on_commit_callbacks):
    """An approved request (manager supported, £1000 of £1200 approved)."""
    from decimal import Decimal

    funding_request, token = submit()
    with django_capture_on_commit_callbacks(execute=True):
        services.record_manager_support(token, supported=True, statement="Yes.")
        services.approve_funding_request(
            funding_request, amount=Decimal("1000"), by=officer.user
        )
    funding_request.refresh_from_db()
    return funding_request
