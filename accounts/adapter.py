from allauth.account.adapter import DefaultAccountAdapter

from config.redirects import safe_next_path

from . import services


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.profile_for(user)
        return user

    def is_safe_url(self, url):
        # allauth's own check calls "foo" safe (it is relative) and redirects
        # to it; `next` after sign-in is a path on this site or nothing.
        request = getattr(self, "request", None)
        if request is None:
            return False
        return safe_next_path(request, url, fallback="") == url != ""
