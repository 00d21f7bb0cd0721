import secrets

from django.contrib import messages
from django.core.cache import cache
from django.utils.translation import gettext as _

from . import selectors, services
from .models import PolicyVersion

ANALYTICS_COOKIE = "cpd_analytics_id"


class ConsentMiddleware:
    """Honours cookie choices and tells signed-in people, once, of a new privacy notice.

    The first-party analytics identifier is set only after the person accepts
    analytics cookies, and removed as soon as they reject (or send Sec-GPC: 1).
    The decision is left on `request.analytics_allowed` for
    analytics.middleware.AnalyticsMiddleware, which records a page view only
    when it is true.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if request.method == "GET" and user is not None and user.is_authenticated:
            self._tell_of_new_policy(request, user)
        response = self.get_response(request)
        allowed = selectors.analytics_allowed(request)
        # analytics.middleware.AnalyticsMiddleware (outside this one) records
        # a page view only when this is true, without asking again.
        request.analytics_allowed = allowed
        if allowed and ANALYTICS_COOKIE not in request.COOKIES:
            response.set_cookie(
                ANALYTICS_COOKIE,
                secrets.token_urlsafe(16),
                max_age=13 * 30 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        elif not allowed and ANALYTICS_COOKIE in request.COOKIES:
            response.delete_cookie(ANALYTICS_COOKIE, samesite="Lax")
        return response

    def _tell_of_new_policy(self, request, user) -> None:
        current = cache.get("consent:privacy-current")
        if current is None:
            policy = selectors.policy_current(PolicyVersion.Kind.PRIVACY)
            current = (policy.pk, policy.summary_of_changes) if policy else (0, "")
            cache.set("consent:privacy-current", current, 60)
        pk, summary = current
        if pk and user.privacy_version_seen != pk:
            if user.privacy_version_seen is not None:
                messages.info(
                    request,
                    _(
                        "We have updated our privacy notice. %(summary)s Read it at /privacy/."
                    )
                    % {"summary": summary},
                )
            services.mark_policy_seen(user, PolicyVersion(pk=pk))
