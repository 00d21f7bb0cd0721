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


def staff(request: HttpRequest) -> dict:
    """On /staff/ pages: the staff navigation (instead of the learner's) and
    the breadcrumbs; on the admin index: the staff sections. Only for people
    with a back-office role; other pages pay nothing."""
    from . import staff_nav

    path = request.path
    on_staff_page = path.startswith(staff_nav.STAFF_PREFIX)
    if not (on_staff_page or path == _nav_urls()["admin_index"]):
        return {}
    user = getattr(request, "user", None)
    if user is None or not staff_nav.is_staff_member(user):
        return {}
    context = {"staff_sections": staff_nav.sections_for(user, current_path=path)}
    if on_staff_page:
        match = getattr(request, "resolver_match", None)
        context["staff_nav"] = True
        context["staff_breadcrumbs"] = (
            staff_nav.breadcrumbs_for(match.view_name, match.kwargs)
            if match is not None
            else []
        )
    return context
