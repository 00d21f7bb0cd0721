import csv

from django.contrib import admin, messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.admin_filters import name_contains
from config.outbox_admin import SendAgainMixin
from config.spreadsheet import safe_cell

from . import selectors, services
from .models import (
    Application,
    ApplicationType,
    FundingDocument,
    FundingEvent,
    FundingMail,
    FundingRequest,
    FundingRound,
    FundingStream,
    Invoice,
    Payment,
    ProgressUpdate,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class EventInline(ReadOnlyInline):
    model = FundingEvent
    fk_name = "request"
    fields = ("created_at", "actor", "actor_label", "from_status", "to_status", "note")


class DocumentInline(ReadOnlyInline):
    model = FundingDocument
    fields = ("kind", "download", "content_type", "size", "uploaded_at")

    @admin.display(description=_("file"))
    def download(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("funding:officer_document", args=[obj.pk]),
            obj.original_name,
        )


class InvoiceInline(ReadOnlyInline):
    model = Invoice
    fields = ("supplier", "number", "amount", "invoice_date", "download")

    @admin.display(description=_("file"))
    def download(self, obj):
        if not obj.file:
            return "-"
        return format_html(
            '<a href="{}">PDF</a>', reverse("funding:officer_invoice", args=[obj.pk])
        )


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("amount", "paid_on", "reference", "invoice", "recorded_by")


class ProgressInline(ReadOnlyInline):
    model = ProgressUpdate
    fields = ("stage", "note", "recorded_at")


@admin.register(FundingStream)
class FundingStreamAdmin(admin.ModelAdmin):
    list_display = ("name", "annual_allowance")
    search_fields = ("name",)


@admin.register(FundingRound)
class FundingRoundAdmin(admin.ModelAdmin):
    list_display = ("name", "stream", "opens_on", "closes_on", "panel_date", "panel")
    list_filter = ("stream",)
    list_select_related = ("stream",)

    @admin.display(description=_("panel"))
    def panel(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("funding:officer_panel", args=[obj.pk]),
            _("Review as a panel"),
        )


@admin.register(FundingRequest)
class FundingRequestAdmin(admin.ModelAdmin):
    """Decisions go through the services (the review page or the actions here),
    so every change of state is an event and the learner is told."""

    list_display = (
        "pk",
        "person",
        "course_name",
        "provider_label",
        "cost",
        "amount_approved",
        "status",
        "organisation",
        "round",
        "submitted_at",
        "review",
    )
    list_filter = (
        "status",
        "round",
        "provider",
        name_contains("organisation"),
        ("submitted_at", admin.DateFieldListFilter),
    )
    list_select_related = ("person", "provider", "organisation", "round__stream")
    search_fields = (
        "course_name",
        "provider_name",
        "person__email",
        "person__last_name",
    )
    date_hierarchy = "submitted_at"
    inlines = (
        EventInline,
        DocumentInline,
        InvoiceInline,
        PaymentInline,
        ProgressInline,
    )
    actions = ("approve_in_full", "spend_report_csv", "status_report_csv")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in FundingRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("provider"))
    def provider_label(self, obj):
        return obj.provider_display

    @admin.display(description=_("review"))
    def review(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("funding:officer_review", args=[obj.pk]),
            _("Review"),
        )

    @admin.action(
        description=_("Approve selected in full (manager-supported only)"),
        permissions=["change"],
    )
    def approve_in_full(self, request, queryset):
        approved = 0
        for funding_request in queryset.filter(status="under_review"):
            try:
                services.approve_funding_request(
                    funding_request, amount=funding_request.cost, by=request.user
                )
            except services.FundingError as exc:
                self.message_user(request, f"{funding_request}: {exc}", messages.ERROR)
            else:
                approved += 1
        self.message_user(request, _("%(n)d approved.") % {"n": approved})

    @admin.action(
        description=_("Report for funders: spend by provider, course and month (CSV)"),
        permissions=["view"],
    )
    def spend_report_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="funding-spend.csv"'
        writer = csv.writer(response)
        writer.writerow(["Provider", "Course", "Month", "Approved (£)", "Paid (£)"])
        for row in selectors.spend_by_provider_course_month(queryset):
            writer.writerow(
                [
                    safe_cell(row["provider"]),
                    safe_cell(row["course"]),
                    row["month"].strftime("%Y-%m"),
                    "suppressed" if row["suppressed"] else f"{row['approved']:.2f}",
                    "suppressed" if row["suppressed"] else f"{row['paid']:.2f}",
                ]
            )
        return response

    @admin.action(
        description=_("Report for funders: number of requests by status (CSV)"),
        permissions=["view"],
    )
    def status_report_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="funding-status.csv"'
        writer = csv.writer(response)
        writer.writerow(["Status", "Requests"])
        counts = selectors.suppressed_counts(selectors.counts_by_status(queryset))
        labels = dict(FundingRequest.Status.choices)
        for status, n in counts.items():
            writer.writerow([labels.get(status, _("Total")), n])
        return response


@admin.register(ApplicationType)
class ApplicationTypeAdmin(admin.ModelAdmin):
    """Kinds of application learners can make: a new one is a new page on the
    website, with no code. Never deleted once used (its applications keep it);
    close it instead."""

    list_display = ("name", "slug", "is_open", "needs_manager", "order", "start")
    list_editable = ("is_open", "order")
    list_filter = ("is_open",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")
    fieldsets = (
        (None, {"fields": ("name", "slug", "summary", "guidance")}),
        (
            _("The questions"),
            {
                "fields": (
                    "subject_label",
                    "subject_hint",
                    "statement_label",
                    "statement_hint",
                    "needs_manager",
                )
            },
        ),
        (_("Taking applications"), {"fields": ("is_open", "order")}),
    )

    @admin.display(description=_("learners start at"))
    def start(self, obj):
        url = reverse("funding:application_new", args=[obj.slug])
        return format_html('<a href="{}">{}</a>', url, url)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.applications.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "person",
        "type",
        "programme",
        "employer_name",
        "status",
        "submitted_at",
        "review",
    )
    list_filter = (
        "type",
        "status",
        name_contains("organisation"),
        ("submitted_at", admin.DateFieldListFilter),
    )
    list_select_related = ("person", "organisation", "type")
    search_fields = ("programme", "employer_name", "person__email", "person__last_name")
    actions = ("start_review",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Application._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("review"))
    def review(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("funding:officer_application", args=[obj.pk]),
            _("Review"),
        )

    @admin.action(
        description=_("Mark selected as being reviewed"), permissions=["change"]
    )
    def start_review(self, request, queryset):
        for application in queryset.filter(status="submitted"):
            services.start_application_review(application, by=request.user)


@admin.register(FundingMail)
class FundingMailAdmin(SendAgainMixin, admin.ModelAdmin):
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
    exclude = ("body",)  # may hold a manager's one-time link

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in FundingMail._meta.fields if f.name != "body"]

    def has_add_permission(self, request):
        return False
