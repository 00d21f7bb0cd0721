"""Card payments at the same moment, against the Stripe-compatible server:
the webhook and the return page recording one session at once write one
payment; two sessions paid for one balance (two devices) are both recorded,
and the surplus goes back to the card, so the balance is never left below
zero without a refund row."""

from decimal import Decimal

import pytest
import requests

from bookings.models import Transaction
from payments import gateway, services
from payments.models import CardPayment, CardRefund
from tests.accounts.factories import verified_person
from tests.concurrency import race
from tests.payments.stripe_fake import SECRET_KEY, pay_on_hosted_page

from .helpers import owes

pytestmark = pytest.mark.django_db(transaction=True)


def _open_session(reference, amount: Decimal) -> CardPayment:
    """A session as a second device opened it (the service would reuse the
    first one, so this one is made beside it)."""
    payment = CardPayment.objects.create(reference=reference, amount=amount)
    checkout = gateway.create_checkout(
        amount=amount,
        description="Test",
        email="",
        client_reference=str(payment.pk),
        success_url="http://testserver/ok/",
        cancel_url="http://testserver/back/",
        idempotency_key=f"race-{payment.pk}",
        expires_at=2_000_000_000,
    )
    CardPayment.objects.filter(pk=payment.pk).update(
        checkout_session_id=checkout.id, checkout_url=checkout.url
    )
    payment.refresh_from_db()
    return payment


def _checkout(payment: CardPayment) -> gateway.Checkout:
    return gateway.retrieve_checkout(payment.checkout_session_id)


def test_the_webhook_and_the_return_page_at_once_record_one_payment(card_payments):
    person = verified_person()
    owes(person, "220.00")
    payment = _open_session(services.reference_for(person=person), Decimal("220.00"))
    pay_on_hosted_page(payment.checkout_url)
    paid = _checkout(payment)

    errors = race(
        lambda: services.record_card_payment(paid),
        lambda: services.refresh_card_payment(CardPayment.objects.get(pk=payment.pk)),
        lambda: services.record_card_payment(paid),
    )

    assert errors == []
    assert Transaction.objects.filter(kind="payment", means="card").count() == 1
    assert services.balance_of(services.reference_for(person=person)) == 0
    assert not CardRefund.objects.exists()


def test_one_balance_paid_twice_at_once_is_refunded_back_to_zero(card_payments):
    person = verified_person()
    owes(person, "220.00")
    reference = services.reference_for(person=person)
    first = _open_session(reference, Decimal("220.00"))
    second = _open_session(reference, Decimal("220.00"))
    pay_on_hosted_page(first.checkout_url)
    pay_on_hosted_page(second.checkout_url)

    errors = race(
        lambda: services.record_card_payment(_checkout(first)),
        lambda: services.record_card_payment(_checkout(second)),
    )

    assert errors == []
    payments = Transaction.objects.filter(kind="payment", means="card")
    assert payments.count() == 2  # money that moved is never dropped
    refund = CardRefund.objects.get()  # one surplus, one refund
    assert refund.amount == Decimal("220.00")
    assert refund.status == "succeeded"
    assert list(
        Transaction.objects.filter(kind="refund_paid").values_list("amount", flat=True)
    ) == [Decimal("220.00")]
    assert services.balance_of(reference) == 0
    # Stripe gave the surplus back once.
    refunds = requests.get(
        f"{card_payments}/v1/refunds",
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        timeout=5,
    ).json()["data"]
    assert [r["amount"] for r in refunds] == [22000]


def test_a_balance_below_zero_always_has_its_refund_row(card_payments):
    """Whatever the order, after each recorded payment a balance below zero
    is matched by refund rows (pending or done) for the surplus."""
    person = verified_person()
    owes(person, "50.00")
    reference = services.reference_for(person=person)
    sessions = [_open_session(reference, Decimal("50.00")) for _ in range(3)]
    for session in sessions:
        pay_on_hosted_page(session.checkout_url)

    errors = race(
        *[lambda s=s: services.record_card_payment(_checkout(s)) for s in sessions]
    )

    assert errors == []
    owed = services.balance_of(reference)
    pending = sum(
        (r.amount for r in CardRefund.objects.filter(status="pending")), Decimal(0)
    )
    assert owed + pending == 0
    assert CardRefund.objects.filter(status__in=["pending", "succeeded"]).count() >= 1
    assert sum(r.amount for r in CardRefund.objects.all()) == Decimal("100.00")
