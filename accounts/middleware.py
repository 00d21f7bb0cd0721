from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _


class StaffMFAMiddleware:
    """Staff must have two-factor authentication before the back office opens."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            request.path.startswith(("/admin/", "/staff/"))
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and not Authenticator.objects.filter(
                user=user, type=Authenticator.Type.TOTP
            ).exists()
        ):
            messages.warning(
                request,
                _("Set up two-factor authentication before you use the back office."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
