"""The data-protection lead's back office: the request queue and its actions.

Export, erase and restrict need their own permissions, which only the Data
protection lead group holds."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import services
from .models import AuditEvent, DataSubjectRequest, Disclosure, RetentionRun


class OverdueFilter(admin.SimpleListFilter):
    title = _("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return (("overdue", _("Overdue")), ("open", _("Open")))

    def queryset(self, request, queryset):
        open_ = queryset.filter(status__in=["received", "in_progress"])
        if self.value() == "overdue":
            return open_.filter(due_at__lt=timezone.now())
        if self.value() == "open":
            return open_
        return queryset


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "person",
        "received_at",
        "due",
        "identity_verified",
        "status",
        "channel",
    )
    list_filter = (OverdueFilter, "status", "kind", "channel", "identity_verified")
    list_select_related = ("person",)
    search_fields = ("person__email",)
    autocomplete_fields = ("person",)
    readonly_fields = ("due_at", "completed_at", "completed_by", "logged_by")
    fields = (
        "person",
        "kind",
        "channel",
        "received_at",
        "identity_verified",
        "status",
        "details",
        "extension_months",
        "extension_reason",
        "due_at",
        "logged_by",
        "completed_at",
        "completed_by",
    )
    actions = ("export_data", "erase_data", "restrict", "lift", "complete")

    class Media:
        css = {"all": ("css/admin.css",)}

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, obj):
        if obj.is_overdue:
            return format_html(
                '<strong class="app-overdue">Overdue: {}</strong>',
                timezone.localtime(obj.due_at).strftime("%-d %b %Y"),
            )
        return timezone.localtime(obj.due_at).strftime("%-d %b %Y")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.logged_by = request.user
        if obj.extension_months and not obj.extension_reason.strip():
            obj.extension_months = 0
            self.message_user(
                request,
                _("An extension needs a recorded reason; not extended."),
                messages.ERROR,
            )
        super().save_model(request, obj, form, change)
        services.audit("request saved", person=obj.person, by=request.user, request=obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_export_personal_data_permission(self, request):
        return request.user.has_perm("privacy.export_personal_data")

    def has_erase_personal_data_permission(self, request):
        return request.user.has_perm("privacy.erase_personal_data")

    def has_restrict_processing_permission(self, request):
        return request.user.has_perm("privacy.restrict_processing")

    def _one(self, request, queryset, *, kind=None):
        """The one selected request, if it names a person whose identity has
        been verified (and, for erasure, asks for erasure)."""
        dsr = queryset.first() if queryset.count() == 1 else None
        if dsr is None or dsr.person is None:
            problem = _("Choose exactly one request that names a person.")
        elif not dsr.identity_verified:
            problem = _("Verify the person's identity first.")
        elif kind and dsr.kind != kind:
            problem = _("Only an erasure request can erase data.")
        else:
            return dsr
        self.message_user(request, problem, messages.ERROR)
        return None

    @admin.action(
        description=_("Export personal data"), permissions=["export_personal_data"]
    )
    def export_data(self, request, queryset):
        dsr = self._one(request, queryset)
        if dsr is None:
            return None
        content = services.export_person(dsr.person, by=request.user, request=dsr)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="request-{dsr.pk}-data.zip"'
        )
        return response

    @admin.action(
        description=_("Erase personal data"), permissions=["erase_personal_data"]
    )
    def erase_data(self, request, queryset):
        dsr = self._one(request, queryset, kind=DataSubjectRequest.Kind.ERASURE)
        if dsr is None:
            return None
        target = dsr.person
        if (target.is_staff or target.is_superuser) and not request.user.is_superuser:
            # A staff or superuser account is erased only by a superuser, so the
            # data-protection lead alone cannot remove another administrator.
            self.message_user(
                request,
                _("Only a superuser can erase a staff or superuser account."),
                messages.ERROR,
            )
            return None
        if request.POST.get("confirm") == "yes":
            services.complete_request(
                dsr, by=request.user, outcome="We have erased your personal data."
            )
            services.erase_person(dsr.person, dsr, by=request.user)
            self.message_user(request, _("Personal data erased."), messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/privacy/erase_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Erase personal data?"),
                "dsr": dsr,
                "plan": services.erasure_plan(),
                "queryset": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description=_("Restrict processing"), permissions=["restrict_processing"]
    )
    def restrict(self, request, queryset):
        dsr = self._one(request, queryset)
        if dsr is None:
            return
        services.restrict_processing(dsr.person, dsr, by=request.user)
        self.message_user(request, _("Processing restricted."), messages.SUCCESS)

    @admin.action(
        description=_("Lift restriction"), permissions=["restrict_processing"]
    )
    def lift(self, request, queryset):
        dsr = self._one(request, queryset)
        if dsr is None:
            return
        services.lift_restriction(dsr.person, dsr, by=request.user)
        self.message_user(request, _("Restriction lifted."), messages.SUCCESS)

    @admin.action(
        description=_("Mark completed and tell the person"), permissions=["change"]
    )
    def complete(self, request, queryset):
        for dsr in queryset.filter(status__in=["received", "in_progress"]):
            services.complete_request(dsr, by=request.user)
        self.message_user(request, _("Completed."), messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "subject", "request", "detail")
    list_filter = ("action",)
    list_select_related = ("actor", "request")
    search_fields = ("subject",)


@admin.register(Disclosure)
class DisclosureAdmin(ReadOnlyAdmin):
    list_display = (
        "disclosed_at",
        "person",
        "recipient",
        "fields",
        "purpose",
        "reference",
    )
    list_filter = ("recipient",)
    search_fields = ("person__email", "recipient", "reference")
    list_select_related = ("person",)


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ("ran_at", "category", "removed")
