from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DataSubjectRequest, Disclosure

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


# What each choice on "Your data" does to bookings, funding and transactions
# (shown as hint text under the choice).
KIND_HINTS = {
    DataSubjectRequest.Kind.ERASURE: _(
        "We check it is you, then erase your account, profile, bookings' "
        "details, training record, funding requests and everything else we hold "
        "about you, and you can no longer sign in. Your future places are "
        "cancelled and offered to the next person waiting. We keep transactions "
        "(amounts and dates, with no name) because accounting law requires it, "
        "and funders' invoices for as long as the funder requires."
    ),
    DataSubjectRequest.Kind.RESTRICTION: _(
        "We keep your data but stop using it: your future places and waiting-list "
        "places are cancelled and offered to the next person, you cannot book "
        "until the restriction is lifted, and we send no offers, surveys or "
        "analytics. Funding requests and transactions are kept as they are."
    ),
    DataSubjectRequest.Kind.OBJECT_MARKETING: _(
        "At once: no more offers, partner offers, surveys or offers chosen from "
        "your bookings, by any channel. Bookings, funding and transactions are "
        "not affected, and you still get messages about your bookings."
    ),
    DataSubjectRequest.Kind.OBJECT_PROFILING: _(
        "At once: we stop choosing offers from your bookings and stop measuring "
        "whether you open our emails. Bookings, funding and transactions are not "
        "affected."
    ),
    DataSubjectRequest.Kind.OBJECT_ANALYTICS: _(
        "At once: we record nothing about your visits and stop measuring whether "
        "you open our emails. Bookings, funding and transactions are not affected."
    ),
}


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
    # Set by the check-your-answers page of an erasure request.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def options(self):
        """(bound radio option, its hint) for the template."""
        return [
            (option, KIND_HINTS.get(option.data["value"], ""))
            for option in self["kind"]
        ]


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Extend by"),
        choices=[("1", "1 month"), ("2", "2 months")],
        coerce=int,
        error_messages={"required": _("Choose how long to extend it by")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        error_messages={"required": _("Enter the reason for extending it")},
    )


class TransmissionRequestForm(forms.Form):
    recipient_name = forms.CharField(
        label=_("Name of the organisation"),
        max_length=200,
        error_messages={"required": _("Enter the name of the organisation")},
    )
    recipient_email = forms.EmailField(
        label=_("Their email address"),
        help_text=_(
            "We email them a link to your data. It works once and expires after "
            "a few days."
        ),
        max_length=254,
        error_messages={
            "required": _("Enter the organisation's email address"),
            "invalid": _(
                "Enter an email address in the correct format, like name@example.org"
            ),
        },
    )


class DisclosureAdminForm(forms.ModelForm):
    """Recording a disclosure in the back office: the people concerned or a
    report reference, and an exemption with its reason or neither."""

    class Meta:
        model = Disclosure
        fields = (
            "recipient",
            "recipient_kind",
            "lawful_basis",
            "fields",
            "purpose",
            "people",
            "report_reference",
            "withhold_exemption",
            "withhold_reason",
        )
        error_messages = {
            "recipient": {"required": _("Enter who it was shared with")},
            "recipient_kind": {"required": _("Choose the kind of recipient")},
            "lawful_basis": {"required": _("Choose the lawful basis")},
            "fields": {"required": _("Enter the data that was shared")},
            "purpose": {"required": _("Enter why it was shared")},
        }

    def clean(self):
        data = super().clean()
        people = data.get("people")
        reference = (data.get("report_reference") or "").strip()
        if not people and not reference:
            self.add_error(
                None,
                _(
                    "Choose the people it was about, or give the reference of "
                    "the aggregated report that names no one."
                ),
            )
        if people and reference:
            self.add_error(
                "report_reference",
                _("Leave this empty when the disclosure names people."),
            )
        if people and any(p.erased_at is not None for p in people):
            self.add_error("people", _("One of the people chosen has been erased."))
        exemption = data.get("withhold_exemption")
        reason = (data.get("withhold_reason") or "").strip()
        if exemption and not reason:
            self.add_error("withhold_reason", _("Give the reason it must be withheld."))
        if reason and not exemption:
            self.add_error(
                "withhold_exemption", _("Choose the exemption it is withheld under.")
            )
        return data


class CorrectionForm(forms.Form):
    """Ask us to correct something the person cannot change themselves."""

    what_is_wrong = forms.CharField(
        label=_("What is wrong?"),
        help_text=_(
            "Say where you saw it, for example on a certificate or in your "
            "training record."
        ),
        max_length=900,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say what is wrong")},
    )
    should_say = forms.CharField(
        label=_("What should it say?"),
        max_length=900,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what it should say")},
    )


class AccessForm(forms.Form):
    """Ask for access to something the person cannot find."""

    looking_for = forms.CharField(
        label=_("What are you looking for?"),
        help_text=_(
            "For example, records of training before a date, or what a provider "
            "was told about you."
        ),
        max_length=1900,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say what you are looking for")},
    )


class CorrectFieldForm(forms.Form):
    """Staff correct one field for a correction request."""

    field = forms.ChoiceField(
        label=_("Field to correct"),
        choices=(),
        error_messages={"required": _("Choose the field to correct")},
    )
    value = forms.CharField(
        label=_("What it should say"),
        help_text=_("Leave empty to clear it."),
        max_length=200,
        required=False,
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = choices


class WithholdForm(forms.Form):
    """Asking, after a disclosure was recorded, for it to be withheld from the
    people concerned (a second data-protection lead must approve)."""

    withhold_exemption = forms.ChoiceField(
        label=_("Exemption it is withheld under"),
        choices=[("", "---------"), *Disclosure.Exemption.choices],
        error_messages={"required": _("Choose the exemption it is withheld under.")},
    )
    withhold_reason = forms.CharField(
        label=_("Why it must be withheld"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": _("Give the reason it must be withheld.")},
    )
