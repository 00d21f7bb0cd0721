"""Importing people, bookings and prior training received from elsewhere (a
university, another training hub, a commissioner), with django-import-export.

Every row is validated; any invalid row stops the whole import (transactions
are on) and the preview names each row and column at fault. Each record created
carries its source and the time of import, which the person's export shows.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.forms import ConfirmImportForm, ImportForm

from config.uploads import CheckedFileField

# The formats django-import-export offers here (tablib without extras): all
# text, checked to be UTF-8 without NUL (config.uploads).
IMPORT_EXTENSIONS = ("csv", "tsv", "json", "yaml", "yml", "html")


class SourceImportForm(ImportForm):
    import_file = CheckedFileField(
        extensions=IMPORT_EXTENSIONS, label=_("File to import")
    )
    source = forms.CharField(
        label=_("Where this data came from"),
        help_text=_("For example: University of Westmoor, March 2026 cohort list."),
        max_length=200,
    )


class SourceConfirmImportForm(ConfirmImportForm):
    source = forms.CharField(widget=forms.HiddenInput(), max_length=200)


class SourceImportMixin:
    """Admin mixin: ask for the source, carry it through the confirm step and
    hand it to the resource."""

    import_form_class = SourceImportForm
    confirm_form_class = SourceConfirmImportForm

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form:
            initial["source"] = import_form.cleaned_data["source"]
        return initial

    def get_import_data_kwargs(self, **kwargs):
        form = kwargs.get("form")
        data = super().get_import_data_kwargs(**kwargs)
        if form is not None and "source" in getattr(form, "cleaned_data", {}):
            data["source"] = form.cleaned_data["source"]
        return data


class StampedResource(resources.ModelResource):
    """Stamps each record created with the import's source and time."""

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk is None or not instance.import_source:
            instance.import_source = kwargs.get("source", "")[:200]
            instance.imported_at = timezone.now()


class PersonByEmail(widgets.ForeignKeyWidget):
    """The person a row is about, found by their email address."""

    def __init__(self, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(model=get_user_model(), field="email", **kwargs)

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip().lower()
        if not value:
            raise ValueError(_("Give the person's email address"))
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                _("No person has the email %(email)s; import people first")
                % {"email": value}
            ) from None
