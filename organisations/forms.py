from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from config.admin_filters import organisation_search
from config.bounds import bound_date


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        job = getattr(getattr(obj, "profile", None), "job_title", "")
        return f"{obj.get_full_name() or obj.email}" + (f", {job}" if job else "")


class SingleMemberField(forms.ModelChoiceField):
    label_from_instance = MemberChoiceField.label_from_instance


class MemberSearchForm(forms.Form):
    """Find members on an organisation's pages by part of their name or their
    whole email address (organisations.selectors.members_matching)."""

    member = forms.CharField(
        label=_("Find a member"),
        help_text=_("Part of their name, or their whole email address"),
        max_length=100,
        required=False,
    )


class BookMembersForm(forms.Form):
    people = MemberChoiceField(
        label=_("Who do you want to book?"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Places go in the order listed. When the session is full, the rest "
            "join the waiting list."
        ),
        error_messages={"required": _("Choose at least one person to book")},
    )
    purchase_order = forms.CharField(
        label=_("Purchase-order number (optional)"),
        max_length=50,
        required=False,
    )

    def __init__(self, *args, members, organisation, paid: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = members
        if paid and organisation.pays_on_account:
            # Paid places booked by the organisation go on its account.
            if organisation.purchase_order:
                self.fields["purchase_order"].help_text = _(
                    "Leave it empty to use this year's: %(po)s"
                ) % {"po": organisation.purchase_order}
        else:
            del self.fields["purchase_order"]


class SwapForm(forms.Form):
    person = SingleMemberField(
        label=_("Who should have the place instead?"),
        queryset=None,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": _("Choose who should have the place")},
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = members


class ApprovalForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Do you approve this booking?"),
        choices=[
            ("approve", _("Yes, approve it")),
            ("decline", _("No, decline it")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether you approve the booking")},
    )
    reason = forms.CharField(
        label=_("Reason (optional, sent to the person if you decline)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MembershipDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", _("Confirm")), ("remove", _("Remove"))],
        error_messages={"required": _("Choose whether to confirm or remove")},
    )


# --- back office: the organisation's account ---------------------------------


class RaiseInvoicesForm(forms.Form):
    period_start = bound_date(
        forms.DateField(
            label=_("Period from"),
            help_text=_("For example 1/4/2026. Charges from this day are invoiced."),
            error_messages={
                "required": _("Enter the first day of the period"),
                "invalid": _("Enter the first day as a date, such as 1/4/2026"),
            },
        ),
        past_only=True,
    )
    period_end = bound_date(
        forms.DateField(
            label=_("Period to"),
            help_text=_("The last day, today at the latest."),
            error_messages={
                "required": _("Enter the last day of the period"),
                "invalid": _("Enter the last day as a date, such as 30/4/2026"),
            },
        ),
        past_only=True,
    )
    # One organisation searched for (the admin's search box), not a list of
    # every one; the search box of a multiple choice has no label.
    organisation = forms.ModelChoiceField(
        label=_("Organisation (optional)"),
        queryset=Organisation.objects.none(),
        required=False,
        help_text=_("Leave empty to invoice every organisation with charges."),
        widget=organisation_search(),
    )
    vat_rate = forms.DecimalField(
        label=_("VAT rate (%)"),
        initial=Decimal("0"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        help_text=_("Training is normally VAT-free: leave it at 0."),
        error_messages={"required": _("Enter the VAT rate, or 0 for none")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error(
                "period_end",
                _("The last day must be the same as or after the first day"),
            )
        return cleaned


class RecordPaymentForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        error_messages={"required": _("Choose the organisation that paid")},
        widget=organisation_search(),
    )
    amount = forms.DecimalField(
        label=_("Amount received (£)"),
        min_value=Decimal("0.01"),
        max_value=Decimal("99999999.99"),
        max_digits=10,
        decimal_places=2,
        error_messages={"required": _("Enter the amount received")},
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        help_text=_("The remittance or bank reference, and the invoice it pays."),
        error_messages={"required": _("Enter the payment's reference")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")
