from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import services
from .forms import StaffConsentForm
from .models import ConsentRecord, ContactPoint, PolicyVersion, ProcessingPurpose


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ("kind", "version", "published_at", "created_at")
    list_filter = ("kind",)
    actions = ("publish",)

    def get_readonly_fields(self, request, obj=None):
        # A published version is the record of what people were shown: frozen.
        if obj and obj.published_at:
            return ("kind", "version", "summary_of_changes", "body", "published_at")
        return ("published_at",)

    def has_delete_permission(self, request, obj=None):
        # A draft may go, a published version never; and only for someone
        # whose role may delete versions at all.
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or obj.published_at is None

    @admin.action(description=_("Publish selected versions"), permissions=["change"])
    def publish(self, request, queryset):
        for policy in queryset.filter(published_at__isnull=True):
            services.publish_policy(policy)
            self.log_change(request, policy, "Published")
        from django.core.cache import cache

        cache.delete("consent:privacy-current")
        self.message_user(request, _("Published."), messages.SUCCESS)


@admin.register(ContactPoint)
class ContactPointAdmin(admin.ModelAdmin):
    """The contact page's details, per team (`/contact/`)."""

    list_display = ("team", "email", "phone", "hours")


@admin.register(ProcessingPurpose)
class ProcessingPurposeAdmin(admin.ModelAdmin):
    list_display = ("name", "lawful_basis", "data_categories", "retention", "order")
    list_editable = ("order",)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """Add-only: staff record a choice made by phone or letter, with a note."""

    form = StaffConsentForm
    list_display = (
        "recorded_at",
        "person",
        "purpose",
        "channel",
        "granted",
        "source",
        "recorded_by",
    )
    list_filter = ("purpose", "channel", "granted", "source")
    list_select_related = ("person", "recorded_by")
    search_fields = ("person__email",)
    autocomplete_fields = ("person",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        record = services.record_consent(
            form.cleaned_data["person"],
            form.cleaned_data["purpose"],
            form.cleaned_data["channel"],
            form.cleaned_data["granted"],
            ConsentRecord.Source.STAFF,
            by=request.user,
            note=form.cleaned_data["note"],
        )
        obj.pk, obj.recorded_at = record.pk, record.recorded_at

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, _("The choice has been recorded."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:consent_consentrecord_changelist"))
