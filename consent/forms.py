from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PURPOSE_CHANNELS, Channel, ConsentRecord, Purpose

EXPLANATIONS = {
    Purpose.MARKETING: _(
        "News of courses, events and offers from us. We never sell your details."
    ),
    Purpose.PARTNER_MARKETING: _(
        "Offers from organisations we work with, such as local training partners, "
        "by email or post. We send them ourselves: we do not give partners your "
        "details."
    ),
    Purpose.SURVEYS: _(
        "Short surveys by email about training and this service. Staff see your "
        "answers only as totals; you can see, download or erase them."
    ),
    Purpose.PROFILING: _(
        "Using the courses you have booked to choose which offers to show or send "
        "you. Without it, any offers you agree to are the same for everyone."
    ),
    Purpose.ANALYTICS: _(
        "Counting how pages are used so that we can improve the service. "
        "This is the same choice as on the cookies page."
    ),
}

SIGNUP_CHOICES = [
    (Purpose.MARKETING, Channel.EMAIL, _("Email me offers and news from us")),
    (Purpose.MARKETING, Channel.SMS, _("Text me offers and news from us")),
    (Purpose.MARKETING, Channel.PHONE, _("Phone me with offers and news from us")),
    (Purpose.MARKETING, Channel.POST, _("Post me offers and news from us")),
    (
        Purpose.PARTNER_MARKETING,
        Channel.POST,
        _("Post me offers from partner organisations"),
    ),
]


def field_name(purpose: str, channel: str) -> str:
    return f"{purpose}__{channel}"


class PreferencesForm(forms.Form):
    """One unticked-by-default checkbox per purpose and channel we offer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for purpose, channels in PURPOSE_CHANNELS.items():
            for channel in channels:
                label = (
                    Purpose(purpose).label
                    if channel == Channel.WEB
                    else f"{Purpose(purpose).label}: {Channel(channel).label}"
                )
                self.fields[field_name(purpose, channel)] = forms.BooleanField(
                    label=label, required=False
                )

    def groups(self):
        for purpose, channels in PURPOSE_CHANNELS.items():
            yield {
                "purpose": Purpose(purpose),
                "explanation": EXPLANATIONS[purpose],
                "fields": [self[field_name(purpose, c)] for c in channels],
            }

    def wanted(self) -> dict[tuple[str, str], bool]:
        return {
            (p, c): bool(self.cleaned_data[field_name(p, c)])
            for p, channels in PURPOSE_CHANNELS.items()
            for c in channels
        }


class StaffConsentForm(forms.ModelForm):
    """Staff record a choice made by phone or letter; the note is mandatory."""

    note = forms.CharField(
        label=_("How did the person tell you?"),
        help_text=_("For example: phone call on 3 March, letter dated 1 March."),
        max_length=500,
        error_messages={"required": _("Enter how the person told you")},
    )

    class Meta:
        model = ConsentRecord
        fields = ("person", "purpose", "channel", "granted", "note")
        error_messages = {
            "person": {"required": _("Choose the person")},
            "purpose": {"required": _("Choose the purpose")},
            "channel": {"required": _("Choose the channel")},
        }

    def clean(self):
        cleaned = super().clean()
        purpose, channel = cleaned.get("purpose"), cleaned.get("channel")
        if purpose and channel and channel not in PURPOSE_CHANNELS[purpose]:
            self.add_error("channel", _("That purpose cannot use that channel."))
        return cleaned
