"""The data-protection lead's back office: the request queue and its actions.

Export, erase and restrict need their own permissions, which only the Data
protection lead group holds. Erasing a staff or superuser account needs four
eyes (accounts/four_eyes.py): "Ask a second approver to erase" records the
request, "Approve erasure (second approver)" by a different person runs it,
and "Reject or cancel a pending erasure" withdraws it with a reason; the
"second approver" filter lists what is waiting."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.four_eyes_admin import asked_by, refusal_step, when
from config.outbox_admin import SendAgainMixin

from . import disclosures, services
from .forms import CorrectFieldForm, DisclosureAdminForm, WithholdForm
from .models import (
    AuditEvent,
    DataSubjectRequest,
    Disclosure,
    RetentionRun,
    Transmission,
    TransmissionMail,
)


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


class SecondApproverFilter(admin.SimpleListFilter):
    title = _("second approver")
    parameter_name = "second_approver"

    def lookups(self, request, model_admin):
        return (("awaiting", _("Awaiting second approver")),)

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(
                status__in=["received", "in_progress"],
                approval_requested_at__isnull=False,
            )
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
        "second_approver",
    )
    list_filter = (
        OverdueFilter,
        SecondApproverFilter,
        "status",
        "kind",
        "channel",
        "identity_verified",
    )
    list_select_related = ("person", "approval_requested_by")
    search_fields = ("person__email",)
    autocomplete_fields = ("person",)
    readonly_fields = (
        "due_at",
        "completed_at",
        "completed_by",
        "logged_by",
        "approval_requested_by",
        "approval_requested_at",
        "approval_refusal_reason",
    )
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
        "approval_requested_by",
        "approval_requested_at",
        "approval_refusal_reason",
    )
    actions = (
        "export_data",
        "erase_data",
        "request_erasure_approval",
        "approve_erasure",
        "reject_erasure",
        "restrict",
        "lift",
        "send_transmission",
        "correct_field",
        "complete",
    )

    @admin.display(description=_("second approver"))
    def second_approver(self, obj):
        if not obj.awaiting_second_approver:
            return "-"
        return _("Awaiting second approver: asked for by %(who)s on %(when)s") % {
            "who": obj.approval_requested_by or _("someone no longer on record"),
            "when": when(obj.approval_requested_at),
        }

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.awaiting_second_approver:
            # What the second approver approves is what was asked for.
            fields = (*fields, "person", "kind", "identity_verified")
        return fields

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

    def _erase_confirm_page(self, request, queryset, dsr, *, action_name):
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
                "action_name": action_name,
                "requested_by": dsr.approval_requested_by
                if action_name == "approve_erasure"
                else None,
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description=_("Erase personal data"), permissions=["erase_personal_data"]
    )
    def erase_data(self, request, queryset):
        dsr = self._one(request, queryset, kind=DataSubjectRequest.Kind.ERASURE)
        if dsr is None:
            return None
        # A staff or superuser account needs a second person (four eyes):
        # refused before the confirmation page, so nobody is offered a button
        # that cannot work.
        problem = services.erasure_alone_refusal(dsr.person, by=request.user)
        if problem:
            self.message_user(request, problem, messages.ERROR)
            return None
        if request.POST.get("confirm") == "yes":
            try:
                services.erase_on_request(dsr, by=request.user)
            except services.PrivacyError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(request, _("Personal data erased."), messages.SUCCESS)
            return None
        return self._erase_confirm_page(
            request, queryset, dsr, action_name="erase_data"
        )

    @admin.action(
        description=_("Ask a second approver to erase"),
        permissions=["erase_personal_data"],
    )
    def request_erasure_approval(self, request, queryset):
        dsr = self._one(request, queryset, kind=DataSubjectRequest.Kind.ERASURE)
        if dsr is None:
            return
        try:
            services.request_erasure_approval(dsr, by=request.user)
        except services.PrivacyError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        who = (
            _("A superuser")
            if dsr.person.is_superuser and not request.user.is_superuser
            else _("Another data-protection lead or a superuser")
        )
        self.message_user(
            request,
            _(
                "Erasure in request #%(pk)s is now awaiting a second approver. "
                "Nothing has been erased yet. %(who)s (not you, and not the "
                "account's owner) must choose “Approve erasure (second "
                "approver)”."
            )
            % {"pk": dsr.pk, "who": who},
            messages.WARNING,
        )

    @admin.action(
        description=_("Approve erasure (second approver)"),
        permissions=["erase_personal_data"],
    )
    def approve_erasure(self, request, queryset):
        dsr = self._one(request, queryset, kind=DataSubjectRequest.Kind.ERASURE)
        if dsr is None:
            return None
        problem = services.erasure_approval_refusal(dsr, by=request.user)
        if problem:
            self.message_user(
                request,
                _("Nothing was erased. %(problem)s") % {"problem": problem},
                messages.ERROR,
            )
            return None
        if request.POST.get("confirm") != "yes":
            return self._erase_confirm_page(
                request, queryset, dsr, action_name="approve_erasure"
            )
        try:
            requester = services.approve_erasure(dsr, by=request.user)
        except services.PrivacyError as exc:
            self.message_user(
                request,
                _("Nothing was erased. %(problem)s") % {"problem": exc},
                messages.ERROR,
            )
            return None
        self.message_user(
            request,
            _(
                "Personal data erased (request #%(pk)s): asked for by %(who)s, "
                "approved by you. Nothing more is needed."
            )
            % {"pk": dsr.pk, "who": requester},
            messages.SUCCESS,
        )
        return None

    @admin.action(
        description=_("Reject or cancel a pending erasure"),
        permissions=["erase_personal_data"],
    )
    def reject_erasure(self, request, queryset):
        dsr = self._one(request, queryset, kind=DataSubjectRequest.Kind.ERASURE)
        if dsr is None:
            return None
        if not dsr.awaiting_second_approver:
            self.message_user(
                request,
                _("Request #%(pk)s is not awaiting a second approver.")
                % {"pk": dsr.pk},
                messages.ERROR,
            )
            return None
        return refusal_step(
            self,
            request,
            queryset,
            action_name="reject_erasure",
            title=_("Reject or cancel this erasure?"),
            pending_text=_(
                "%(who)s asked on %(when)s for a second approver to erase "
                "the account in request #%(pk)s."
            )
            % {
                "who": asked_by(dsr.approval_requested_by),
                "when": when(dsr.approval_requested_at),
                "pk": dsr.pk,
            },
            reject=lambda reason: services.reject_erasure(
                dsr, by=request.user, reason=reason
            ),
            error=services.PrivacyError,
            done=lambda outcome: (
                _(
                    "The erasure in request #%(pk)s was %(outcome)s; nothing was "
                    "erased and it no longer awaits a second approver. The "
                    "reason is recorded on the request."
                )
                % {"pk": dsr.pk, "outcome": outcome}
            ),
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
        description=_("Send the data to the organisation (portability)"),
        permissions=["export_personal_data"],
    )
    def send_transmission(self, request, queryset):
        dsr = self._one(request, queryset)
        if dsr is None:
            return
        try:
            transmission = disclosures.send_transmission(dsr, by=request.user)
        except services.PrivacyError as exc:
            self.message_user(
                request,
                _("Nothing was sent. %(problem)s") % {"problem": exc},
                messages.ERROR,
            )
            return
        self.message_user(
            request,
            _(
                "A one-time link to the data is being emailed to %(name)s "
                "(%(email)s); the disclosure is recorded and the person told."
            )
            % {
                "name": transmission.recipient_name,
                "email": transmission.recipient_email,
            },
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Correct a field (correction request)"), permissions=["change"]
    )
    def correct_field(self, request, queryset):
        dsr = self._one(request, queryset)
        if dsr is None:
            return None
        if dsr.kind != DataSubjectRequest.Kind.RECTIFICATION:
            self.message_user(
                request,
                _("Only a correction request can correct data."),
                messages.ERROR,
            )
            return None
        form = CorrectFieldForm(
            request.POST if request.POST.get("confirm") else None,
            choices=services.correction_choices(),
        )
        if form.is_valid():
            try:
                event = services.correct_personal_data(
                    dsr,
                    field=form.cleaned_data["field"],
                    value=form.cleaned_data["value"],
                    by=request.user,
                )
            except services.PrivacyError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            # Neither value is repeated here: the old one lives only in the
            # audit event.
            self.message_user(
                request,
                _(
                    "Corrected %(field)s for request #%(pk)s; the change is in the "
                    "audit trail (event #%(event)s). Mark the request completed "
                    "when nothing else needs correcting."
                )
                % {
                    "field": dict(form.fields["field"].choices)[event.detail],
                    "pk": dsr.pk,
                    "event": event.pk,
                },
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Correct a field for request #%(pk)s") % {"pk": dsr.pk},
                "intro": [
                    _("What the person told us:"),
                    dsr.details or _("(nothing written)"),
                    _(
                        "The field's old value is kept only in the audit trail, "
                        "with the new one, for the retention period."
                    ),
                ],
                "form": form,
                "submit_label": _("Correct it"),
                "queryset": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "action_name": "correct_field",
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description=_("Mark completed and tell the person"), permissions=["change"]
    )
    def complete(self, request, queryset):
        done = 0
        for dsr in queryset.filter(status__in=["received", "in_progress"]):
            try:
                services.complete_by_hand(dsr, by=request.user)
            except services.PrivacyError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)s request completed; the person has been told.",
                    "%(n)s requests completed; each person has been told.",
                    done,
                )
                % {"n": done},
                messages.SUCCESS,
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    # old_value and new_value (a correction's) show on the event's own page
    # only, never in the list.
    list_display = ("created_at", "actor", "action", "subject", "request", "detail")
    list_filter = ("action",)
    list_select_related = ("actor", "request")
    search_fields = ("subject",)


class WithholdingFilter(admin.SimpleListFilter):
    title = _("withheld from the person")
    parameter_name = "withholding"

    def lookups(self, request, model_admin):
        return (
            ("awaiting", _("Awaiting second approver")),
            ("withheld", _("Withheld")),
        )

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(
                withhold_requested_at__isnull=False, withheld_at__isnull=True
            )
        if self.value() == "withheld":
            return queryset.filter(withheld_at__isnull=False)
        return queryset


AWAITING_SECOND_APPROVER = _(
    "Withholding this disclosure is now awaiting a second approver. Until "
    "another data-protection lead approves it, the people concerned can see it."
)


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    """Record a disclosure (append-only: never edited or deleted). Withholding
    it from the person is asked for when recording and takes effect only when
    a second data-protection lead approves (privacy/disclosures.py)."""

    form = DisclosureAdminForm
    list_display = (
        "disclosed_at",
        "recipient",
        "recipient_kind",
        "fields",
        "person",
        "report_reference",
        "withholding",
    )
    list_filter = (WithholdingFilter, "recipient_kind", "lawful_basis")
    search_fields = ("person__email", "recipient", "reference", "report_reference")
    list_select_related = ("person",)
    autocomplete_fields = ("people",)
    actions = (
        "ask_to_withhold",
        "approve_withholding",
        "reject_withholding",
        "lift_withholding",
    )
    add_fieldsets = (
        (
            None,
            {
                "fields": (
                    "recipient",
                    "recipient_kind",
                    "lawful_basis",
                    "fields",
                    "purpose",
                    "people",
                    "report_reference",
                )
            },
        ),
        (
            _("Withhold from the person (needs a second person's approval)"),
            {"fields": ("withhold_exemption", "withhold_reason")},
        ),
    )

    class Media:
        css = {"all": ("css/admin.css",)}

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [f.name for f in Disclosure._meta.fields] + ["people"]

    @admin.display(description=_("withheld"))
    def withholding(self, obj):
        if obj.is_withheld:
            return _("Withheld (%(exemption)s)") % {
                "exemption": obj.get_withhold_exemption_display()
            }
        if obj.awaiting_second_approver:
            return _("Awaiting second approver: asked for by %(who)s on %(when)s") % {
                "who": asked_by(obj.withhold_requested_by),
                "when": when(obj.withhold_requested_at),
            }
        return "-"

    def has_add_permission(self, request):
        return request.user.has_perm(disclosures.RECORD_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_withhold_permission(self, request):
        return request.user.has_perm(disclosures.RECORD_PERMISSION)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        disclosure = disclosures.record_disclosure(
            recipient=data["recipient"],
            recipient_kind=data["recipient_kind"],
            lawful_basis=data["lawful_basis"],
            fields=data["fields"],
            purpose=data["purpose"],
            people=data["people"],
            report_reference=data.get("report_reference", ""),
            withhold_exemption=data.get("withhold_exemption", ""),
            withhold_reason=data.get("withhold_reason", ""),
            by=request.user,
        )
        obj.pk = disclosure.pk
        obj.disclosed_at = disclosure.disclosed_at
        obj._state.adding = False
        if disclosure.awaiting_second_approver:
            self.message_user(
                request,
                AWAITING_SECOND_APPROVER,
                messages.WARNING,
            )

    def save_related(self, request, form, formsets, change):
        """The people were set by `record_disclosure`."""

    def _one(self, request, queryset):
        disclosure = queryset.first() if queryset.count() == 1 else None
        if disclosure is None:
            self.message_user(
                request, _("Choose exactly one disclosure."), messages.ERROR
            )
        return disclosure

    @admin.action(
        description=_(
            "Ask to withhold from the people concerned (needs a second approver)"
        ),
        permissions=["withhold"],
    )
    def ask_to_withhold(self, request, queryset):
        """For a disclosure already recorded: the exemption and the reason are
        asked for on a page of their own; a second lead then approves."""
        disclosure = self._one(request, queryset)
        if disclosure is None:
            return None
        form = WithholdForm(request.POST if request.POST.get("confirm") else None)
        if form.is_valid():
            try:
                disclosures.request_withholding(
                    disclosure,
                    exemption=form.cleaned_data["withhold_exemption"],
                    reason=form.cleaned_data["withhold_reason"],
                    by=request.user,
                )
            except services.PrivacyError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(
                request,
                AWAITING_SECOND_APPROVER,
                messages.WARNING,
            )
            return None
        return TemplateResponse(
            request,
            "admin/privacy/disclosure/ask_to_withhold.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Withhold this disclosure from the people concerned?"),
                "disclosure": disclosure,
                "form": form,
                "queryset": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description=_("Approve withholding (second approver)"),
        permissions=["withhold"],
    )
    def approve_withholding(self, request, queryset):
        disclosure = self._one(request, queryset)
        if disclosure is None:
            return
        try:
            asker = disclosures.approve_withholding(disclosure, by=request.user)
        except services.PrivacyError as exc:
            self.message_user(
                request,
                _("Nothing was withheld. %(problem)s") % {"problem": exc},
                messages.ERROR,
            )
            return
        self.message_user(
            request,
            _(
                "The disclosure is now withheld from the people concerned: asked "
                "for by %(who)s, approved by you."
            )
            % {"who": asker},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Reject or cancel a pending withholding"),
        permissions=["withhold"],
    )
    def reject_withholding(self, request, queryset):
        disclosure = self._one(request, queryset)
        if disclosure is None:
            return None
        if not disclosure.awaiting_second_approver:
            self.message_user(
                request,
                _("This disclosure is not awaiting a second approver."),
                messages.ERROR,
            )
            return None
        return refusal_step(
            self,
            request,
            queryset,
            action_name="reject_withholding",
            title=_("Reject or cancel withholding this disclosure?"),
            pending_text=_(
                "%(who)s asked on %(when)s for this disclosure to be withheld "
                "from the people concerned."
            )
            % {
                "who": asked_by(disclosure.withhold_requested_by),
                "when": when(disclosure.withhold_requested_at),
            },
            reject=lambda reason: disclosures.reject_withholding(
                disclosure, by=request.user, reason=reason
            ),
            error=services.PrivacyError,
            done=lambda outcome: (
                _(
                    "Withholding was %(outcome)s: the people concerned can see "
                    "this disclosure. The reason is recorded on it."
                )
                % {"outcome": outcome}
            ),
        )

    @admin.action(description=_("Lift withholding"), permissions=["withhold"])
    def lift_withholding(self, request, queryset):
        disclosure = self._one(request, queryset)
        if disclosure is None:
            return
        try:
            disclosures.lift_withholding(disclosure, by=request.user)
        except services.PrivacyError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request,
            _("The people concerned can now see this disclosure."),
            messages.SUCCESS,
        )


@admin.register(Transmission)
class TransmissionAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "request",
        "recipient_name",
        "recipient_email",
        "sent_at",
        "expires_at",
        "downloaded_at",
    )
    list_select_related = ("request",)
    exclude = ("token_hash", "file")


@admin.register(TransmissionMail)
class TransmissionMailAdmin(SendAgainMixin, admin.ModelAdmin):
    send_again_service = disclosures.send_transmission_mail_again
    list_display = (
        "created_at",
        "to",
        "status",
        "attempts",
        "last_error",
        "retry_until",
        "sent_at",
    )
    list_filter = ("status",)
    actions = ("send_again",)
    search_fields = ("to", "key")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in TransmissionMail._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ("ran_at", "category", "removed")
