"""allauth's forms in the service's voice: GOV.UK labels and hints instead of
placeholders, and a specific message for each field left empty ("Enter your
email address"). Named in ACCOUNT_FORMS, MFA_FORMS and SOCIALACCOUNT_FORMS.

Kept out of accounts/forms.py: allauth's sign-up form is built on that
module's SignupForm (ACCOUNT_SIGNUP_FORM_CLASS), so importing allauth's forms
there would be circular."""

from allauth.account import forms as account_forms
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.totp import forms as totp_forms
from allauth.socialaccount import forms as social_forms
from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _


def password_hint() -> str:
    """What the password validators ask for, in one sentence."""
    length = next(
        (
            v.min_length
            for v in password_validation.get_default_password_validators()
            if isinstance(v, password_validation.MinimumLengthValidator)
        ),
        8,
    )
    return _(
        "Use at least %(length)s characters. Do not use a common password, only "
        "numbers, or anything like your name or email address."
    ) % {"length": length}


EMAIL = (_("Email address"), None, _("Enter your email address"))
PASSWORD = (_("Password"), None, _("Enter your password"))
CODE = (
    _("Code"),
    _("The 6-digit code from your authenticator app, or one of your recovery codes"),
    _("Enter the code"),
)


def speak_govuk(form, wording: dict) -> None:
    """Labels, hints and required messages from `wording`
    ({field: (label, hint or None, required message)}); no placeholders."""
    for name, (label, hint, required) in wording.items():
        field = form.fields.get(name)
        if field is None:
            continue
        field.label = label
        if hint is not None:
            field.help_text = hint
        if required is not None:
            field.error_messages["required"] = required
    for field in form.fields.values():
        field.widget.attrs.pop("placeholder", None)
        if isinstance(field, forms.EmailField):
            field.error_messages["invalid"] = _(
                "Enter an email address in the correct format, like name@example.com"
            )


# allauth's words for two passwords that differ, and ours.
_DIFFERENT_PASSWORDS = "You must type the same password each time."
SAME_PASSWORD = _("Enter the same password in both boxes")


class SamePasswordMessage:
    """Two different passwords are told in GOV.UK words."""

    def clean(self):
        cleaned = super().clean()
        errors = self._errors.get("password2") if self._errors else None
        if errors:
            for i, message in enumerate(errors):
                if str(message) == _DIFFERENT_PASSWORDS:
                    errors[i] = str(SAME_PASSWORD)
        return cleaned


def _new_password_wording(first, second):
    return {
        "password1": (first, password_hint(), _("Enter a password")),
        "password2": (second, None, _("Enter the password again")),
    }


class LoginForm(account_forms.LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(
            self,
            {
                "login": EMAIL,
                "password": PASSWORD,
                "remember": (_("Keep me signed in on this device"), None, None),
            },
        )


class SignupForm(SamePasswordMessage, account_forms.SignupForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(
            self,
            {
                "email": (
                    _("Email address"),
                    _("We will send you an email to confirm it."),
                    _("Enter your email address"),
                ),
                **_new_password_wording(_("Create a password"), _("Confirm password")),
            },
        )


class SocialSignupForm(social_forms.SignupForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(self, {"email": EMAIL})


class ResetPasswordForm(account_forms.ResetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(
            self,
            {
                "email": (
                    _("Email address"),
                    _("The address you use to sign in."),
                    _("Enter your email address"),
                )
            },
        )


class ResetPasswordKeyForm(SamePasswordMessage, account_forms.ResetPasswordKeyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(
            self,
            _new_password_wording(_("New password"), _("Confirm new password")),
        )


class ChangePasswordForm(SamePasswordMessage, account_forms.ChangePasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(
            self,
            {
                "oldpassword": (
                    _("Current password"),
                    None,
                    _("Enter your current password"),
                ),
                **_new_password_wording(_("New password"), _("Confirm new password")),
            },
        )


class SetPasswordForm(SamePasswordMessage, account_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(
            self, _new_password_wording(_("Create a password"), _("Confirm password"))
        )


class AddEmailForm(account_forms.AddEmailForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(
            self,
            {
                "email": (
                    _("New email address"),
                    _(
                        "We will send a link to it; it replaces your address once you follow the link."
                    ),
                    _("Enter your new email address"),
                )
            },
        )


class ReauthenticateForm(account_forms.ReauthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(self, {"password": PASSWORD})


class MfaAuthenticateForm(mfa_forms.AuthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(self, {"code": CODE})


class MfaReauthenticateForm(mfa_forms.ReauthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(self, {"code": CODE})


class ActivateTOTPForm(totp_forms.ActivateTOTPForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        speak_govuk(
            self,
            {
                "code": (
                    _("Code from your authenticator app"),
                    _("The 6-digit code it shows now, like 123456"),
                    _("Enter the code from your authenticator app"),
                )
            },
        )
