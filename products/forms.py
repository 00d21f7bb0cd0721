from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from config.numbers import parse_int

from .models import MAX_QUANTITY

MYSELF = "myself"


class QuantityField(forms.CharField):
    """A whole number from 1 to MAX_QUANTITY, read with the project's one
    number parser (ASCII digits only: "²" or "٣" is not a quantity)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=len(str(MAX_QUANTITY)), **kwargs)
        self.widget.attrs.update(
            {"inputmode": "numeric", "class": "govuk-input--width-3"}
        )

    def clean(self, value):
        text = super().clean(value)
        number = parse_int(text.strip(), minimum=1, maximum=MAX_QUANTITY)
        if number is None:
            raise ValidationError(
                _("Enter a whole number from 1 to %(max)s") % {"max": MAX_QUANTITY}
            )
        return number


class BuyForm(forms.Form):
    quantity = QuantityField(
        label=_("How many?"),
        initial="1",
        error_messages={"required": _("Enter how many you want")},
    )
    buy_for = forms.ChoiceField(
        label=_("Who are you buying for?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose who you are buying for"),
            "invalid_choice": _("Choose who you are buying for"),
        },
    )

    def __init__(self, *args, product, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = {str(o.pk): o for o in organisations}
        choices = []
        if product.for_people:
            choices.append((MYSELF, _("Myself (charged to my own account)")))
        if product.for_organisations:
            choices += [
                (key, _("%(org)s (charged to its account)") % {"org": org.name})
                for key, org in self.organisations.items()
            ]
        self.fields["buy_for"].choices = choices
        self.only_for_oneself = [key for key, _label in choices] == [MYSELF]
        if self.only_for_oneself:
            # Nothing to ask; but a form sent with an organisation in it (an
            # old page, a script) is refused, never quietly charged to oneself.
            self.fields["buy_for"] = forms.CharField(
                widget=forms.HiddenInput, required=False, max_length=20
            )
        elif len(choices) == 1:
            self.fields["buy_for"].initial = choices[0][0]

    def clean(self):
        cleaned = super().clean()
        if self.only_for_oneself and cleaned.get("buy_for") not in ("", MYSELF):
            raise ValidationError(
                _("You can buy this only for yourself, charged to your own account.")
            )
        return cleaned

    def organisation(self):
        """The organisation chosen, or None for oneself."""
        if self.only_for_oneself:
            return None
        return self.organisations.get(self.cleaned_data["buy_for"])
