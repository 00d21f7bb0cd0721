from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.bounds import LONG_TEXT, bound_date, limit_text
from config.uploads import MB, CheckedFileField
from config.widgets import GovukDateField

from .models import PriorLearning

# Training evidence: a certificate or letter as a document or a photo. The
# content must be what the name says (config.uploads).
EVIDENCE_EXTENSIONS = ("pdf", "jpg", "jpeg", "png", "docx", "doc", "odt")
EVIDENCE_MAX_BYTES = 5 * MB


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you cancelling? (optional)"),
        help_text=_("This helps us plan future sessions."),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PriorLearningForm(forms.ModelForm):
    evidence = CheckedFileField(
        extensions=EVIDENCE_EXTENSIONS,
        max_bytes=EVIDENCE_MAX_BYTES,
        label=_("Evidence, such as a certificate (optional)"),
        help_text=_(
            "A PDF, a Word or OpenDocument file, or a photo (JPG or PNG), up to "
            "5 MB. Only you can see it."
        ),
        required=False,
    )

    class Meta:
        model = PriorLearning
        field_classes = {"completed_on": GovukDateField}
        fields = (
            "title",
            "provider_name",
            "completed_on",
            "cpd_hours",
            "notes",
            "evidence",
        )
        labels = {
            "title": _("Course or activity title"),
            "provider_name": _("Who provided it (optional)"),
            "cpd_hours": _("CPD hours"),
            "completed_on": _("Date completed"),
            "notes": _("Notes (optional)"),
        }
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {
            "title": {"required": _("Enter the title of the course or activity")},
            "completed_on": {
                "required": _("Enter the date you completed the training")
            },
            "cpd_hours": {"required": _("Enter the number of CPD hours")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["completed_on"].help_text = _("For example, 27 3 2026")

    def clean_completed_on(self):
        day = self.cleaned_data["completed_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date must be today or in the past"))
        return day

    def clean_cpd_hours(self):
        hours = self.cleaned_data["cpd_hours"]
        if hours <= 0 or hours > 1000:
            raise forms.ValidationError(_("CPD hours must be between 0.1 and 1000"))
        return hours


# Training already done: a date between 1900 and today; notes of a sane length.
bound_date(PriorLearningForm.base_fields["completed_on"], past_only=True)
limit_text(PriorLearningForm.base_fields["notes"], LONG_TEXT)


class EvaluationForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How useful was the session?"),
        help_text=_("1 is not useful, 5 is very useful."),
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5")},
    )
    comments = forms.CharField(
        label=_("Comments (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason, told to everyone booked"), max_length=300, required=False
    )
    confirm = forms.BooleanField(
        label=_("I understand everyone booked or waiting will be told and refunded"),
        error_messages={"required": _("Confirm that you want to cancel the session")},
    )


class EmailAttendeesForm(forms.Form):
    audience = forms.ChoiceField(
        label=_("Who to email"),
        choices=[
            ("attended", _("Everyone who attended")),
            ("not_attended", _("Everyone booked who did not attend")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who to email")},
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        error_messages={"required": _("Enter a subject for the email")},
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Enter the message to send")},
    )
