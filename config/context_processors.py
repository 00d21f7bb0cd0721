from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

NAV_NAMES = (
    "consent:cookies",
    "consent:privacy",
    "consent:preferences",
    "courses:list",
    "bookings:list",
    "bookings:training_record",
    "funding:list",
    "accounts:profile",
    "admin:index",
    "account_logout",
    "account_login",
    "account_signup",
    "mfa_index",
)


@cache
def _nav_urls() -> dict[str, str]:
    # The layout's links never change while a process runs: reverse them once.
    return {name.replace(":", "_"): reverse(name) for name in NAV_NAMES}


def site(request: HttpRequest) -> dict:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "nav": _nav_urls(),
        "current_path": request.get_full_path(),
    }
