"""Payments in the back office: payment references and bank statements are
read-only records; two pages act through the services. Card payments
and refunds are Stripe's answers, shown read-only; a refund that Stripe has
not confirmed can be asked about again (the sweep does it every 10 minutes
too). "Upload a bank
statement" asks for `payments.upload_statement`, and "Decide" on a waiting
line for `payments.resolve_statement_line` (both held by the funding
officers' role, who already record organisations' payments)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.idempotency import idempotent

from . import services
from .forms import ResolveLineForm, StatementUploadForm
from .models import (
    BankStatement,
    CardPayment,
    CardRefund,
    PaymentReference,
    StatementLine,
)
from .statements import StatementError, parse_csv, parse_mt940


class ReadOnly(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentReference)
class PaymentReferenceAdmin(ReadOnly):
    list_display = ("code", "person", "organisation", "created_at")
    list_select_related = ("person", "organisation")
    search_fields = ("code", "person__email", "organisation__name")
    fields = list_display


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StatementLineInline(ReadOnlyInline):
    model = StatementLine
    fields = ("booked_on", "amount", "description", "status", "reference", "overpaid")
    show_change_link = True


@admin.register(BankStatement)
class BankStatementAdmin(ReadOnly):
    list_display = (
        "filename",
        "format",
        "account",
        "uploaded_at",
        "uploaded_by",
        "lines_read",
        "lines_new",
    )
    list_select_related = ("uploaded_by",)
    fields = list_display
    inlines = (StatementLineInline,)
    change_list_template = "admin/payments/bankstatement/change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "upload/",
                wrap(idempotent(self.upload_view)),
                name="payments_bankstatement_upload",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_upload": request.user.has_perm("payments.upload_statement"),
        }
        return super().changelist_view(request, extra_context)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("payments.upload_statement"):
            raise PermissionDenied
        posted = request.method == "POST"
        form = StatementUploadForm(
            request.POST if posted else None, request.FILES if posted else None
        )
        if posted and form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            upload.seek(0)
            raw = upload.read()
            try:
                if data["format"] == BankStatement.Format.MT940:
                    parsed = parse_mt940(raw)
                else:
                    parsed = parse_csv(
                        raw,
                        date_column=data["date_column"].strip(),
                        amount_column=data["amount_column"].strip(),
                        description_column=data["description_column"].strip(),
                        bank_id_column=data["bank_id_column"].strip(),
                        account=data["account"],
                    )
            except StatementError as exc:
                form.add_error(None, str(exc))
            else:
                statement, counts = services.upload_statement(
                    parsed, filename=upload.name, format=data["format"], by=request.user
                )
                self.message_user(
                    request,
                    _(
                        "Read %(read)d lines: %(matched)d matched, %(waiting)d "
                        "waiting for a person, %(out)d money out, %(repeated)d "
                        "already uploaded before (left alone)."
                    )
                    % {
                        "read": statement.lines_read,
                        "matched": counts[StatementLine.Status.MATCHED],
                        "waiting": counts[StatementLine.Status.WAITING],
                        "out": counts[StatementLine.Status.MONEY_OUT],
                        "repeated": counts["repeated"],
                    },
                    messages.SUCCESS,
                )
                return redirect(
                    reverse("admin:payments_bankstatement_change", args=[statement.pk])
                )
        return TemplateResponse(
            request,
            "admin/form_page.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Upload a bank statement"),
                "form": form,
                "submit": _("Upload and match"),
                "multipart": True,
            },
        )


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnly):
    list_display = (
        "booked_on",
        "amount",
        "status",
        "waiting_because",
        "reference",
        "overpaid",
        "description",
        "decide",
    )
    list_filter = ("status", "waiting_because", "overpaid")
    list_select_related = ("reference",)
    search_fields = ("description", "reference__code", "bank_id")
    fields = (
        "statement",
        "booked_on",
        "amount",
        "description",
        "bank_id",
        "status",
        "waiting_because",
        "reference",
        "transaction",
        "overpaid",
        "note",
        "decided_by",
        "decided_at",
        "fingerprint",
        "decide",
    )

    @admin.display(description=gettext_lazy("decide"))
    def decide(self, line: StatementLine) -> str:
        if line.status != StatementLine.Status.WAITING:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:payments_statementline_resolve", args=[line.pk]),
            _("Decide"),
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/resolve/",
                wrap(idempotent(self.resolve_view)),
                name="payments_statementline_resolve",
            ),
            *super().get_urls(),
        ]

    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("payments.resolve_statement_line"):
            raise PermissionDenied
        line = get_object_or_404(StatementLine, pk=pk)
        form = ResolveLineForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["decision"] == "pay":
                    line = services.resolve_statement_line(
                        line,
                        person=data["person"],
                        organisation=data["payer_organisation"],
                        note=data["reason"],
                        by=request.user,
                    )
                    text = _("Recorded £%(amount)s from %(payer)s.") % {
                        "amount": line.amount,
                        "payer": line.reference.payer,
                    }
                    if line.overpaid:
                        text += " " + _("The payer is now in credit: check it.")
                else:
                    services.ignore_statement_line(
                        line, reason=data["reason"], by=request.user
                    )
                    text = _("The line is marked as not ours.")
            except services.PaymentsError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, text, messages.SUCCESS)
                return redirect(
                    reverse("admin:payments_statementline_changelist")
                    + "?status__exact=waiting"
                )
        return TemplateResponse(
            request,
            "admin/form_page.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Decide who this payment is from"),
                "form": form,
                "line": line,
                "submit": _("Save the decision"),
            },
        )


class CardRefundInline(ReadOnlyInline):
    model = CardRefund
    fields = ("created_at", "amount", "status", "stripe_refund_id", "last_error")


@admin.register(CardPayment)
class CardPaymentAdmin(ReadOnly):
    list_display = ("created_at", "reference", "amount", "status", "payment_intent_id")
    list_filter = ("status",)
    list_select_related = ("reference",)
    search_fields = (
        "reference__code",
        "reference__person__email",
        "reference__organisation__name",
        "checkout_session_id",
        "payment_intent_id",
    )
    date_hierarchy = "created_at"
    fields = (
        "reference",
        "started_by",
        "amount",
        "status",
        "checkout_session_id",
        "payment_intent_id",
        "transaction",
        "created_at",
        "completed_at",
    )
    inlines = [CardRefundInline]


@admin.register(CardRefund)
class CardRefundAdmin(ReadOnly):
    list_display = (
        "created_at",
        "card_payment",
        "amount",
        "status",
        "attempts",
        "last_error",
    )
    list_filter = ("status",)
    list_select_related = ("card_payment",)
    search_fields = ("stripe_refund_id", "card_payment__reference__code")
    fields = (
        "card_payment",
        "amount",
        "status",
        "stripe_refund_id",
        "transaction",
        "attempts",
        "last_error",
        "created_at",
        "confirmed_at",
    )
    actions = ["ask_stripe_again"]

    @admin.action(
        description=gettext_lazy("Ask Stripe again about the selected refunds"),
        permissions=["view"],
    )
    def ask_stripe_again(self, request: HttpRequest, queryset) -> None:
        done = 0
        for refund in queryset.filter(status=CardRefund.Status.PENDING):
            if services.send_card_refund(refund).status != CardRefund.Status.PENDING:
                done += 1
        self.message_user(
            request,
            _("%(done)s of the selected refunds are now settled.") % {"done": done},
            messages.SUCCESS,
        )
