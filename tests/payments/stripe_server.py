"""A Stripe-compatible API on loopback for the payment tests: localstripe (a
stateful fake of Stripe's API: payment intents, charges, refunds, signed
webhooks) plus what it lacks and the app uses, Checkout Sessions and their
hosted payment page.

    python tests/payments/stripe_server.py --port 8420

The Checkout page takes a card number as Stripe's test mode does:
4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined (the page says so
and the session stays open). Paying confirms a real localstripe payment
intent and sends `checkout.session.completed` to the registered webhooks,
signed as Stripe signs them; `POST /v1/checkout/sessions/{id}/expire` closes
a session and sends `checkout.session.expired`. Refunds are localstripe's own,
and send `refund.created` here (localstripe sends none).

Nothing is written to disk (localstripe's store would pickle to /tmp).
"""

import argparse
import html
import socket
import time

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.resources import (
    Event,
    PaymentIntent,
    PaymentMethod,
    Refund,
    StripeObject,
    store,
)
from localstripe.webhooks import schedule_webhook

resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

PORT = 8420


class CheckoutSession(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(
        self,
        mode=None,
        line_items=None,
        customer_email=None,
        client_reference_id=None,
        metadata=None,
        success_url=None,
        cancel_url=None,
        expires_at=None,
        **kwargs,
    ):
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        try:
            amount = 0
            currency = None
            for item in line_items or []:
                price = item["price_data"]
                amount += int(price["unit_amount"]) * int(item.get("quantity", 1))
                currency = price["currency"]
            urls = (success_url or "", cancel_url or "")
            if (
                mode != "payment"
                or amount <= 0
                or not all(url.startswith("http") for url in urls)
            ):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise UserError(400, "Bad request") from None
        super().__init__()
        self.mode = mode
        self.amount_total = amount
        self.currency = currency
        self.customer_email = customer_email
        self.client_reference_id = client_reference_id
        self.metadata = metadata or {}
        self.success_url = success_url
        self.cancel_url = cancel_url
        self.expires_at = int(expires_at) if expires_at else int(time.time()) + 86400
        self.payment_intent = None
        self.status = "open"
        self.payment_status = "unpaid"
        self.url = f"http://127.0.0.1:{PORT}/pay/{self.id}"
        self._name = line_items[0]["price_data"].get("product_data", {}).get("name")


async def create_session(request):
    data = await server.get_post_data(request) or {}
    data.pop("expand", None)
    return server.json_response(CheckoutSession._api_create(**data)._export())


async def retrieve_session(request):
    obj = CheckoutSession._api_retrieve(request.match_info["id"])
    return server.json_response(obj._export())


async def expire_session(request):
    obj = CheckoutSession._api_retrieve(request.match_info["id"])
    if obj.status != "open":
        raise UserError(400, "Only open sessions can be expired.")
    obj.status = "expired"
    schedule_webhook(Event("checkout.session.expired", obj))
    return server.json_response(obj._export())


def _refund_and_tell(cls, **data):
    """localstripe's refund, plus the `refund.created` event Stripe sends."""
    refund = StripeObject._api_create.__func__(cls, **data)
    schedule_webhook(Event("refund.created", refund))
    return refund


Refund._api_create = classmethod(_refund_and_tell)


@web.middleware
async def hosted_pages_are_public(request, handler):
    """The payer's browser has no API key: the hosted page needs none."""
    if request.path.startswith("/pay/"):
        return await handler(request)
    return await server.auth_middleware(request, handler)


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Pay {amount} - Stripe test checkout</title></head><body>
<main><h1>Pay £{amount}</h1><p>{name}</p>{error}
<form method="post">
<label for="card">Card number</label> <input id="card" name="card" autocomplete="cc-number">
<label for="expiry">Expiry (MM/YY)</label> <input id="expiry" name="expiry" value="12/34">
<label for="cvc">CVC</label> <input id="cvc" name="cvc" value="123">
<button type="submit">Pay</button></form>
<p><a href="{cancel}">Back</a></p></main></body></html>"""


def _page(session, error=""):
    return web.Response(
        text=PAGE.format(
            amount=f"{session.amount_total / 100:.2f}",
            name=html.escape(session._name or ""),
            error=f'<p role="alert">{html.escape(error)}</p>' if error else "",
            cancel=html.escape(session.cancel_url),
        ),
        content_type="text/html",
    )


async def hosted_page(request):
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    if session.status != "open":
        return web.Response(text="This payment page has expired.", status=410)
    if request.method == "GET":
        return _page(session)
    form = await request.post()
    number = "".join(ch for ch in form.get("card", "") if ch.isdigit())
    month, _, year = form.get("expiry", "12/34").partition("/")
    try:
        method = PaymentMethod._api_create(
            type="card",
            card={
                "number": number,
                "exp_month": month,
                "exp_year": year,
                "cvc": form.get("cvc", "123"),
            },
        )
        if method._attaching_is_declined():  # 4000 0000 0000 0002, as Stripe
            return _page(session, "Your card was declined.")
        intent = PaymentIntent._api_create(
            amount=session.amount_total,
            currency=session.currency,
            payment_method=method.id,
            metadata=session.metadata,
        )
        intent._confirm(on_failure_now=lambda: None)
    except UserError:
        return _page(session, "Your card number is not valid.")
    if intent.status != "succeeded":
        return _page(session, "Your card was declined.")
    session.payment_intent = intent.id
    session.status = "complete"
    session.payment_status = "paid"
    schedule_webhook(Event("checkout.session.completed", session))
    target = session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
    raise web.HTTPSeeOther(target)


def main():
    global PORT
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=PORT)
    args = parser.parse_args()
    PORT = args.port
    app = server.app
    app.middlewares[app.middlewares.index(server.auth_middleware)] = (
        hosted_pages_are_public
    )
    for method, path, handler in (
        ("POST", "/v1/checkout/sessions", create_session),
        ("GET", "/v1/checkout/sessions/{id}", retrieve_session),
        ("POST", "/v1/checkout/sessions/{id}/expire", expire_session),
        ("GET", "/pay/{id}", hosted_page),
        ("POST", "/pay/{id}", hosted_page),
    ):
        app.router.add_route(method, path, handler)
    store.clear()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    web.run_app(app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
