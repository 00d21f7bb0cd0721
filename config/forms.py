"""Forms render as GOV.UK Design System fields: label, hint, the error beside the
field (tied to it by aria-describedby) and an error summary at the top of the page
(`templates/forms/error_summary.html`) linking to each field.

`templates/django/forms/widgets/` holds Django's own widget templates with their
includes written out: the same HTML (tests/config/test_widget_templates.py
compares them), without an include per input and per option, which made the
catalogue's filter form a fifth of a cold catalogue page's time."""

from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting
from django.forms.widgets import MultiWidget

from config.widgets import GovukDateInput

_CLASSES = {
    "select": "govuk-select",
    "selectmultiple": "govuk-select",
    "textarea": "govuk-textarea",
    "checkbox": "govuk-checkboxes__input",
    "checkboxselectmultiple": "govuk-checkboxes__input",
    "radioselect": "govuk-radios__input",
    "clearablefile": "govuk-file-upload",
    "file": "govuk-file-upload",
}


class GovukBoundField(BoundField):
    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if isinstance(widget or self.field.widget, GovukDateInput):
            if self.errors:
                attrs["aria-invalid"] = "true"  # each box gets the error style
            return attrs
        if isinstance(widget or self.field.widget, MultiWidget):
            # A class here would replace each part's own: admin's date and time
            # parts lose vDateField/vTimeField, which its calendar looks for.
            return attrs
        css = _CLASSES.get(self.widget_type, "govuk-input")
        if self.errors and css in (
            "govuk-input",
            "govuk-select",
            "govuk-textarea",
            "govuk-file-upload",
        ):
            css += f" {css}--error"
        existing = (widget or self.field.widget).attrs.get("class", "")
        attrs["class"] = f"{css} {existing}".strip()
        return attrs

    @property
    def first_input_id(self) -> str:
        """Where the error summary links: the first radio or checkbox of a group,
        the day box of a date."""
        if isinstance(self.field.widget, GovukDateInput):
            return f"{self.auto_id}_day"
        if self.use_fieldset and self.field.widget.__class__.__name__ in (
            "RadioSelect",
            "CheckboxSelectMultiple",
        ):
            return f"{self.auto_id}_0"
        return self.auto_id


class GovukFormRenderer(TemplatesSetting):
    form_template_name = "forms/govuk_form.html"
    field_template_name = "forms/govuk_field.html"
    bound_field_class = GovukBoundField
