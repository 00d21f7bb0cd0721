"""Two changes to one person's choices at once (the preferences page and an
unsubscribe link) are recorded one after the other: the second sees the first."""

import threading
import time
from unittest import mock

import pytest
from django.db import connection

from consent import selectors, services
from consent.models import ConsentRecord
from tests.accounts.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_two_identical_withdrawals_at_once_record_one_change():
    person = UserFactory.create()
    services.update_preferences(person, {("marketing", "email"): True}, source="signup")
    real_read = selectors.current_choices

    def slow_read(who):
        choices = real_read(who)
        time.sleep(0.4)  # both requests have read before either writes
        return choices

    errors = []

    def withdraw():
        try:
            services.update_preferences(
                person, {("marketing", "email"): False}, source="unsubscribe"
            )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    with mock.patch.object(selectors, "current_choices", slow_read):
        threads = [threading.Thread(target=withdraw) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    withdrawals = ConsentRecord.objects.filter(
        person=person, purpose="marketing", channel="email", granted=False
    )
    assert withdrawals.count() == 1
    assert selectors.current_choices(person)[("marketing", "email")] is False
