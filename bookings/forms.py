from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import PriorLearning


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you cancelling? (optional)"),
        help_text=_("This helps us plan future sessions."),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PriorLearningForm(forms.ModelForm):
    class Meta:
        model = PriorLearning
        fields = ("title", "provider_name", "completed_on", "cpd_hours", "notes")
        labels = {
            "title": _("Course or activity title"),
            "provider_name": _("Who provided it (optional)"),
            "cpd_hours": _("CPD hours"),
            "notes": _("Notes (optional)"),
        }
        widgets = {
            "completed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["completed_on"].input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
        self.fields["completed_on"].help_text = _("For example, 2026-03-27")
        self.fields["completed_on"].error_messages["invalid"] = _(
            "Enter the date you completed it, like 2026-03-27"
        )

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
