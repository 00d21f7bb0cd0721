"""Pluggable SMS backends, chosen by the SMS_BACKEND setting (a dotted path).

- `ConsoleSmsBackend` (default) writes each message to the log.
- `LocmemSmsBackend` keeps messages in `marketing.sms.outbox` (for tests).
- `HttpSmsBackend` posts JSON `{"to", "body"}` to SMS_HTTP_URL with
  `Authorization: Bearer SMS_HTTP_TOKEN`; any non-2xx answer is an error.
"""

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SmsError(Exception):
    pass


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


outbox: list[SmsMessage] = []


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> None:
        log.info("SMS to %s: %s", message.to, message.body)


class LocmemSmsBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> None:
        outbox.append(message)


class HttpSmsBackend(BaseSmsBackend):
    def __init__(self) -> None:
        self.url = getattr(settings, "SMS_HTTP_URL", "")
        self.token = getattr(settings, "SMS_HTTP_TOKEN", "")
        self.timeout = getattr(settings, "SMS_HTTP_TIMEOUT", 10)
        if not self.url.startswith(("https://", "http://")):
            raise SmsError("Set SMS_HTTP_URL to the provider's http(s) address.")

    def send(self, message: SmsMessage) -> None:
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            self.url,
            data=json.dumps({"to": message.to, "body": message.body}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            raise SmsError(f"SMS provider answered {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise SmsError(f"SMS provider unreachable: {exc}") from exc


def get_backend() -> BaseSmsBackend:
    path = getattr(settings, "SMS_BACKEND", "marketing.sms.ConsoleSmsBackend")
    return import_string(path)()
