"""Looking people up by email address goes through the case-insensitive
unique index, not a read of every account: refusing mail to erased or closed
accounts runs for every mail queued, so a scan would grow with the number of
people (issue 15)."""

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.selectors import users_with_email
from config.outbox import refuses
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_address_is_found_whatever_its_case_and_spaces():
    person = UserFactory.create(email="Ada.Lovelace@Example.org")
    UserFactory.create(email="someone.else@example.org")
    assert list(users_with_email("  ada.lovelace@EXAMPLE.ORG ")) == [person]
    assert not users_with_email("ada@example.org").exists()
    assert not users_with_email("").exists()


def test_mail_is_refused_to_an_erased_or_closed_account_only():
    open_account = UserFactory.create(email="open@example.org")
    closed = UserFactory.create(email="Closed@Example.org", closed_at=timezone.now())
    assert not refuses(open_account.email.upper())
    assert refuses("closed@example.org")
    assert refuses(closed.email)


def test_the_lookup_is_an_index_scan_of_the_case_insensitive_index():
    UserFactory.create_batch(3)
    query = users_with_email("ada@example.org").filter(
        Q(erased_at__isnull=False) | Q(closed_at__isnull=False)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Few rows here would make a scan as cheap; forbid it to see whether
        # the index can answer at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert "user_email_unique_ci" in plan, plan
