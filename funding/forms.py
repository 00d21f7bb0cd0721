"""The shape of funding input. Rules that need the database or the person are
the services' (`services.cost_problem` and friends); forms show their messages
beside the field."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from config.bounds import LONG_TEXT, bound_date, limit_text
from config.uploads import CheckedFileField
from config.widgets import GovukDateField
from courses.models import Provider

from . import services
from .models import (
    Application,
    FundingRequest,
    FundingRound,
    ProgressUpdate,
)

DATE_HINT = _("For example, 14 9 2026")


def _date_field(
    label,
    *,
    required=True,
    help_text=DATE_HINT,
    past_only=False,
    years_ahead=10,
    required_message=None,
):
    field = GovukDateField(
        label=label,
        required=required,
        help_text=help_text,
        error_messages={"required": required_message} if required_message else {},
    )
    return bound_date(field, past_only=past_only, years_ahead=years_ahead)


class MoneyInput(forms.TextInput):
    """A text input with GOV.UK's "£" prefix (`govuk-input__prefix`)."""

    template_name = "forms/widgets/money_input.html"


def _money_field(label, *, required=True, help_text="", required_message=None):
    return forms.DecimalField(
        label=label,
        required=required,
        help_text=help_text,
        max_digits=10,
        decimal_places=2,
        widget=MoneyInput(
            attrs={"inputmode": "decimal", "class": "govuk-input--width-10"}
        ),
        error_messages={
            "invalid": _("Enter an amount in pounds, like 450 or 450.50"),
            "max_decimal_places": _("Enter pence as 2 digits at most, like 450.50"),
            "max_digits": _("Enter a smaller amount"),
            "max_whole_digits": _("Enter a smaller amount"),
            **({"required": required_message} if required_message else {}),
        },
    )


class UploadField(CheckedFileField):
    """A PDF, PNG or JPEG (a PDF only for invoices), checked by its content as
    well as its name (config.uploads), up to the funding file limit."""

    def __init__(self, *args, pdf_only=False, **kwargs):
        self.pdf_only = pdf_only
        super().__init__(
            *args,
            extensions=("pdf",) if pdf_only else ("pdf", "png", "jpg", "jpeg"),
            max_bytes=services.max_file_bytes,
            **kwargs,
        )


class _TaskForm:
    """A task-list page of a draft: every field may be left empty when the
    learner saves as a draft; "Save and continue" (`complete=True`) asks for
    each, with its own message."""

    REQUIRED: dict = {}

    def check_complete(self, cleaned: dict) -> None:
        if not self.complete:
            return
        for name, message in self.REQUIRED.items():
            if (
                name in self.fields
                and cleaned.get(name) in (None, "")
                and (name not in self.errors)
            ):
                self.add_error(name, message)

    def clean(self):
        cleaned = super().clean()
        self.check_complete(cleaned)
        return cleaned


class CourseForm(_TaskForm, forms.ModelForm):
    """Course, provider and cost: the first task, which also starts a draft."""

    round = forms.ModelChoiceField(
        label=_("Funding round"),
        queryset=FundingRound.objects.none(),
        required=False,
        empty_label=_("Choose a funding round"),
        help_text=_("Each round has its own rules and closing date."),
    )
    provider = forms.ModelChoiceField(
        label=_("Course provider"),
        queryset=Provider.objects.order_by("name"),
        required=False,
        empty_label=_("Not listed: I will type the name"),
        help_text=_("Choose a provider we know, or type the name below."),
    )
    provider_name = forms.CharField(
        label=_("Provider not listed, for example a university"),
        max_length=200,
        required=False,
    )
    cost = _money_field(
        _("Cost in pounds"),
        required=False,
        help_text=_("The course fee you are asking us to fund."),
    )
    start_date = _date_field(_("Start date"), required=False, years_ahead=5)

    REQUIRED = {
        "round": _("Choose the funding round you are applying to"),
        "cost": _("Enter the cost of the course"),
        "start_date": _("Enter the date the course starts"),
    }

    class Meta:
        model = FundingRequest
        fields = (
            "round",
            "course_name",
            "provider",
            "provider_name",
            "cost",
            "start_date",
        )
        labels = {"course_name": _("Course name")}
        error_messages = {
            "course_name": {"required": _("Enter the name of the course")},
        }

    def __init__(self, *args, person, complete=False, **kwargs):
        self.person = person
        self.complete = complete
        super().__init__(*args, **kwargs)
        from . import selectors

        rounds = selectors.rounds_open()
        current = self.instance.round_id
        if current:
            rounds = FundingRound.objects.filter(pk=current) | rounds
        self.fields["round"].queryset = rounds.select_related("stream").distinct()
        self.fields["round"].label_from_instance = lambda r: (
            f"{r.stream.name}: {r.name} (closes {r.closes_on:%-d %B %Y})"
        )
        if not self.fields["round"].queryset.exists():
            del self.fields["round"]

    def clean_cost(self):
        cost = self.cleaned_data["cost"]
        problem = services.cost_problem(cost)
        if problem:
            raise forms.ValidationError(problem)
        return cost

    def clean_start_date(self):
        day = self.cleaned_data["start_date"]
        problem = services.start_date_problem(day)
        if problem:
            raise forms.ValidationError(problem)
        return day

    def clean(self):
        cleaned = super().clean()
        if (
            self.complete
            and not cleaned.get("provider")
            and not (cleaned.get("provider_name") or "").strip()
            and "provider_name" not in self.errors
        ):
            self.add_error(
                "provider_name",
                _("Choose the course provider, or type its name if it is not listed"),
            )
        funding_round = cleaned.get("round")
        if funding_round is not None:
            problem = services.eligibility_problem(
                self.person, funding_round
            ) or services.allowance_problem(
                self.person,
                funding_round,
                cleaned.get("cost"),
                cleaned.get("start_date"),
                exclude_pk=self.instance.pk,
            )
            if problem:
                self.add_error("round", problem)
        return cleaned

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.setdefault("round", None)
        if data.get("provider"):
            data["provider_name"] = data["provider"].name
        return data


class ReasonForm(_TaskForm, forms.ModelForm):
    REQUIRED = {"reason": _("Enter how the course will help you in your role")}

    class Meta:
        model = FundingRequest
        fields = ("reason",)
        labels = {"reason": _("How will the course help you in your role?")}
        help_texts = {
            "reason": _(
                "For example, what you will be able to do afterwards and how it "
                "helps the people you care for. Your manager and the funding "
                "officers will read this."
            )
        }
        widgets = {"reason": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, complete=False, **kwargs):
        self.complete = complete
        super().__init__(*args, **kwargs)


class SupportingDocumentForm(forms.Form):
    file = UploadField(
        label=_("Upload a supporting document"),
        help_text=_(
            "A PDF, PNG or JPEG, such as the course offer letter or fee schedule."
        ),
        error_messages={"required": _("Select a file to upload")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mb = services.max_file_bytes() // (1024 * 1024)
        self.fields[
            "file"
        ].help_text = f"{self.fields['file'].help_text} Up to {mb} MB."


class ManagerForm(_TaskForm, forms.Form):
    """Your manager: both answers are needed to continue (and always once the
    request is with a manager); a draft may be saved with either."""

    manager_name = forms.CharField(
        label=_("Your manager's name"),
        max_length=200,
        required=False,
    )
    manager_email = forms.EmailField(
        label=_("Your manager's work email"),
        required=False,
        help_text=_("We will email them a link to support your request."),
        error_messages={
            "invalid": _("Enter an email address like name@practice.nhs.uk"),
        },
    )

    REQUIRED = {
        "manager_name": _("Enter your manager's name"),
        "manager_email": _("Enter your manager's work email"),
    }

    def __init__(self, *args, person, complete=True, **kwargs):
        self.person = person
        self.complete = complete
        super().__init__(*args, **kwargs)

    def clean_manager_email(self):
        email = self.cleaned_data["manager_email"]
        problem = services.manager_email_problem(self.person, email)
        if problem:
            raise forms.ValidationError(problem)
        return email


class ManagerSupportForm(forms.Form):
    supported = forms.TypedChoiceField(
        label=_("Do you support this request?"),
        choices=[("yes", _("Yes, I support it")), ("no", _("No, I do not support it"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether you support the request")},
    )
    statement = forms.CharField(
        label=_("Your statement"),
        help_text=_(
            "How the course will help their role and your service, or why you "
            "do not support it. The learner and funding officers will see it."
        ),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Enter your statement")},
    )
    letter = UploadField(
        label=_("A letter of support (optional)"),
        help_text=_("A PDF, PNG or JPEG."),
        required=False,
    )


class ProgressForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("How is the course going?"),
        choices=ProgressUpdate.Stage.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the course is going")},
    )
    note = forms.CharField(
        label=_("Note"),
        help_text=_("Needed if the course is in progress or you have withdrawn."),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("stage") in ("in_progress", "withdrawn")
            and not (cleaned.get("note") or "").strip()
        ):
            self.add_error("note", _("Add a note about how the course is going"))
        return cleaned


class ApplicationForm(forms.ModelForm):
    """An application of any type: the questions are the type's, as staff
    worded them in admin; the manager's details only if the type asks."""

    manager_email = forms.EmailField(
        label=_("Your manager's work email"),
        max_length=254,
        error_messages={
            "invalid": _("Enter an email address like name@practice.nhs.uk"),
            "required": _("Enter your manager's work email"),
        },
    )

    class Meta:
        model = Application
        fields = (
            "programme",
            "employer_name",
            "manager_name",
            "manager_email",
            "statement",
        )
        labels = {
            "programme": _("What are you applying for?"),
            "employer_name": _("Your employer or workplace"),
            "manager_name": _("Your manager's name"),
            "statement": _("Personal statement"),
        }
        widgets = {"statement": forms.Textarea(attrs={"rows": 8})}
        error_messages = {
            "programme": {"required": _("Enter what you are applying for")},
            "employer_name": {"required": _("Enter your employer or workplace")},
            "manager_name": {"required": _("Enter your manager's name")},
            "statement": {"required": _("Enter your statement")},
        }

    def __init__(self, *args, person, application_type=None, **kwargs):
        self.person = person
        super().__init__(*args, **kwargs)
        kind = application_type
        if kind is None:
            return
        self.fields["programme"].label = kind.subject_label
        self.fields["programme"].help_text = kind.subject_hint
        self.fields["statement"].label = kind.statement_label
        self.fields["statement"].help_text = kind.statement_hint
        if kind.needs_manager:
            self.fields["manager_name"].required = True
        else:
            del self.fields["manager_name"]
            del self.fields["manager_email"]

    def clean_manager_email(self):
        email = self.cleaned_data["manager_email"]
        problem = services.manager_email_problem(self.person, email)
        if problem:
            raise forms.ValidationError(problem)
        return email


# The columns are TextFields: the form gives them their length (a max_length set
# in __init__ only changes the widget, it is never checked).
limit_text(ReasonForm.base_fields["reason"], LONG_TEXT)
limit_text(ApplicationForm.base_fields["statement"], 10_000)


# --- officers -----------------------------------------------------------------


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status"))]
        + [c for c in FundingRequest.Status.choices if c[0] != "draft"],
    )
    # Both typed, not chosen from a list: a list of every provider name typed
    # on a request (a DISTINCT over them all), and of every workplace with a
    # request, grew with the requests.
    provider = forms.CharField(
        label=_("Provider"),
        required=False,
        max_length=100,
        help_text=_("Its name, or part of it"),
    )
    workplace = forms.CharField(
        label=_("Workplace"),
        required=False,
        max_length=100,
        help_text=_("Its name, or part of it"),
    )
    round = forms.ChoiceField(label=_("Funding round"), required=False, choices=[])
    submitted_from = _date_field(_("Submitted from"), required=False, help_text="")
    submitted_to = _date_field(_("Submitted to"), required=False, help_text="")

    def __init__(self, *args, rounds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["round"].choices = [("", _("Any round"))] + [
            (str(r.pk), str(r)) for r in rounds
        ]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("approve", _("Approve")),
            ("decline", _("Decline")),
            ("more_info", _("Ask the learner for more information")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a decision")},
    )
    amount = _money_field(
        _("Amount approved in pounds"),
        required=False,
        help_text=_("May be less than asked for."),
    )
    note = forms.CharField(
        label=_("Conditions, reason or the information you need"),
        help_text=_(
            "Shown to the learner. Needed to decline or to ask for information."
        ),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision == "approve" and cleaned.get("amount") is None:
            self.add_error("amount", _("Enter the amount approved"))
        if (
            decision in ("decline", "more_info")
            and not (cleaned.get("note") or "").strip()
        ):
            self.add_error(
                "note",
                _("Give the reason, which the learner will see")
                if decision == "decline"
                else _("Say what information you need"),
            )
        return cleaned


class InvoiceForm(forms.Form):
    supplier = forms.CharField(
        label=_("Supplier"),
        max_length=200,
        error_messages={"required": _("Enter the name of the supplier")},
    )
    number = forms.CharField(
        label=_("Invoice number"),
        max_length=100,
        error_messages={"required": _("Enter the invoice number")},
    )
    amount = _money_field(
        _("Amount in pounds"), required_message=_("Enter the amount of the invoice")
    )
    invoice_date = _date_field(
        _("Invoice date"),
        years_ahead=1,
        required_message=_("Enter the date of the invoice"),
    )
    file = UploadField(
        label=_("Invoice (PDF)"),
        pdf_only=True,
        error_messages={"required": _("Select the invoice to upload")},
    )

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError(_("Enter an amount more than £0"))
        return amount


class PaymentForm(forms.Form):
    amount = _money_field(
        _("Amount paid in pounds"), required_message=_("Enter the amount paid")
    )
    paid_on = _date_field(
        _("Date paid"),
        past_only=True,
        required_message=_("Enter the date it was paid"),
    )
    reference = forms.CharField(
        label=_("Payment reference (optional)"), max_length=100, required=False
    )
    invoice = forms.ModelChoiceField(
        label=_("Invoice (optional)"), queryset=None, required=False
    )

    def __init__(self, *args, funding_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = funding_request.invoices.all()

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= Decimal("0"):
            raise forms.ValidationError(_("Enter an amount more than £0"))
        return amount


class ApplicationDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("review", _("Mark as being reviewed")),
            ("offer", _("Offer a place")),
            ("decline", _("Decline")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a decision")},
    )
    note = forms.CharField(
        label=_("Note to the applicant"),
        help_text=_("Needed to decline."),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
