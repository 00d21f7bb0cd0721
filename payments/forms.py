"""Back-office forms: uploading a bank statement and deciding a waiting line.
Both are staff-only (admin pages behind permissions and two-factor sign-in)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from accounts.selectors import users_with_email
from config.admin_filters import organisation_search
from config.uploads import CheckedFileField

from .models import BankStatement, PaymentReference
from .references import PREFIX, is_valid, normalise

MAX_STATEMENT_BYTES = 5 * 1024 * 1024


class StatementUploadForm(forms.Form):
    format = forms.ChoiceField(
        label=_("Format"),
        choices=BankStatement.Format.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the format of the statement")},
    )
    file = CheckedFileField(
        label=_("Statement file"),
        extensions=("sta", "mt940", "txt", "csv"),
        max_bytes=MAX_STATEMENT_BYTES,
        help_text=_("MT940 (.sta, .mt940 or .txt) or CSV (.csv), UTF-8."),
        error_messages={"required": _("Select the statement file to upload")},
    )
    date_column = forms.CharField(
        label=_("CSV: date column"), max_length=100, required=False, initial="Date"
    )
    amount_column = forms.CharField(
        label=_("CSV: amount column (money in positive)"),
        max_length=100,
        required=False,
        initial="Amount",
    )
    description_column = forms.CharField(
        label=_("CSV: description or reference column"),
        max_length=100,
        required=False,
        initial="Description",
    )
    bank_id_column = forms.CharField(
        label=_("CSV: bank's transaction id column (optional)"),
        max_length=100,
        required=False,
    )
    account = forms.CharField(
        label=_("CSV: which of our bank accounts (optional)"),
        max_length=64,
        required=False,
        help_text=_("Use the same text each time for the same account."),
    )

    def clean(self):
        data = super().clean()
        if data.get("format") == BankStatement.Format.CSV:
            for name in ("date_column", "amount_column", "description_column"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, _("Enter the column's name as in the file."))
        return data


class ResolveLineForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("pay", _("This is a payment from a payer I name below")),
            ("ignore", _("This is not a payment to us: ignore it")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what this line is")},
    )
    reference = forms.CharField(
        label=_("Payer's payment reference"),
        max_length=40,
        required=False,
        help_text=_("For example %(example)s.") % {"example": f"{PREFIX}-4K7QM-D"},
    )
    person_email = forms.EmailField(
        label=_("or the person's email address"), required=False
    )
    organisation = forms.ModelChoiceField(
        label=_("or the organisation"),
        queryset=Organisation.objects.order_by("name"),
        required=False,
        widget=organisation_search(),
    )
    reason = forms.CharField(
        label=_("Note (required when ignoring)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") != "pay":
            if data.get("decision") == "ignore" and not data.get("reason", "").strip():
                self.add_error("reason", _("Say why this line is not ours."))
            return data
        given = [
            name
            for name in ("reference", "person_email", "organisation")
            if data.get(name)
        ]
        if len(given) != 1:
            raise forms.ValidationError(
                _("Name the payer one way: a reference, an email or an organisation.")
            )
        data["person"] = data["payer_organisation"] = None
        if data.get("reference"):
            found = normalise(data["reference"])
            if found is None or not is_valid(*found):
                self.add_error(
                    "reference",
                    _("That is not a valid reference (check the last character)."),
                )
                return data
            code = f"{PREFIX}-{found[0]}-{found[1]}"
            reference = PaymentReference.objects.filter(code=code).first()
            if reference is None:
                self.add_error("reference", _("No payer has that reference."))
                return data
            data["person"] = reference.person
            data["payer_organisation"] = reference.organisation
        elif data.get("person_email"):
            person = (
                users_with_email(data["person_email"])
                .filter(erased_at__isnull=True)
                .first()
            )
            if person is None:
                self.add_error("person_email", _("No one has that email address."))
                return data
            data["person"] = person
        else:
            data["payer_organisation"] = data["organisation"]
        return data
