import pytest


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MARKETING_SEND_RATE_PER_SECOND = 0
    settings.SITE_URL = "http://testserver"
