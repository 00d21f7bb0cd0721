"""Stripe's own webhooks, over HTTP: the Stripe-compatible server signs and
posts `checkout.session.completed` to the running app, which verifies the
signature with the stripe library and records the payment, with nobody
visiting the return page (a payer who closed the tab after paying)."""

import time
from decimal import Decimal

import pytest

from bookings.models import Transaction
from payments import services
from payments.models import CardPayment
from tests.accounts.factories import verified_person
from tests.payments.stripe_fake import pay_on_hosted_page, send_webhooks_to

from .helpers import owes

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_payer_who_closes_the_tab_is_still_recorded_by_the_webhook(
    live_server, card_payments, settings
):
    settings.SITE_URL = live_server.url
    send_webhooks_to(card_payments, f"{live_server.url}/payments/stripe/webhook/")
    person = verified_person()
    owes(person, "75.00")
    payment = services.start_card_payment(
        reference=services.reference_for(person=person),
        by=person,
        success_url=f"{live_server.url}/payments/card/{{pk}}/",
        cancel_url=f"{live_server.url}/payments/card/{{pk}}/cancelled/",
    )
    assert pay_on_hosted_page(payment.checkout_url).status_code == 303

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        payment.refresh_from_db()
        if payment.status == CardPayment.Status.PAID:
            break
        time.sleep(0.2)
    assert payment.status == CardPayment.Status.PAID
    row = Transaction.objects.get(person=person, kind="payment")
    assert (row.amount, row.means) == (Decimal("-75.00"), "card")
    assert row.provider_reference == payment.payment_intent_id
