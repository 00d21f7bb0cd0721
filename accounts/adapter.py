from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.shortcuts import redirect

from config.redirects import safe_next_path

from . import services


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.profile_for(user)
        return user

    def respond_user_inactive(self, request, user):
        # A closed account is told it is closed and how to ask to reopen it;
        # any other inactive account gets allauth's page.
        if getattr(user, "closed_at", None) is not None:
            return redirect("accounts:closed")
        return super().respond_user_inactive(request, user)

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
