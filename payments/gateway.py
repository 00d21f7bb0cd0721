"""The only code that talks to Stripe. Card payments use Stripe Checkout (a
page Stripe hosts), so no card number ever reaches our servers; we send an
amount, the payer's email and our own ids, and read back Stripe's.

Keys come only from the environment (`STRIPE_SECRET_KEY`,
`STRIPE_WEBHOOK_SECRET`, and `STRIPE_API_BASE` to point at a Stripe-compatible
test server) and are never logged: errors are turned into `CardGatewayError`
with a message that is safe to show and carries no key or request body.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)

CURRENCY = "gbp"


class CardGatewayError(Exception):
    """Stripe could not be reached or refused the request."""


class BadSignature(Exception):
    """A webhook whose signature does not verify (or is too old)."""


@dataclass(frozen=True)
class Checkout:
    id: str
    url: str
    status: str  # open, complete, expired
    payment_status: str  # unpaid, paid, no_payment_required
    payment_intent: str
    amount_total: int


@dataclass(frozen=True)
class Refund:
    id: str
    status: str  # pending, succeeded, failed, canceled, requires_action


def card_checkout_origins(secret_key: str, api_base: str) -> list[str]:
    """Where Checkout's page lives, for CSP `form-action` (browsers check the
    redirect after "Pay by card" against it): Stripe's, or a test server's
    (whose page is on its API's origin). None when card payments are off."""
    if not secret_key:
        return []
    if not api_base:
        return ["https://checkout.stripe.com"]
    url = urlsplit(api_base)
    return [f"{url.scheme}://{url.netloc}"]


def enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


def _client() -> stripe.StripeClient:
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else {}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=2
    )


def pence(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _failed(action: str, exc: Exception) -> CardGatewayError:
    # The class name and Stripe's own code only: never the request or a key.
    code = getattr(exc, "code", None) or ""
    logger.warning("Stripe %s failed: %s %s", action, type(exc).__name__, code)
    return CardGatewayError(
        "The card payment service did not answer. Nothing has been taken; "
        "try again in a few minutes."
    )


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _checkout(obj) -> Checkout:
    obj = _plain(obj)
    intent = obj.get("payment_intent") or ""
    if not isinstance(intent, str):  # expanded
        intent = intent.get("id", "")
    return Checkout(
        id=obj["id"],
        url=obj.get("url") or "",
        status=obj.get("status") or "",
        payment_status=obj.get("payment_status") or "",
        payment_intent=intent,
        amount_total=int(obj.get("amount_total") or 0),
    )


def create_checkout(
    *,
    amount: Decimal,
    description: str,
    email: str,
    client_reference: str,
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
    expires_at: int,
) -> Checkout:
    try:
        session = _client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": CURRENCY,
                            "unit_amount": pence(amount),
                            "product_data": {"name": description[:250]},
                        },
                    }
                ],
                "customer_email": email or None,
                "client_reference_id": client_reference,
                "metadata": {"cpd_card_payment": client_reference},
                "success_url": success_url,
                "cancel_url": cancel_url,
                "expires_at": expires_at,
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise _failed("checkout", exc) from None
    return _checkout(session)


def retrieve_checkout(session_id: str) -> Checkout:
    try:
        return _checkout(_client().v1.checkout.sessions.retrieve(session_id))
    except stripe.StripeError as exc:
        raise _failed("checkout lookup", exc) from None


def expire_checkout(session_id: str) -> Checkout | None:
    """Close an open session so it can no longer be paid; None when Stripe
    refuses because it is already complete or expired."""
    try:
        return _checkout(_client().v1.checkout.sessions.expire(session_id))
    except stripe.InvalidRequestError:
        return None
    except stripe.StripeError as exc:
        raise _failed("checkout expiry", exc) from None


def create_refund(*, payment_intent: str, amount: Decimal, refund_id: int) -> Refund:
    try:
        refund = _client().v1.refunds.create(
            params={
                "payment_intent": payment_intent,
                "amount": pence(amount),
                "metadata": {"cpd_card_refund": str(refund_id)},
            },
            # The same refund asked twice (a retried task) is made once.
            options={"idempotency_key": f"cpd-card-refund-{refund_id}"},
        )
    except stripe.StripeError as exc:
        raise _failed("refund", exc) from None
    refund = _plain(refund)
    return Refund(id=refund["id"], status=refund.get("status") or "pending")


def retrieve_refund(stripe_refund_id: str) -> Refund:
    try:
        refund = _client().v1.refunds.retrieve(stripe_refund_id)
    except stripe.StripeError as exc:
        raise _failed("refund lookup", exc) from None
    refund = _plain(refund)
    return Refund(id=refund["id"], status=refund.get("status") or "pending")


def verify_event(payload: bytes, signature: str) -> dict:
    """The event a webhook carries, as a plain dict, once its signature is
    checked against `STRIPE_WEBHOOK_SECRET` (and is at most 5 minutes old)."""
    if not enabled():
        raise BadSignature("card payments are not configured")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET
        )
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise BadSignature(type(exc).__name__) from None
    return event.to_dict()
