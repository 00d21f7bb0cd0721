"""Campaigns in the back office. Sending, stopping and list downloads go
through marketing.services. The "Marketing officers" role holds these
permissions; "How campaigns did" shows each campaign's results."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.outbox_admin import SendAgainMixin

from . import selectors, services
from .forms import CampaignForm
from .models import Campaign, Delivery


def _window() -> int:
    return settings.CAMPAIGN_ATTRIBUTION_DAYS


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("name", "purpose", "channel", "status", "send_at", "created_at")
    list_filter = ("status", "purpose", "channel")
    search_fields = ("name", "subject")
    filter_horizontal = ("topics",)
    actions = ("send_selected", "stop_selected", "download_list")
    change_list_template = "admin/marketing/campaign/change_list.html"
    readonly_fields = (
        "who_gets_it",
        "partner_note",
        "outcome",
        "results",
        "status",
        "started_at",
        "finished_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "purpose", "partner_name", "channel")}),
        (
            _("Audience"),
            {
                "fields": (
                    "audience",
                    "topics",
                    "job_titles",
                    "organisation_kinds",
                    "areas",
                    "who_gets_it",
                )
            },
        ),
        (_("Message"), {"fields": ("survey", "subject", "body", "send_at")}),
        (
            _("Sending"),
            {
                "fields": (
                    "partner_note",
                    "status",
                    "outcome",
                    "results",
                    "started_at",
                    "finished_at",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.status not in (
            Campaign.Status.DRAFT,
            Campaign.Status.SCHEDULED,
        ):
            # What was sent stays on record as it was sent.
            return (*fields, *CampaignForm.Meta.fields)
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("who gets it"))
    def who_gets_it(self, obj):
        if obj is None or obj.pk is None:
            return _("Save the campaign to see how many people it reaches.")
        counts = selectors.campaign_counts(obj)
        return format_html(
            "<strong>{}</strong> people in the audience; <strong>{}</strong> of them "
            "may be contacted by {} for {} today. Each person is checked again "
            "at the moment their message is sent.",
            counts["audience"],
            counts["contactable"],
            obj.get_channel_display().lower(),
            obj.get_purpose_display().lower(),
        )

    @admin.display(description=_("partners"))
    def partner_note(self, obj):
        if obj is None or not obj.is_partner_offer:
            return _("Our own offer.")
        return format_html(
            "We send this offer ourselves on behalf of <strong>{}</strong>, only to "
            "people who agreed to partner offers by {}. {} never receives anyone's "
            "name, address or any other detail.",
            obj.partner_name,
            obj.get_channel_display().lower(),
            obj.partner_name,
        )

    @admin.display(description=_("outcome"))
    def outcome(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        if not obj.is_sent_by_us:
            if obj.list_exported_at is None:
                return _("No list downloaded yet.")
            return format_html(
                "List of {} people downloaded {}.",
                obj.list_exported_count,
                obj.list_exported_at.strftime("%-d %b %Y %H:%M"),
            )
        counts = selectors.delivery_counts(obj)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td></tr>",
            ((label, counts[value]) for value, label in Delivery.Status.choices),
        )
        queued = obj.recipients_queued if obj.recipients_queued is not None else "-"
        return format_html(
            "<table><tbody>{}<tr><td>People queued</td><td>{}</td></tr></tbody>"
            "</table>",
            rows,
            queued,
        )

    @admin.display(description=_("results"))
    def results(self, obj):
        if obj is None or obj.pk is None or not obj.is_sent_by_us:
            return "-"
        if obj.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            return _("Not sent yet.")
        return render_to_string(
            "admin/marketing/campaign/measures.html",
            {"rows": [selectors.campaign_measures(obj)], "window": _window()},
        )

    def get_urls(self):
        return [
            path(
                "results/",
                self.admin_site.admin_view(self.results_view),
                name="marketing_campaign_results",
            ),
            *super().get_urls(),
        ]

    def results_view(self, request):
        """Every campaign's results, and partner offers' per partner."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        campaigns, partners = selectors.measures_overview()
        return TemplateResponse(
            request,
            "admin/marketing/campaign/results.html",
            {
                **self.admin_site.each_context(request),
                "title": _("How campaigns did"),
                "opts": self.model._meta,
                "campaigns": [m for _c, m in campaigns],
                "partners": partners,
                "window": _window(),
            },
        )

    @admin.action(
        description=_("Send (or schedule) selected campaigns"), permissions=["change"]
    )
    def send_selected(self, request, queryset):
        for campaign in queryset:
            try:
                campaign = services.send_campaign(campaign, by=request.user)
            except services.MarketingError as exc:
                self.message_user(request, f"{campaign}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{campaign}: {campaign.get_status_display()}",
                messages.SUCCESS,
            )

    @admin.action(description=_("Stop selected campaigns"), permissions=["change"])
    def stop_selected(self, request, queryset):
        for campaign in queryset:
            try:
                services.stop_campaign(campaign, by=request.user)
            except services.MarketingError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    @admin.action(
        description=_("Download call or mailing list (CSV)"), permissions=["change"]
    )
    def download_list(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("Choose exactly one campaign."), messages.ERROR
            )
            return None
        campaign = queryset.get()
        try:
            content = services.export_contact_list(campaign, by=request.user)
        except services.MarketingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="campaign-{campaign.pk}-{campaign.channel}.csv"'
        )
        return response


@admin.register(Delivery)
class DeliveryAdmin(SendAgainMixin, admin.ModelAdmin):
    send_again_service = services.send_deliveries_again
    list_display = (
        "created_at",
        "campaign",
        "person",
        "status",
        "attempts",
        "sent_at",
        "error",
        "retry_until",
    )
    list_filter = ("status", "campaign")
    actions = ("send_again",)
    list_select_related = ("campaign", "person")
    search_fields = ("person__email",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
