from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin

from config.admin_filters import name_contains
from config.outbox_admin import SendAgainMixin
from config.uploads import UploadValidator
from privacy.imports import SourceImportMixin

from . import services
from .forms import EVIDENCE_EXTENSIONS, EVIDENCE_MAX_BYTES
from .imports import BookingResource, PriorLearningResource
from .models import Booking, MailRecord, PriorLearning, StaffLog, Transaction


@admin.register(Booking)
class BookingAdmin(SourceImportMixin, ImportMixin, admin.ModelAdmin):
    resource_classes = [BookingResource]
    list_display = ("person", "session", "status", "created_at", "booked_by")
    list_filter = ("status", "session__course__mode", name_contains("organisation"))
    list_select_related = ("person", "session__course", "booked_by")
    search_fields = ("person__email", "person__last_name", "session__course__title")
    autocomplete_fields = ("person", "session", "organisation")
    readonly_fields = (
        "import_source",
        "imported_at",
        "status",
        "created_at",
        "updated_at",
        "cancelled_at",
        "cancelled_by",
        "booked_by",
        # Approval is decided by the organisation's approver on its own page.
        "approval_organisation",
        "approval_expires_at",
        "approved_at",
        "approved_by",
    )
    actions = ("cancel_selected", "mark_attended", "mark_no_show")

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is None:
            return fields
        # Moving, re-assigning or certifying goes through the services (register
        # page), which check capacity, tell the person and log who did it.
        return (
            *fields,
            "person",
            "session",
            "organisation",
            "certificate_code",
            "offer_expires_at",
        )

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Phone bookings by staff go through the same rules as online ones.
        try:
            booking = services.book_session(
                obj.person,
                obj.session,
                by=request.user,
                organisation=obj.organisation,
                purchase_order=obj.purchase_order,
            )
        except services.BookingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        obj.pk = booking.pk
        obj.status = booking.status

    def save_related(self, request, form, formsets, change):
        if form.instance.pk:
            super().save_related(request, form, formsets, change)

    def log_addition(self, request, obj, message):
        if obj.pk:
            super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Cancel selected bookings"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        for booking in queryset.select_related("session").exclude(status="cancelled"):
            try:
                services.cancel_booking(
                    booking, request.user, reason="Cancelled by staff"
                )
            except services.BookingError as exc:
                self.message_user(request, f"{booking}: {exc}", messages.ERROR)

    @admin.action(description=_("Mark selected as attended"), permissions=["change"])
    def mark_attended(self, request, queryset):
        try:
            n = services.mark_attendance(queryset, attended=True, by=request.user)
        except services.BookingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, _("%(n)d marked as attended.") % {"n": n})

    @admin.action(
        description=_("Mark selected as did not attend"), permissions=["change"]
    )
    def mark_no_show(self, request, queryset):
        try:
            n = services.mark_attendance(queryset, attended=False, by=request.user)
        except services.BookingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, _("%(n)d marked as did not attend.") % {"n": n})


class LedgerEntryForm(forms.ModelForm):
    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        decimal_places=2,
        help_text=_("A positive amount; payments and credits reduce what is owed."),
    )

    class Meta:
        model = Transaction
        fields = (
            "person",
            "organisation",
            "kind",
            "amount",
            "reference",
            "description",
        )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("person") and not cleaned.get("organisation"):
            raise forms.ValidationError(_("Choose a person or an organisation."))
        return cleaned


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    """The ledger is append-only: entries are added, never changed or deleted."""

    form = LedgerEntryForm
    list_display = (
        "created_at",
        "person",
        "organisation",
        "kind",
        "amount",
        "reference",
        "description",
        "created_by",
    )
    list_filter = ("kind", name_contains("organisation"))
    list_select_related = ("person", "organisation", "created_by")
    search_fields = ("person__email", "organisation__name", "reference")
    autocomplete_fields = ("person", "organisation")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        entry = services.record_ledger_entry(
            person=form.cleaned_data["person"],
            organisation=form.cleaned_data["organisation"],
            kind=form.cleaned_data["kind"],
            amount=form.cleaned_data["amount"],
            reference=form.cleaned_data["reference"],
            description=form.cleaned_data["description"],
            by=request.user,
        )
        obj.pk, obj.amount, obj.created_at = entry.pk, entry.amount, entry.created_at

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, _("Ledger entry added."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:bookings_transaction_changelist"))


@admin.register(StaffLog)
class StaffLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "booking", "session", "detail")
    list_filter = ("action",)
    list_select_related = ("actor", "booking__person", "session__course")
    search_fields = ("actor__email", "detail")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MailRecord)
class MailRecordAdmin(SendAgainMixin, admin.ModelAdmin):
    send_again_service = services.send_mail_again
    list_display = (
        "created_at",
        "kind",
        "to",
        "status",
        "attempts",
        "last_error",
        "retry_until",
        "sent_at",
    )
    list_filter = ("status", "kind")
    actions = ("send_again",)
    search_fields = ("to", "key")
    readonly_fields = [f.name for f in MailRecord._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(PriorLearning)
class PriorLearningAdmin(SourceImportMixin, ImportMixin, admin.ModelAdmin):
    resource_classes = [PriorLearningResource]
    list_display = ("person", "title", "completed_on", "cpd_hours")
    list_select_related = ("person",)
    autocomplete_fields = ("person",)  # not a drop-down of everyone

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "evidence":
            # Staff uploads are checked like the learner's (config.uploads).
            field.validators.append(
                UploadValidator(
                    extensions=EVIDENCE_EXTENSIONS, max_bytes=EVIDENCE_MAX_BYTES
                )
            )
        return field

    search_fields = ("person__email", "title")
