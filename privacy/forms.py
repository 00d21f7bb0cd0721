from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DataSubjectRequest

LEARNER_KINDS = [
    (DataSubjectRequest.Kind.ERASURE, _("Erase my data")),
    (DataSubjectRequest.Kind.RESTRICTION, _("Restrict how my data is used")),
    (
        DataSubjectRequest.Kind.OBJECT_MARKETING,
        _("Object to direct marketing (takes effect at once)"),
    ),
    (DataSubjectRequest.Kind.OBJECT_PROFILING, _("Object to profiling")),
    (DataSubjectRequest.Kind.OBJECT_ANALYTICS, _("Object to analytics")),
]


class RequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What would you like us to do?"),
        choices=LEARNER_KINDS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what you would like us to do")},
    )
    details = forms.CharField(
        label=_("Anything we should know (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Extend by"), choices=[("1", "1 month"), ("2", "2 months")], coerce=int
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)
