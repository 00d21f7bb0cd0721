from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from config.bounds import VERY_LONG_TEXT, bound_date, limit_text
from consent.models import PURPOSE_CHANNELS, Channel, Purpose

from . import services
from .models import Campaign


class CampaignForm(forms.ModelForm):
    organisation_kinds = forms.MultipleChoiceField(
        label=_("Kinds of workplace"),
        choices=Organisation.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Campaign
        fields = (
            "name",
            "purpose",
            "partner_name",
            "channel",
            "audience",
            "topics",
            "job_titles",
            "organisation_kinds",
            "areas",
            "survey",
            "subject",
            "body",
            "send_at",
        )
        error_messages = {
            "name": {"required": _("Enter a name for the campaign")},
            "purpose": {"required": _("Choose the purpose of the campaign")},
            "channel": {"required": _("Choose how the campaign is sent")},
            "audience": {"required": _("Choose who the campaign is for")},
            "body": {"required": _("Enter the message")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "survey" in self.fields:
            from surveys.models import Survey

            # Drafts too, so a campaign can be prepared; it is sent only once
            # its survey is open.
            self.fields["survey"].queryset = Survey.objects.exclude(
                status=Survey.Status.CLOSED
            )

    def clean(self):
        cleaned = super().clean()
        purpose, channel = cleaned.get("purpose"), cleaned.get("channel")
        if purpose and channel and channel not in PURPOSE_CHANNELS.get(purpose, ()):
            allowed = ", ".join(
                str(Channel(c).label).lower() for c in PURPOSE_CHANNELS[purpose]
            )
            self.add_error(
                "channel",
                _("%(purpose)s can only be sent by %(allowed)s.")
                % {"purpose": Purpose(purpose).label, "allowed": allowed},
            )
        if (
            purpose == Purpose.PARTNER_MARKETING
            and not cleaned.get("partner_name", "").strip()
        ):
            self.add_error("partner_name", _("Name the partner this offer is for."))
        survey = cleaned.get("survey")
        if purpose == Purpose.SURVEYS and survey is None:
            self.add_error("survey", _("Choose the survey to send."))
        elif purpose and purpose != Purpose.SURVEYS and survey is not None:
            self.add_error(
                "survey", _("Only a campaign for surveys sends a survey: clear it.")
            )
        if channel == Channel.EMAIL and not cleaned.get("subject", "").strip():
            self.add_error("subject", _("An email needs a subject."))
        for name in ("subject", "body"):
            if unknown := services.check_placeholders(cleaned.get(name) or ""):
                self.add_error(
                    name,
                    _(
                        "Unknown placeholders: %(names)s. Use {first_name} or "
                        "{recommended_course}."
                    )
                    % {"names": ", ".join("{" + u + "}" for u in unknown)},
                )
        if cleaned.get("audience") == Campaign.Audience.CHOSEN and not (
            cleaned.get("topics")
            or (cleaned.get("job_titles") or "").strip()
            or cleaned.get("organisation_kinds")
            or (cleaned.get("areas") or "").strip()
        ):
            self.add_error(
                "audience",
                _(
                    "Choose topics, job titles, kinds of workplace or areas, or "
                    "send to everyone who may be contacted."
                ),
            )
        return cleaned


# TextFields get their length here; a send date is within the next 5 years.
limit_text(CampaignForm.base_fields["job_titles"], 2000)
limit_text(CampaignForm.base_fields["areas"], 2000)
limit_text(CampaignForm.base_fields["body"], VERY_LONG_TEXT)
bound_date(CampaignForm.base_fields["send_at"], years_ahead=5)
