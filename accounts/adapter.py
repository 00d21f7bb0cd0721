import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from config.redirects import safe_next_path

from . import selectors, services

# Set on a person's first sign-in (their sign-up): the sign-in then goes on to
# "Complete your profile" while the workplace or job title is missing.
FIRST_SIGN_IN = "accounts.first_sign_in"


def _complete_profile_first(request, then: str) -> str:
    """`then`, or the "Complete your profile" step on the way there when this
    is the person's first sign-in and their workplace or job title is missing.
    Staff are never diverted (they land where they asked)."""
    first = request.session.pop(FIRST_SIGN_IN, False)
    user = request.user
    if first and not user.is_staff and selectors.profile_missing(user):
        query = urlencode({"next": then}) if then and then != "/" else ""
        return reverse("accounts:complete") + (f"?{query}" if query else "")
    return then


# Sign-ins in which the person typed a credential here: their password, or a
# code from their authenticator. A sign-in through a provider (which may not
# have asked for anything) or by an emailed link does not count.
FRESH_SIGN_IN_METHODS = frozenset({"password", "mfa"})


def signed_in_moments_ago(request) -> bool:
    """Whether this session's sign-in, with a password or an authenticator
    code, was less than ACCOUNT_REAUTHENTICATION_TIMEOUT ago: allauth's own
    record of how the session was authenticated, read the way allauth reads
    it for a reauthentication."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    records = [
        r
        for r in get_authentication_records(request, user)
        if r.get("method") in FRESH_SIGN_IN_METHODS
    ]
    if not records:
        return False
    at = records[-1].get("at")
    if not isinstance(at, int | float):
        return False
    return time.time() - at < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


class AccountAdapter(DefaultAccountAdapter):
    # allauth's messages in the service's voice (GOV.UK: say what to do).
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": _(
            "Enter the email address and password of your account. If you have "
            "forgotten your password, reset it."
        ),
        "email_taken": _(
            "An account already uses this email address. Sign in instead."
        ),
        "enter_current_password": _("Enter your current password"),
        "incorrect_code": _(
            "The code is not right. Enter the code your app shows now."
        ),
        "incorrect_password": _("The password is not right. Enter your password."),
        "too_many_login_attempts": _(
            "You have tried to sign in too many times. Wait 5 minutes, then try again."
        ),
        "rate_limited": _(
            "You have asked too many times. Wait a minute, then try again."
        ),
        "same_as_current": _(
            "Enter an address that is different from your current one"
        ),
    }

    def render_mail(self, template_prefix, email, context, headers=None):
        # Every allauth mail signs off with the service's name and address
        # (not the Sites framework's "example.com" or the request's host).
        context = {
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
            **context,
        }
        return super().render_mail(template_prefix, email, context, headers=headers)

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.profile_for(user)
        return user

    def login(self, request, user):
        first = user.last_login is None
        super().login(request, user)
        if first:
            request.session[FIRST_SIGN_IN] = True

    def get_login_redirect_url(self, request):
        return _complete_profile_first(request, super().get_login_redirect_url(request))

    def get_signup_redirect_url(self, request):
        return _complete_profile_first(
            request, super().get_signup_redirect_url(request)
        )

    def get_email_verification_redirect_url(self, email_address):
        url = super().get_email_verification_redirect_url(email_address)
        request = getattr(self, "request", None)
        if request is None or not request.user.is_authenticated:
            return url
        return _complete_profile_first(request, url)

    def respond_user_inactive(self, request, user):
        # A closed account is told it is closed and how to ask to reopen it;
        # any other inactive account gets allauth's page.
        if getattr(user, "closed_at", None) is not None:
            return redirect("accounts:closed")
        return super().respond_user_inactive(request, user)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # allauth asks for the password again before anything touches two-factor
        # authentication, even seconds after the sign-in itself (only a
        # reauthentication counts as recent). A sign-in with a password or an
        # authenticator code proves as much as a reauthentication does, so it
        # counts for the same ACCOUNT_REAUTHENTICATION_TIMEOUT: staff sent to set
        # up their authenticator straight after signing in are not asked again,
        # and after the timeout everyone is, as before.
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = getattr(self, "request", None)
        return request is None or not signed_in_moments_ago(request)

    def is_safe_url(self, url):
        # allauth's own check calls "foo" safe (it is relative) and redirects
        # to it; `next` after sign-in is a path on this site or nothing.
        request = getattr(self, "request", None)
        if request is None:
            return False
        return safe_next_path(request, url, fallback="") == url != ""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on (OpenID Connect) for work accounts."""

    def authenticate_by_email(self, sociallogin):
        """The existing account an SSO sign-in may enter (and be linked to):
        one whose address the provider says is verified *and* that is verified
        here too. allauth alone would also enter an account whose address was
        never confirmed (wiping its password), so someone who signed up with
        another person's address could see that person's sign-ins; here such a
        match is left to the sign-up path, which links nothing."""
        for address in sociallogin.email_addresses:
            if not address.verified or not self.can_authenticate_by_email(
                sociallogin, address.email
            ):
                continue
            local = (
                EmailAddress.objects.filter(
                    email__iexact=address.email, verified=True, user__is_active=True
                )
                .select_related("user")
                .first()
            )
            if local is not None:
                return local.user, address.email
        return None

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form=form)
        services.profile_for(user)
        return user
