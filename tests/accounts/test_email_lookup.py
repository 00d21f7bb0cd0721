"""Looking people up by email address goes through the case-insensitive
unique index, not a read of every account: refusing mail to erased or closed
accounts runs for every mail queued, so a scan would grow with the number of
people (issue 15)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
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


def test_no_code_looks_people_up_by_email_with_iexact():
    """`email__iexact` on accounts compares UPPER(email), which no index holds:
    use users_with_email. (allauth's EmailAddress rows are stored lower-case
    and looked up by allauth's own code; the SSO adapter's one lookup there is
    the exception.)"""
    root = Path(settings.BASE_DIR)
    allowed = {root / "accounts" / "adapter.py"}
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in root.glob("*/**/*.py")
        if path.parts[len(root.parts)] not in {".venv", "tests", "node_modules"}
        and "migrations" not in path.parts
        and path not in allowed
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bemail__iexact\s*=", line)
    ]
    assert not found, found
