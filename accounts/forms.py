from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.numbers import parse_int

from .models import PREFER_NOT_TO_SAY, Organisation, Profile

# Up to this many workplaces are offered in a drop-down. Beyond, the person
# finds theirs by part of its name: a list of thousands of schools or
# practices is slow to send and hard to use with a keyboard or screen reader.
WORKPLACES_LISTED = 200
# How many of the workplaces found are offered to choose from.
WORKPLACES_FOUND = 20


# The value of "None of these": not "", so that a form sent back with no
# button ticked comes back with none ticked, rather than this one.
NONE_OF_THESE = "none"


def _same_search(text: str) -> str:
    return " ".join(text.split()).casefold()


class _WorkplaceField(forms.ModelChoiceField):
    """The workplace as radio buttons: "None of these" is no workplace."""

    def to_python(self, value):
        if value == NONE_OF_THESE:
            return None
        return super().to_python(value)


class WorkplaceChoice:
    """For a form with an `organisation` field: a drop-down of every workplace
    while there are at most `WORKPLACES_LISTED`; beyond, a search box ("Find
    your workplace") and radio buttons for the workplace already chosen (or
    suggested) and the first `WORKPLACES_FOUND` whose names hold the words
    typed.

    Without JavaScript the search is answered when the form is sent. A new
    search (not the one whose results the page showed: a hidden field says
    which, compared ignoring case and spacing) decides, whatever radio button
    was ticked beforehand (the current or suggested workplace): a name typed
    in full ticks that workplace and chooses it; otherwise the form comes
    back with those found, or says none was found. Once the results are
    shown, the radio button ticked is the answer, and none ticked asks for
    one ("None of these" is one). Call `offer_workplaces()` at the end of
    `__init__` and `choose_workplace()` first in `clean()`."""

    searching = False
    workplaces_found: list[Organisation] = []
    new_search = False
    exact_match: Organisation | None = None
    chose_none = False
    search_label = _("Find your workplace")
    # Said when nothing was found; forms that can name a new workplace say so.
    none_found = _(
        "No workplace has “%(typed)s” in its name. Check the spelling, or "
        "type part of its name"
    )

    def not_both(self) -> str:
        if self.searching:
            return _("Choose a workplace found or name a new one, not both")
        return _("Choose a workplace from the list or name a new one, not both")

    def offer_workplaces(self) -> None:
        from . import selectors

        field = self.fields["organisation"]
        listed = list(
            Organisation.objects.order_by("name", "pk").only("pk", "name")[
                : WORKPLACES_LISTED + 1
            ]
        )
        if len(listed) <= WORKPLACES_LISTED:
            # The rows read here are the options (no second query).
            field.widget.choices = [
                ("", field.empty_label),
                *((o.pk, o.name) for o in listed),
            ]
            return
        self.searching = True
        search = forms.CharField(
            label=self.search_label,
            max_length=100,
            required=False,
            help_text=_(
                "Type its name, or part of it, then choose it from those found."
            ),
        )
        search.widget.attrs["autocomplete"] = "organization"
        # Which search the radio buttons below are the results of: a plain
        # Field, which refuses nothing (it is ours, sent back as it was).
        shown = forms.Field(required=False, widget=forms.HiddenInput)
        field = _WorkplaceField(
            queryset=field.queryset,
            required=field.required,
            label=_("Your workplace"),
            error_messages=field.error_messages,
        )
        fields = {}
        for name, f in self.fields.items():
            if name == "organisation":
                fields["workplace_search"] = search
                fields["workplace_shown"] = shown
                f = field
            fields[name] = f
        self.fields = fields

        org_key = self.add_prefix("organisation")
        typed = self._typed_search()
        if self.is_bound:
            before = self.data.get(self.add_prefix("workplace_shown"))
            before = before if isinstance(before, str) else ""
            self.new_search = bool(typed) and _same_search(typed) != _same_search(
                before
            )
            self.chose_none = self.data.get(org_key) == NONE_OF_THESE
            if self.new_search:
                self.exact_match = selectors.organisation_named(typed)
        offered = {}
        if self.exact_match is not None:
            offered[self.exact_match.pk] = self.exact_match.name
        for value in (
            self.data.get(org_key) if self.is_bound else None,
            self.get_initial_for_field(field, "organisation"),
        ):
            raw = getattr(value, "pk", value)
            pk = raw if isinstance(raw, int) else parse_int(raw, minimum=1)
            if pk is not None and pk not in offered:
                chosen = Organisation.objects.filter(pk=pk).only("name").first()
                if chosen is not None:
                    offered[pk] = chosen.name
        self.workplaces_found = []
        if typed:
            self.workplaces_found = selectors.organisations_matching(
                typed, limit=WORKPLACES_FOUND + 1
            )
        if len(self.workplaces_found) > WORKPLACES_FOUND:
            del self.workplaces_found[WORKPLACES_FOUND:]
            field.help_text = _(
                "These are the first %(n)s found. Type more of its name to find others."
            ) % {"n": WORKPLACES_FOUND}
        for o in self.workplaces_found:
            offered.setdefault(o.pk, o.name)
        if offered:
            field.widget = forms.RadioSelect(
                choices=[*offered.items(), (NONE_OF_THESE, _("None of these"))]
            )
        else:
            field.widget = forms.HiddenInput()
        if self.is_bound:
            # The page this form is shown on shows the results of `typed`,
            # the workplace named in full ticked.
            self.data = self.data.copy()
            self.data[self.add_prefix("workplace_shown")] = typed if offered else ""
            if self.exact_match is not None:
                self.data[org_key] = str(self.exact_match.pk)

    def _typed_search(self) -> str:
        if not self.is_bound:
            return ""
        typed = self.data.get(self.add_prefix("workplace_search")) or ""
        if not isinstance(typed, str) or "\x00" in typed or len(typed) > 100:
            return ""  # the field refuses it, with its own message
        return " ".join(typed.split())

    def choose_workplace(self, cleaned: dict) -> None:
        """A new search decides (a name in full has been ticked; otherwise the
        form offers what it found); once its results are shown, the radio
        button ticked does."""
        # Neither is one of the form's answers: views pass the cleaned data on
        # to the services.
        typed = " ".join((cleaned.pop("workplace_search", "") or "").split())
        cleaned.pop("workplace_shown", None)
        if not self.searching:
            return
        hidden = isinstance(self.fields["organisation"].widget, forms.HiddenInput)
        if hidden and "organisation" in self._errors:
            # A workplace sent that is no longer listed (merged or removed
            # since the page was sent): said beside the search, which is shown.
            del self._errors["organisation"]
            self.add_error(
                "workplace_search",
                _("That workplace is no longer listed. Find it again"),
            )
            return
        if not typed or "organisation" in self._errors:
            return
        if self.new_search and self.exact_match is None:
            cleaned.pop("organisation", None)
            if self.workplaces_found:
                self.add_error(
                    "workplace_search",
                    _("Choose your workplace from those found, or search again"),
                )
            else:
                self.add_error("workplace_search", self.none_found % {"typed": typed})
        elif (
            not self.new_search
            and cleaned.get("organisation") is None
            and not self.chose_none
            and not (cleaned.get("new_organisation_name") or "").strip()
        ):
            self.add_error(
                "organisation",
                _("Choose your workplace from those found, or None of these"),
            )


class SignupForm(WorkplaceChoice, forms.Form):
    """Extra fields on allauth's sign-up form: name, and marketing choices that
    are all unticked unless the person ticks them."""

    search_label = _("Find your workplace (optional)")
    none_found = _(
        "No workplace has “%(typed)s” in its name. Check the spelling, type "
        "part of its name, or leave this empty and add your workplace later"
    )

    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        error_messages={"required": _("Enter your first name")},
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        error_messages={"required": _("Enter your last name")},
    )
    organisation = forms.ModelChoiceField(
        label=_("Workplace (optional)"),
        queryset=Organisation.objects.all(),
        required=False,
        empty_label=_("Choose your workplace"),
        help_text=_(
            "The school, practice or service you work for. It confirms that you "
            "work there before it books or pays for you. You can add or change "
            "it later."
        ),
    )

    field_order = [
        "first_name",
        "last_name",
        "email",
        "password1",
        "password2",
        "workplace_search",
        "organisation",
        "marketing__email",
        "marketing__sms",
        "marketing__phone",
        "marketing__post",
        "partner_marketing__post",
    ]

    def __init__(self, *args, **kwargs):
        from consent.forms import SIGNUP_CHOICES, field_name

        super().__init__(*args, **kwargs)
        for purpose, channel, label in SIGNUP_CHOICES:
            self.fields[field_name(purpose, channel)] = forms.BooleanField(
                label=label, required=False, initial=False
            )
        self.offer_workplaces()

    def clean(self):
        cleaned = super().clean()
        self.choose_workplace(cleaned)
        return cleaned

    def marketing_fields(self) -> list:
        """The marketing choices, shown together under one legend."""
        return [f for f in self.visible_fields() if "marketing__" in f.name]

    def account_fields(self) -> list:
        """Every other visible field, in field_order."""
        return [f for f in self.visible_fields() if "marketing__" not in f.name]

    def signup(self, request, user) -> None:
        from consent import selectors as consent_selectors
        from consent import services as consent_services
        from consent.forms import SIGNUP_CHOICES, field_name

        from . import services

        user.first_name = self.cleaned_data["first_name"].strip()
        user.last_name = self.cleaned_data["last_name"].strip()
        user.save(update_fields=["first_name", "last_name"])
        if self.cleaned_data.get("organisation"):
            services.set_workplace(user, self.cleaned_data["organisation"])
        consent_services.record_signup_choices(
            user,
            {
                (p, c): bool(self.cleaned_data.get(field_name(p, c)))
                for p, c, _label in SIGNUP_CHOICES
            },
        )
        policy = consent_selectors.policy_current("privacy")
        if policy:
            consent_services.mark_policy_seen(user, policy)


class ProfileForm(WorkplaceChoice, forms.Form):
    none_found = _(
        "No workplace has “%(typed)s” in its name. Check the spelling, or "
        "name it below as a new workplace"
    )

    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        error_messages={"required": _("Enter your first name")},
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        error_messages={"required": _("Enter your last name")},
    )
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    organisation = forms.ModelChoiceField(
        label=_("Workplace"),
        queryset=Organisation.objects.all(),
        required=False,
        empty_label=_("Choose your workplace"),
        help_text=_("The school, practice or service you work for."),
    )
    new_organisation_name = forms.CharField(
        label=_("Or name a workplace that is not in the list"),
        max_length=200,
        required=False,
    )
    phone = forms.RegexField(
        label=_("Phone number"),
        regex=r"^\+?[0-9 ()-]{7,20}$",
        required=False,
        max_length=30,
        error_messages={
            "invalid": _("Enter a phone number, like 01632 960 001 or +44 7700 900 982")
        },
    )
    address_line_1 = forms.CharField(
        label=_("Address line 1"), max_length=120, required=False
    )
    address_line_2 = forms.CharField(
        label=_("Address line 2 (optional)"), max_length=120, required=False
    )
    town = forms.CharField(label=_("Town or city"), max_length=80, required=False)
    postcode = forms.RegexField(
        label=_("Postcode"),
        regex=r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$",
        required=False,
        max_length=10,
        error_messages={"invalid": _("Enter a full UK postcode, like AA1 1AA")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["job_title"].widget.attrs["autocomplete"] = "organization-title"
        self.fields["phone"].widget.attrs.update(autocomplete="tel", type="tel")
        self.fields["address_line_1"].widget.attrs["autocomplete"] = "address-line1"
        self.fields["address_line_2"].widget.attrs["autocomplete"] = "address-line2"
        self.fields["town"].widget.attrs["autocomplete"] = "address-level2"
        self.fields["postcode"].widget.attrs["autocomplete"] = "postal-code"
        self.offer_workplaces()
        if self.searching:
            self.fields["new_organisation_name"].label = _(
                "Or name a workplace that is not found"
            )

    def clean_postcode(self) -> str:
        return self.cleaned_data["postcode"].upper().strip()

    def clean(self):
        cleaned = super().clean()
        self.choose_workplace(cleaned)
        if (
            cleaned.get("organisation")
            and cleaned.get("new_organisation_name", "").strip()
        ):
            self.add_error(
                "new_organisation_name",
                self.not_both(),
            )
        return cleaned


class CompleteProfileForm(WorkplaceChoice, forms.Form):
    """The "Complete your profile" step: the workplace (from the list or named)
    and the job title, which paid places and funding rely on."""

    none_found = ProfileForm.none_found

    organisation = forms.ModelChoiceField(
        label=_("Workplace"),
        queryset=Organisation.objects.all(),
        required=False,
        empty_label=_("Choose your workplace"),
        help_text=_(
            "The school, practice or service you work for. It confirms that you "
            "work there before it books or pays for you."
        ),
    )
    new_organisation_name = forms.CharField(
        label=_("Or name a workplace that is not in the list"),
        max_length=200,
        required=False,
    )
    job_title = forms.CharField(
        label=_("Job title"),
        max_length=120,
        help_text=_("For example, practice nurse or teaching assistant"),
        error_messages={"required": _("Enter your job title")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["job_title"].widget.attrs["autocomplete"] = "organization-title"
        self.fields["new_organisation_name"].widget.attrs["autocomplete"] = (
            "organization"
        )
        self.offer_workplaces()
        if self.searching:
            self.fields["new_organisation_name"].label = _(
                "Or name a workplace that is not found"
            )

    def clean(self):
        cleaned = super().clean()
        self.choose_workplace(cleaned)
        chosen = cleaned.get("organisation")
        named = (cleaned.get("new_organisation_name") or "").strip()
        if chosen and named:
            self.add_error(
                "new_organisation_name",
                self.not_both(),
            )
        elif (
            not chosen
            and not named
            and not self.errors.keys()
            & {
                "organisation",
                "workplace_search",
            }
        ):
            if self.searching:
                self.add_error(
                    "workplace_search",
                    _("Find your workplace, or enter its name if it is not found"),
                )
            else:
                self.add_error(
                    "organisation",
                    _(
                        "Choose your workplace, or enter its name if it is not "
                        "in the list"
                    ),
                )
        return cleaned


def _year_choices() -> list[tuple[str, str]]:
    this_year = timezone.localdate().year
    years = [(str(y), str(y)) for y in range(this_year - 16, this_year - 100, -1)]
    return [
        ("", _("Not answered")),
        (PREFER_NOT_TO_SAY, _("Prefer not to say")),
        *years,
    ]


class EqualityForm(forms.Form):
    """Optional equality monitoring. Every question can be left or declined."""

    gender = forms.ChoiceField(
        label=_("What is your gender?"),
        choices=[("", _("Not answered")), *Profile.Gender.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    year_of_birth = forms.ChoiceField(
        label=_("What year were you born?"), choices=_year_choices, required=False
    )
    ethnicity = forms.ChoiceField(
        label=_("What is your ethnic group?"),
        choices=[("", _("Not answered")), *Profile.Ethnicity.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    disability = forms.ChoiceField(
        label=_("Do you consider yourself to have a disability?"),
        help_text=_(
            "Under the Equality Act 2010 a disability is a physical or mental "
            "impairment with a substantial, long-term effect on day-to-day activities."
        ),
        choices=[("", _("Not answered")), *Profile.Disability.choices],
        required=False,
        widget=forms.RadioSelect,
    )

    @classmethod
    def initial_from(cls, profile: Profile) -> dict:
        if profile.year_of_birth_withheld:
            year = PREFER_NOT_TO_SAY
        else:
            year = str(profile.year_of_birth or "")
        return {
            "gender": profile.gender,
            "year_of_birth": year,
            "ethnicity": profile.ethnicity,
            "disability": profile.disability,
        }

    def profile_values(self) -> dict:
        year = self.cleaned_data["year_of_birth"]
        return {
            "gender": self.cleaned_data["gender"],
            "ethnicity": self.cleaned_data["ethnicity"],
            "disability": self.cleaned_data["disability"],
            "year_of_birth": parse_int(year),
            "year_of_birth_withheld": year == PREFER_NOT_TO_SAY,
        }


class RefusalForm(forms.Form):
    """The reason for rejecting or cancelling a request that awaits a second
    approver (an erasure or a deactivation of a staff account)."""

    reason = forms.CharField(
        label=_("Why are you rejecting or cancelling it?"),
        help_text=_("Recorded on the page of the request or account."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Give the reason for rejecting or cancelling it.")
        },
    )


# What a refusal did, as the admin's message says it.
OUTCOMES = {"cancelled": _("cancelled"), "rejected": _("rejected")}


class CloseAccountForm(forms.Form):
    """The person confirms they want their account closed."""

    confirm = forms.BooleanField(
        label=_("I understand that I will no longer be able to sign in"),
        error_messages={
            "required": _("Tick the box to confirm that you want to close your account")
        },
    )


class ClosureReasonForm(forms.Form):
    """Staff close an account: the reason the person is told."""

    reason = forms.CharField(
        label=_("Why must the account be closed?"),
        help_text=_(
            "The person is sent this reason now; the account closes after the "
            "notice period."
        ),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the reason: the person is told it.")},
    )
