"""People and organisations in the back office.

Deactivating a staff or superuser account needs four eyes
(accounts/four_eyes.py): a superuser unticks Active on the account's page, or
one person with the permission to change accounts chooses "Ask a second
approver to deactivate" and a different one "Approve deactivation (second
approver)"; "Reject or cancel a pending deactivation" withdraws it with a
reason. Every step is in the audit trail.

Closing an account (accounts/services/closure.py) is the data-protection
lead's: "Close account after notice" asks for the reason, which the person is
emailed; the account closes after ACCOUNT_CLOSURE_NOTICE_DAYS. "Withdraw a
scheduled closure" and "Reopen closed account" undo it, each telling the
person."""

from allauth.socialaccount.models import SocialApp, SocialToken
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin

from privacy.imports import SourceImportMixin

from . import services
from .forms import ClosureReasonForm
from .four_eyes import may_act_alone_on
from .four_eyes_admin import asked_by, refusal_step, when
from .imports import PersonResource
from .models import Membership, Organisation, Profile, User
from .services.closure import CLOSE_PERMISSION


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    # Equality data is deliberately absent: it is seen only by the person and,
    # in aggregate, by reports.
    fields = (
        "organisation",
        "job_title",
        "phone",
        "address_line_1",
        "address_line_2",
        "town",
        "postcode",
    )
    autocomplete_fields = ("organisation",)


class DeactivationFilter(admin.SimpleListFilter):
    title = _("second approver")
    parameter_name = "second_approver"

    def lookups(self, request, model_admin):
        return (("awaiting", _("Deactivation awaiting second approver")),)

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(deactivation_requested_at__isnull=False)
        return queryset


@admin.register(User)
class UserAdmin(SourceImportMixin, ImportMixin, BaseUserAdmin):
    resource_classes = [PersonResource]
    inlines = (ProfileInline,)
    ordering = ("email",)
    list_display = (
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "date_joined",
        "second_approver",
    )
    list_select_related = ("deactivation_requested_by",)
    list_filter = (
        DeactivationFilter,
        "is_staff",
        "is_superuser",
        "is_active",
        "groups",
    )
    actions = (
        "request_deactivation",
        "approve_deactivation",
        "reject_deactivation",
        "schedule_closure",
        "cancel_closure",
        "reopen",
    )
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (
            _("Data protection"),
            {
                "fields": (
                    "processing_restricted",
                    "objects_to_direct_marketing",
                    "erased_at",
                    "closed_at",
                    "closure",
                )
            },
        ),
        (
            _("Deactivation (second approver)"),
            {
                "fields": (
                    "deactivation_requested_by",
                    "deactivation_requested_at",
                    "deactivation_refusal_reason",
                )
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),
    )
    # Only superusers grant roles or set passwords: a role that may change
    # people's records must not be able to promote itself or take over accounts.
    PRIVILEGED = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        fields = (*fields, "closed_at", "closure")
        if obj is not None and obj.closed_at is not None:
            # A closed account opens again only through "Reopen closed
            # account", which tells the person and records it.
            fields = (*fields, "is_active")
        if obj is not None and not may_act_alone_on(obj, by=request.user):
            # Only a superuser deactivates a staff or superuser account alone,
            # and not their own; anyone else asks for a second approver.
            fields = (*fields, "is_active")
        if request.user.is_superuser:
            return fields
        return (*fields, *self.PRIVILEGED, "password", "email")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            services.record_activity_change(obj, by=request.user)

    @admin.display(description=_("second approver"))
    def second_approver(self, obj):
        if not obj.deactivation_pending:
            return "-"
        return _(
            "Deactivation awaiting second approver: asked for by %(who)s on %(when)s"
        ) % {
            "who": obj.deactivation_requested_by or _("someone no longer on record"),
            "when": when(obj.deactivation_requested_at),
        }

    @admin.display(description=_("closure"))
    def closure(self, obj):
        closure = obj.closures.first() if obj.pk else None
        if closure is None:
            return "-"
        if closure.state == "scheduled":
            return _("Closes on %(when)s (the person was told the reason)") % {
                "when": when(closure.takes_effect_at)
            }
        if closure.state == "closed":
            return _("Closed on %(when)s%(by)s") % {
                "when": when(closure.closed_at),
                "by": _(" by our staff")
                if closure.by_staff
                else _(" at their request"),
            }
        if closure.state == "withdrawn":
            return _("A closure was withdrawn on %(when)s") % {
                "when": when(closure.cancelled_at)
            }
        return _("Reopened on %(when)s") % {"when": when(closure.reopened_at)}

    def has_close_accounts_permission(self, request):
        return request.user.has_perm(CLOSE_PERMISSION)

    @admin.action(
        description=_("Close account after notice (give the reason)"),
        permissions=["close_accounts"],
    )
    def schedule_closure(self, request, queryset):
        person = self._one(request, queryset)
        if person is None:
            return None
        form = ClosureReasonForm(request.POST if request.POST.get("confirm") else None)
        if form.is_valid():
            try:
                closure = services.schedule_account_closure(
                    person, reason=form.cleaned_data["reason"], by=request.user
                )
            except services.AccountsError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(
                request,
                _(
                    "%(person)s is being told the reason by email. The account "
                    "closes on %(when)s unless you withdraw the closure."
                )
                % {"person": person, "when": when(closure.takes_effect_at)},
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Close this account after notice?"),
                "intro": [
                    _(
                        "%(person)s is emailed the reason now. The account closes "
                        "%(days)s days later: sign-in stops, marketing stops and "
                        "future places pass to the next person waiting. Training "
                        "records and transactions are kept."
                    )
                    % {"person": person, "days": settings.ACCOUNT_CLOSURE_NOTICE_DAYS}
                ],
                "form": form,
                "submit_label": _("Send the notice"),
                "queryset": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "action_name": "schedule_closure",
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description=_("Withdraw a scheduled closure"), permissions=["close_accounts"]
    )
    def cancel_closure(self, request, queryset):
        person = self._one(request, queryset)
        if person is None:
            return
        try:
            services.cancel_scheduled_closure(person, by=request.user)
        except services.AccountsError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request,
            _("The closure is withdrawn; %(person)s is being told.")
            % {"person": person},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Reopen closed account (at the person's request)"),
        permissions=["close_accounts"],
    )
    def reopen(self, request, queryset):
        person = self._one(request, queryset)
        if person is None:
            return
        try:
            services.reopen_account(person, by=request.user)
        except services.AccountsError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request,
            _("%(person)s's account is open again; they are being told.")
            % {"person": person},
            messages.SUCCESS,
        )

    def _one(self, request, queryset):
        user = queryset.first() if queryset.count() == 1 else None
        if user is None:
            self.message_user(request, _("Choose exactly one account."), messages.ERROR)
        return user

    @admin.action(
        description=_("Ask a second approver to deactivate"), permissions=["change"]
    )
    def request_deactivation(self, request, queryset):
        person = self._one(request, queryset)
        if person is None:
            return
        try:
            services.request_deactivation(person, by=request.user)
        except services.AccountsError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        who = (
            _("A superuser")
            if person.is_superuser and not request.user.is_superuser
            else _("Another person who manages accounts, or a superuser")
        )
        self.message_user(
            request,
            _(
                "Deactivation of %(person)s is now awaiting a second approver. "
                "The account is still active. %(who)s (not you, and not the "
                "account's owner) must choose “Approve deactivation (second "
                "approver)”."
            )
            % {"person": person.email, "who": who},
            messages.WARNING,
        )

    @admin.action(
        description=_("Approve deactivation (second approver)"),
        permissions=["change"],
    )
    def approve_deactivation(self, request, queryset):
        person = self._one(request, queryset)
        if person is None:
            return
        try:
            requester = services.approve_deactivation(person, by=request.user)
        except services.AccountsError as exc:
            self.message_user(
                request,
                _("The account is still active. %(problem)s") % {"problem": exc},
                messages.ERROR,
            )
            return
        self.message_user(
            request,
            _(
                "The account %(person)s is deactivated: asked for by %(who)s, "
                "approved by you. Nothing more is needed; a superuser can "
                "reactivate it."
            )
            % {"person": person.email, "who": requester},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Reject or cancel a pending deactivation"),
        permissions=["change"],
    )
    def reject_deactivation(self, request, queryset):
        person = self._one(request, queryset)
        if person is None:
            return None
        if not person.deactivation_pending:
            self.message_user(
                request,
                _("Nobody has asked for %(person)s to be deactivated.")
                % {"person": person.email},
                messages.ERROR,
            )
            return None
        return refusal_step(
            self,
            request,
            queryset,
            action_name="reject_deactivation",
            title=_("Reject or cancel this deactivation?"),
            pending_text=_(
                "%(who)s asked on %(when)s for a second approver to "
                "deactivate %(person)s."
            )
            % {
                "who": asked_by(person.deactivation_requested_by),
                "when": when(person.deactivation_requested_at),
                "person": person.email,
            },
            reject=lambda reason: services.reject_deactivation(
                person, by=request.user, reason=reason
            ),
            error=services.AccountsError,
            done=lambda outcome: (
                _(
                    "The deactivation of %(person)s was %(outcome)s; the account "
                    "is still active and no longer awaits a second approver. The "
                    "reason is recorded on the account."
                )
                % {"person": person.email, "outcome": outcome}
            ),
        )

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    readonly_fields = (
        "last_login",
        "date_joined",
        "processing_restricted",
        "objects_to_direct_marketing",
        "erased_at",
        "import_source",
        "imported_at",
        "deactivation_requested_by",
        "deactivation_requested_at",
        "deactivation_refusal_reason",
    )


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("person",)
    fields = (
        "person",
        "status",
        "is_booker",
        "is_approver",
        "is_finance_contact",
        "confirmed_at",
        "confirmed_by",
    )
    readonly_fields = ("confirmed_at", "confirmed_by")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "area",
        "bookings_need_approval",
        "pays_on_account",
        "created_at",
    )
    list_filter = ("kind", "area", "bookings_need_approval", "pays_on_account")
    search_fields = ("name", "area", "email_domain")
    fieldsets = (
        (None, {"fields": ("name", "kind", "area", "email_domain")}),
        (
            _("Bookings and payment"),
            {
                "fields": (
                    "bookings_need_approval",
                    "approval_hold_days",
                    "pays_on_account",
                    "purchase_order",
                )
            },
        ),
    )
    inlines = (MembershipInline,)

    def save_formset(self, request, form, formset, change):
        # A membership confirmed here records who confirmed it and when.
        for membership in formset.save(commit=False):
            if membership.confirmed and membership.confirmed_at is None:
                membership.confirmed_at = timezone.now()
                membership.confirmed_by = request.user
            membership.save()
        for gone in formset.deleted_objects:
            gone.delete()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = (
        "person",
        "organisation",
        "status",
        "is_booker",
        "is_approver",
        "is_finance_contact",
        "requested_at",
    )
    list_filter = ("status", "is_booker", "is_approver", "is_finance_contact")
    search_fields = ("person__email", "person__last_name", "organisation__name")
    autocomplete_fields = ("person", "organisation")
    readonly_fields = ("requested_at", "confirmed_at", "confirmed_by")
    actions = ("confirm_selected",)

    # A member joining or leaving changes how many reserved places are left:
    # every write of a membership says so (accounts.signals.members_changed).

    @admin.action(
        description=_("Confirm the selected memberships"),
        permissions=["change"],
    )
    def confirm_selected(self, request, queryset):
        confirmed = 0
        for membership in queryset:
            try:
                services.confirm_membership(membership, by=request.user)
            except services.AccountsError as exc:
                self.message_user(
                    request, f"{membership}: {exc}", level=messages.WARNING
                )
            else:
                confirmed += 1
        if confirmed:
            self.message_user(
                request,
                _("%(n)d membership(s) confirmed.") % {"n": confirmed},
                level=messages.SUCCESS,
            )


# Single sign-on providers are configured only from the environment
# (OIDC_PROVIDERS, config/sso.py): allauth would also use any provider added
# as a row here, unseen by whoever reads the configuration. Its tokens are
# never stored (SOCIALACCOUNT_STORE_TOKENS), so there is nothing to list.
# Linked accounts (SocialAccount) stay visible to those allowed to see them.
admin.site.unregister(SocialApp)
admin.site.unregister(SocialToken)
