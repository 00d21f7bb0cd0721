"""Concurrency: two payments for the same balance at once are both recorded
(money received is never dropped) and the second one knows the first was
there: the balance goes below zero only with a line flagged for review. The
same statement uploaded twice at once records each payment once."""

from decimal import Decimal

import pytest

from bookings.models import Transaction
from payments import services
from payments.models import StatementLine
from tests.accounts.factories import UserFactory
from tests.concurrency import race

from .helpers import line, owes, reference, statement


@pytest.mark.django_db(transaction=True)
def test_two_payments_for_one_balance_at_once_flag_the_one_that_overpays():
    smith = reference("4K7QM")
    owes(smith.person, "25.00")
    staff = UserFactory.create(is_staff=True)
    # Two different statements (two bank accounts) each paying the balance.
    uploads = [
        statement(line("J SMITH CPD-4K7QM-D", bank_id=f"B{n}"), account=f"acct {n}")
        for n in (1, 2)
    ]

    errors = race(
        *[
            lambda p=p: services.upload_statement(
                p, filename="s.sta", format="mt940", by=staff
            )
            for p in uploads
        ]
    )

    assert errors == []
    paid = Transaction.objects.filter(kind="payment", person=smith.person)
    assert paid.count() == 2
    assert services.balance_of(smith) == Decimal("-25.00")
    flags = sorted(StatementLine.objects.values_list("overpaid", flat=True))
    assert flags == [False, True]  # the one that went below zero says so


@pytest.mark.django_db(transaction=True)
def test_the_same_statement_uploaded_twice_at_once_pays_each_line_once():
    smith = reference("4K7QM")
    owes(smith.person, "50.00")
    staff = UserFactory.create(is_staff=True)
    parsed = statement(
        line("J SMITH CPD-4K7QM-D", day=1), line("J SMITH CPD-4K7QM-D", day=2)
    )

    errors = race(
        *[
            lambda: services.upload_statement(
                parsed, filename="s.sta", format="mt940", by=staff
            )
        ]
        * 2
    )

    assert errors == []
    assert StatementLine.objects.count() == 2
    assert Transaction.objects.filter(kind="payment").count() == 2
    assert services.balance_of(smith) == Decimal("0.00")
    assert not StatementLine.objects.filter(overpaid=True).exists()
