import pytest

from marketing import sms


class FailingForBounceBackend:
    """An SMTP stand-in that refuses addresses at bounce.example.org."""

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self.inner = EmailBackend(*args, **kwargs)

    def open(self):
        return False

    def close(self):
        return None

    def send_messages(self, messages):
        for message in messages:
            if any(to.endswith("@bounce.example.org") for to in message.to):
                raise OSError("550 mailbox unavailable")
        return self.inner.send_messages(messages)


@pytest.fixture(autouse=True)
def _marketing_settings(settings):
    # Fast password hashing: these tests create many people.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MARKETING_SEND_RATE_PER_SECOND = 0  # unlimited unless a test sets it
    settings.MARKETING_BATCH_SIZE = 3
    settings.SMS_BACKEND = "marketing.sms.LocmemSmsBackend"
    settings.SITE_URL = "http://testserver"
    sms.outbox.clear()
    yield
    sms.outbox.clear()
