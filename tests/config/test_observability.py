"""Request ids, JSON logs and the error tracker (config/observability.py),
each seen as an operator would: in the response header, in the log line a
real process prints, in the tasks a real worker runs, and in what reaches a
Sentry-compatible endpoint on loopback (whose envelopes are read back)."""

import gzip
import json
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import sentry_sdk
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from config.celery import app as celery_app
from config.observability import RequestIdMiddleware, current_request_id
from tests.accounts.factories import verified_person

ROOT = Path(__file__).resolve().parents[2]


def test_every_response_carries_a_request_id_and_a_proxys_is_kept(client):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz")["X-Request-ID"] != made
    given = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21")
    assert given["X-Request-ID"] == "lb-7f3a9c21"
    # Anything but a plain token is replaced, never echoed.
    odd = client.get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert odd["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(odd["X-Request-ID"]) == 32


def test_log_format_json_prints_one_object_per_line_with_the_request_id():
    code = (
        "import logging\n"
        "from django.test import RequestFactory\n"
        "from django.http import HttpResponse\n"
        "from config.observability import RequestIdMiddleware\n"
        "def view(request):\n"
        "    logging.getLogger('bookings').warning('place freed %s', 7)\n"
        "    return HttpResponse()\n"
        "RequestIdMiddleware(view)(RequestFactory().get('/', "
        "HTTP_X_REQUEST_ID='req-12345678'))\n"
        "logging.getLogger('bookings').warning('outside')\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "SECRET_KEY": "x",
            "LOG_FORMAT": "json",
            "DATABASE_URL": "sqlite:////tmp/cpd-log-format-test.sqlite3",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line]
    inside = next(line for line in lines if line["message"] == "place freed 7")
    assert inside["request_id"] == "req-12345678"
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "bookings"
    assert "time" in inside
    outside = next(line for line in lines if line["message"] == "outside")
    assert outside["request_id"] == "-"


@celery_app.task(name="tests.request_id_probe")
def request_id_probe(key: str) -> None:
    cache.set(key, current_request_id(), timeout=60)


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_logs_under_the_same_request_id(settings):
    celery_app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
        ):

            def view(request):
                request_id_probe.delay("probe:request-id")
                return HttpResponse()

            response = RequestIdMiddleware(view)(
                RequestFactory().get("/", HTTP_X_REQUEST_ID="booking-abc12345")
            )
            assert response["X-Request-ID"] == "booking-abc12345"
            deadline = time.monotonic() + 20
            while cache.get("probe:request-id") is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert cache.get("probe:request-id") == "booking-abc12345"
            # A task queued outside any request has none.
            request_id_probe.delay("probe:no-request")
            deadline = time.monotonic() + 20
            while cache.get("probe:no-request") is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert cache.get("probe:no-request") == "-"
    finally:
        celery_app.conf.task_always_eager = True


class _Envelopes(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # sentry-sdk compresses with it when it is installed

            body = brotli.decompress(body)
        _Envelopes.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_endpoint():
    server = HTTPServer(("127.0.0.1", 0), _Envelopes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Envelopes.received = []
    try:
        yield f"http://public@127.0.0.1:{server.server_port}/1"
    finally:
        sentry_sdk.init()  # no DSN: nothing is sent any more
        server.shutdown()


@pytest.mark.django_db
def test_an_error_reaches_the_tracker_without_personal_data(
    client, settings, sentry_endpoint
):
    from config.observability import init_sentry

    settings.ROOT_URLCONF = "tests.config.boom_urls"
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if "MultiFactor" not in m and "Staff" not in m
    ]
    assert init_sentry(sentry_endpoint, environment="tests")
    person = verified_person(first_name="Zelda", last_name="Quintana-Private")
    client.force_login(person)
    client.cookies["cookie_consent"] = "private-cookie-value"
    client.raise_request_exception = False

    response = client.post(
        "/boom/?email=zelda.private%40example.org",
        {"notes": "Zelda Quintana-Private has a disability"},
        HTTP_X_REQUEST_ID="err-12345678",
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)

    raw = b"\n".join(_Envelopes.received)
    assert b"boom for the error tracker test" in raw
    for secret in (
        b"zelda.private",
        b"Quintana-Private",
        b"private-cookie-value",
        b"disability",
        person.email.encode(),
        b"sessionid",
    ):
        assert secret not in raw, raw[
            max(0, raw.find(secret) - 300) : raw.find(secret) + 100
        ]
    events = [
        json.loads(line)
        for body in _Envelopes.received
        for line in body.splitlines()
        if line.startswith(b"{") and b'"exception"' in line
    ]
    assert events, raw[:500]
    event = events[0]
    assert event["user"] == {"id": str(person.pk)}
    assert event["tags"]["request_id"] == "err-12345678"
    # Where it failed: the route, never the path with its query string.
    assert event["transaction"] == "/boom/"
