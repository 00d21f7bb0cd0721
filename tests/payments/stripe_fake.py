"""Fixtures for card payments: the Stripe-compatible server
(tests/payments/stripe_server.py, localstripe plus Checkout) started once on
loopback, and the settings that point the app at it.

`stripe_api` is the server's base URL; `card_payments` sets the keys, empties
the server's store, and sends its webhooks nowhere unless a test says where
(`send_webhooks_to`). `signed_event` signs a payload as Stripe does, for tests
that deliver an event themselves (twice, out of order, forged)."""

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

SERVER = Path(__file__).with_name("stripe_server.py")
SECRET_KEY = "sk_test_cpd_booking"
WEBHOOK_SECRET = "whsec_tests_only"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def stripe_api():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(port)],
        cwd=SERVER.parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
        process.kill()
        output = process.stdout.read().decode() if process.stdout else ""
        raise AssertionError(f"the Stripe test server did not start:\n{output}")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def send_webhooks_to(stripe_api: str, url: str) -> None:
    response = requests.post(
        f"{stripe_api}/_config/webhooks/cpd",
        data={"url": url, "secret": WEBHOOK_SECRET},
        timeout=5,
    )
    response.raise_for_status()


@pytest.fixture
def card_payments(settings, stripe_api):
    """Card payments on, against the test server, with an empty store."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = stripe_api
    requests.delete(f"{stripe_api}/_config/data", timeout=5).raise_for_status()
    # Port 9 (discard): nothing listens, so events go nowhere until told.
    send_webhooks_to(stripe_api, "http://127.0.0.1:9/")
    return stripe_api


def signed_event(event: dict, *, secret: str = WEBHOOK_SECRET, at: int | None = None):
    """(body, Stripe-Signature header) for `event`, signed as Stripe does."""
    body = json.dumps(event).encode()
    stamp = int(time.time()) if at is None else at
    signature = hmac.new(
        secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return body, f"t={stamp},v1={signature}"


def pay_on_hosted_page(
    checkout_url: str, card: str = "4242424242424242"
) -> requests.Response:
    """What a payer's browser does on Stripe's page, without a browser."""
    return requests.post(
        checkout_url,
        data={"card": card, "expiry": "12/34", "cvc": "123"},
        allow_redirects=False,
        timeout=10,
    )
