"""Two guards on back-office sessions.

`StaffMFAMiddleware`: two-factor authentication before the back office
(/admin/) or a staff page (/staff/) opens. The page the person asked for is
kept in the session (`MFA_NEXT`, a safe local path only) while they set up
their authenticator, so "Continue" after the recovery codes goes there.

`StaffSessionTimeoutMiddleware`: a session that can reach the back office ends
after `STAFF_SESSION_IDLE_MINUTES` without a request, and after
`STAFF_SESSION_MAX_HOURS` since sign-in whatever the activity. Learners keep
Django's session lifetime (`SESSION_COOKIE_AGE`, two weeks).

Who counts as back office is `has_back_office_access`, the same rule that gates
/staff/ behind two-factor: the staff or superuser flag, or any group or
permission. The flags cost nothing to read; groups and permissions take two
queries, so the answer is kept in the session and asked again at most once a
minute, and so is the time of the last request: the session is written at
most once a minute, not on every request. Idle time is therefore measured to
the minute (a session can end up to a minute before the idle limit, never
after it).

Timestamps are whole seconds since the epoch, read from `django.utils.timezone
.now()`; the sign-in time is set by `stamp_sign_in` (connected to
`user_logged_in` in `accounts.apps`), so signing in again starts the clock
again.
"""

import logging
from urllib.parse import urlsplit

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.redirects import safe_next_path

log = logging.getLogger(__name__)

SIGNED_IN_AT = "auth_signed_in_at"
SEEN_AT = "auth_seen_at"
BACK_OFFICE = "auth_back_office"
# The back-office page someone asked for before being sent to set up two-factor
# authentication (read by `mfa_continue_path`).
MFA_NEXT = "auth_mfa_next"
# How stale the session's record of the last request (and of the person's
# back-office access) may be: the session is written at most this often.
RECHECK_SECONDS = 60


def has_back_office_access(user) -> bool:
    """Anyone holding a back-office role or permission, staff flag or not (a
    superuser holds every permission)."""
    if user.is_staff or user.is_superuser:
        return True
    # One query for both (they were two). request.user is a lazy object.
    model = get_user_model()
    return (
        model.objects.filter(pk=user.pk)
        .filter(
            Exists(model.groups.through.objects.filter(user_id=OuterRef("pk")))
            | Exists(
                model.user_permissions.through.objects.filter(user_id=OuterRef("pk"))
            )
        )
        .exists()
    )


class StaffMFAMiddleware:
    """Staff must have two-factor authentication before the back office
    (/admin/) or a staff page (/staff/) opens."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and self._needs_mfa(request.path, user)
        ):
            if not Authenticator.objects.filter(
                user=user, type=Authenticator.Type.TOTP
            ).exists():
                return self._set_up_first(request)
            if MFA_NEXT in request.session:
                # Back in the back office: the page kept for "Continue" is served
                # or no longer wanted.
                del request.session[MFA_NEXT]
        return self.get_response(request)

    @staticmethod
    def _set_up_first(request):
        wanted = (
            request.get_full_path()
            if request.method in ("GET", "HEAD")
            else _referer_path(request)
        )
        wanted = safe_next_path(request, wanted, fallback="")
        # "/" is what a foreign or missing referer gives: the staff home is a
        # better place to continue to.
        if wanted and wanted != "/":
            request.session[MFA_NEXT] = wanted
        messages.warning(
            request,
            _("Set up two-factor authentication before you use the back office."),
        )
        return redirect("mfa_activate_totp")

    @staticmethod
    def _needs_mfa(path: str, user) -> bool:
        # A superuser holds every permission, staff flag or not, so two-factor
        # gates them everywhere a staff member is gated.
        if path.startswith("/admin/"):
            return user.is_staff or user.is_superuser
        if path.startswith("/staff/"):
            return has_back_office_access(user)
        return False


def mfa_continue_path(request) -> str:
    """Where "Continue" goes once two-factor authentication is set up: the
    back-office page the person asked for, else the staff home for back-office
    staff, else the two-factor page."""
    kept = safe_next_path(request, request.session.get(MFA_NEXT), fallback="")
    if kept:
        return kept
    user = request.user
    if user.is_authenticated and has_back_office_access(user):
        return resolve_url("bookings:staff_home")
    return resolve_url("mfa_index")


def _now() -> int:
    return int(timezone.now().timestamp())


def stamp_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: the sign-in time and the person's access, kept in the
    new session (login() has just cycled its key)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = _now()
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now
    session[BACK_OFFICE] = has_back_office_access(user)


class StaffSessionTimeoutMiddleware:
    """Signs a back-office session out when it has been idle, or alive, too long
    (see the module docstring), and sends the person to sign in again with a
    message saying why and a `next` back to where they were."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            refused = self._check(request, user)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _check(self, request, user):
        session = request.session
        now = _now()
        signed_in_at = session.get(SIGNED_IN_AT)
        seen_at = session.get(SEEN_AT)
        if not isinstance(signed_in_at, int) or not isinstance(seen_at, int):
            # A session from before these stamps: its clock starts now.
            stamp_sign_in(None, request, user)
            return None
        stale = now - seen_at >= RECHECK_SECONDS
        back_office = user.is_staff or user.is_superuser
        if not back_office:
            back_office = session.get(BACK_OFFICE) is True
            if stale:
                back_office = has_back_office_access(user)
        if back_office:
            idle_limit = settings.STAFF_SESSION_IDLE_MINUTES * 60
            max_age = settings.STAFF_SESSION_MAX_HOURS * 3600
            if now - signed_in_at >= max_age:
                return self._sign_out(request, self._max_age_message())
            if now - seen_at >= idle_limit:
                return self._sign_out(request, self._idle_message())
        if stale:
            session[SEEN_AT] = now
            session[BACK_OFFICE] = back_office
        elif session.get(BACK_OFFICE) is not back_office:
            session[BACK_OFFICE] = back_office
        return None

    @staticmethod
    def _idle_message() -> str:
        minutes = settings.STAFF_SESSION_IDLE_MINUTES
        return ngettext(
            "You were signed out after %(n)d minute without activity, to keep "
            "the back office safe. Sign in again to carry on.",
            "You were signed out after %(n)d minutes without activity, to keep "
            "the back office safe. Sign in again to carry on.",
            minutes,
        ) % {"n": minutes}

    @staticmethod
    def _max_age_message() -> str:
        hours = settings.STAFF_SESSION_MAX_HOURS
        return ngettext(
            "You were signed out %(n)d hour after you signed in, to keep the "
            "back office safe. Sign in again to carry on.",
            "You were signed out %(n)d hours after you signed in, to keep the "
            "back office safe. Sign in again to carry on.",
            hours,
        ) % {"n": hours}

    @staticmethod
    def _sign_out(request, message: str):
        if request.method in ("GET", "HEAD"):
            wanted = request.get_full_path()
        else:
            # What was sent is not acted on; come back to the page it was sent
            # from, not to an address that only takes a POST.
            message += " " + _("What you last sent was not saved.")
            wanted = _referer_path(request)
        target = safe_next_path(request, wanted, fallback="/")
        log.info("Back-office session of user %s ended: %s", request.user.pk, message)
        logout(request)
        messages.warning(request, message)
        return redirect_to_login(target, resolve_url(settings.LOGIN_URL))


def _referer_path(request) -> str:
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    if referer.netloc and referer.netloc != request.get_host():
        return "/"
    return referer.path + (f"?{referer.query}" if referer.query else "")
