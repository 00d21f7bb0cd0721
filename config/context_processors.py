from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

NAV_NAMES = (
    "consent:cookies",
    "consent:privacy",
    "consent:preferences",
    "consent:contact",
    "courses:list",
    "products:list",
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


def failed_mail(request: HttpRequest) -> dict:
    """On the staff pages and the admin index, for staff who may view an outbox:
    how many messages were not sent for good (config.outbox.failed_mail_counts,
    one query). Other pages pay nothing."""
    path = request.path
    if not (path.startswith("/staff/") or path == _nav_urls()["admin_index"]):
        return {}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    from config.outbox import failed_mail_counts

    outboxes = failed_mail_counts(user)
    return {
        "failed_mail": outboxes,
        "failed_mail_total": sum(o["count"] for o in outboxes),
        "failed_mail_hours": settings.OUTBOX_RETRY_HORIZON_HOURS,
    }
