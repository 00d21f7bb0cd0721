"""CSV import of past attendance and prior training received from elsewhere
(see privacy.imports)."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import fields, widgets

from privacy.imports import PersonByEmail, StampedResource

from .models import Booking, PriorLearning


class BookingResource(StampedResource):
    """Columns: email, session (the session's id), status (attended or no_show).
    Only past sessions: imports are records of what happened elsewhere, never a
    way round the booking rules."""

    person = fields.Field(
        attribute="person", column_name="email", widget=PersonByEmail()
    )

    class Meta:
        model = Booking
        fields = ("person", "session", "status")
        import_id_fields = ()
        clean_model_instances = True

    def before_import_row(self, row, **kwargs):
        status = (row.get("status") or "").strip()
        if status not in ("attended", "no_show"):
            raise ValidationError({"status": _("Status must be attended or no_show")})

    def validate_instance(
        self, instance, import_validation_errors=None, validate_unique=True
    ):
        errors = dict(import_validation_errors or {})
        session = getattr(instance, "session", None)
        if session is not None and session.starts_at > timezone.now():
            errors["session"] = _("Only past sessions can be imported")
        if errors:
            raise ValidationError(errors)
        super().validate_instance(instance, import_validation_errors, validate_unique)


class _Hours(widgets.DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        try:
            hours = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise ValueError(_("Hours must be a number, like 3 or 1.5")) from None
        if not Decimal("0") < hours <= Decimal("1000"):
            raise ValueError(_("Hours must be between 0.1 and 1000"))
        return hours


class _PastDate(widgets.DateWidget):
    def clean(self, value, row=None, **kwargs):
        day = super().clean(value, row, **kwargs)
        if day is None:
            raise ValueError(_("Give the date completed, like 2026-03-27"))
        if day > dt.date.today():  # noqa: DTZ011 - a calendar date, not an instant
            raise ValueError(_("The date completed cannot be in the future"))
        return day


class PriorLearningResource(StampedResource):
    """Columns: email, title, provider_name, completed_on (YYYY-MM-DD), cpd_hours, notes."""

    person = fields.Field(
        attribute="person", column_name="email", widget=PersonByEmail()
    )
    completed_on = fields.Field(
        attribute="completed_on",
        column_name="completed_on",
        widget=_PastDate(format="%Y-%m-%d"),
    )
    cpd_hours = fields.Field(
        attribute="cpd_hours", column_name="cpd_hours", widget=_Hours()
    )

    class Meta:
        model = PriorLearning
        fields = (
            "person",
            "title",
            "provider_name",
            "completed_on",
            "cpd_hours",
            "notes",
        )
        import_id_fields = ()
        clean_model_instances = True
