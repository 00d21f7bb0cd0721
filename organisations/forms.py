from django import forms
from django.utils.translation import gettext_lazy as _


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        job = getattr(getattr(obj, "profile", None), "job_title", "")
        return f"{obj.get_full_name() or obj.email}" + (f", {job}" if job else "")


class SingleMemberField(forms.ModelChoiceField):
    label_from_instance = MemberChoiceField.label_from_instance


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
    charge = forms.BooleanField(required=False)
    purchase_order = forms.CharField(
        label=_("Purchase-order number (optional)"),
        max_length=50,
        required=False,
    )

    def __init__(self, *args, members, organisation, paid: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = members
        if paid and organisation.pays_on_account:
            self.fields["charge"].label = _("Charge the places to %(org)s") % {
                "org": organisation.name
            }
            if organisation.purchase_order:
                self.fields["purchase_order"].help_text = _(
                    "Leave it empty to use this year's: %(po)s"
                ) % {"po": organisation.purchase_order}
        else:
            del self.fields["charge"]
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
