from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _


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

    @staticmethod
    def _needs_mfa(path: str, user) -> bool:
        # A superuser holds every permission, staff flag or not, so two-factor
        # gates them everywhere a staff member is gated.
        if path.startswith("/admin/"):
            return user.is_staff or user.is_superuser
        if path.startswith("/staff/"):
            # Anyone holding a back-office role or permission, staff flag or not.
            return (
                user.is_staff
                or user.is_superuser
                or user.groups.exists()
                or user.user_permissions.exists()
            )
        return False
