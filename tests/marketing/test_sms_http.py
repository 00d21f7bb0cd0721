"""The HTTP SMS adapter against a real HTTP server on loopback."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from marketing import sms


@pytest.fixture
def provider():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Authorization"], json.loads(body)))
            status = 500 if b"fail" in body else 202
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/messages", received
    server.shutdown()
    server.server_close()


def test_the_http_backend_posts_to_the_provider(settings, provider):
    url, received = provider
    settings.SMS_BACKEND = "marketing.sms.HttpSmsBackend"
    settings.SMS_HTTP_URL = url
    settings.SMS_HTTP_TOKEN = "secret-token"
    sms.get_backend().send(sms.SmsMessage(to="07700 900123", body="Hello"))
    assert received == [
        ("Bearer secret-token", {"to": "07700 900123", "body": "Hello"})
    ]


def test_a_provider_error_is_raised(settings, provider):
    url, _ = provider
    settings.SMS_BACKEND = "marketing.sms.HttpSmsBackend"
    settings.SMS_HTTP_URL = url
    with pytest.raises(sms.SmsError, match="answered 500"):
        sms.get_backend().send(sms.SmsMessage(to="1", body="fail"))


def test_an_unreachable_provider_is_an_error(settings):
    settings.SMS_HTTP_URL = "http://127.0.0.1:1/"
    with pytest.raises(sms.SmsError, match="unreachable"):
        sms.HttpSmsBackend().send(sms.SmsMessage(to="1", body="x"))
