"""Times and money written the GOV.UK way (issue 17): "10am to 1pm",
"midday", "£1,850", and a refund with a real minus sign, never "£-60.00"."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bookings.models import Transaction
from courses.templatetags.govuk import clock, money, time_range

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("hour", "minute", "shown"),
    [
        (10, 0, "10am"),
        (13, 30, "1:30pm"),
        (12, 0, "midday"),
        (0, 0, "midnight"),
        (0, 5, "12:05am"),
        (23, 59, "11:59pm"),
    ],
)
def test_clock(hour, minute, shown):
    assert clock(dt.datetime(2031, 6, 1, hour, minute, tzinfo=LONDON)) == shown


def test_a_session_in_summer_time_is_shown_in_uk_time():
    starts = dt.datetime(2031, 6, 1, 9, 0, tzinfo=dt.UTC)  # 10am in London
    ends = dt.datetime(2031, 6, 1, 12, 0, tzinfo=dt.UTC)
    assert time_range(starts, ends) == "10am to 1pm"


@pytest.mark.parametrize(
    ("amount", "pence", "shown"),
    [
        (Decimal("1850"), "", "£1,850"),
        (Decimal("75.50"), "", "£75.50"),
        (Decimal("-60"), "always", "\N{MINUS SIGN}£60.00"),
        (Decimal("0"), "always", "£0.00"),
        (Decimal("1850"), "always", "£1,850.00"),
    ],
)
def test_money(amount, pence, shown):
    assert money(amount, pence) == shown


@pytest.mark.django_db
def test_a_refund_in_the_transaction_history_has_a_real_minus_sign(learner_client):
    Transaction.objects.create(
        person=learner_client.user,
        kind="charge",
        amount=Decimal("220"),
        description="Place",
    )
    Transaction.objects.create(
        person=learner_client.user,
        kind="refund",
        amount=Decimal("-60"),
        description="Refund",
    )
    html = learner_client.get("/transactions/").content.decode()
    assert "\N{MINUS SIGN}£60.00" in html
    assert "£-" not in html
    assert "£160.00" in html
