"""Organisation invoices in the back office: read-only documents (an issued
invoice is never edited or deleted: a credit note corrects it), and two small
pages, "Raise invoices for a period" and "Record a payment", that call the
services. Each page asks for its own permission (`raise_invoices`,
`record_payment`, held by the funding officers' role)."""

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
from .forms import RaiseInvoicesForm, RecordPaymentForm
from .models import Invoice, InvoiceLine
from .pdf import render_invoice_pdf


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ("description", "attendee_name", "purchase_order", "amount", "ledger")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=gettext_lazy("ledger row"))
    def ledger(self, line: InvoiceLine) -> str:
        row = line.transaction
        return f"{row.get_kind_display()} {row.created_at:%Y-%m-%d} (#{row.pk})"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "kind",
        "organisation_name",
        "period_start",
        "period_end",
        "purchase_order",
        "total",
        "issued_at",
    )
    list_filter = ("kind", "issued_at")
    list_select_related = ("organisation",)
    search_fields = ("number", "organisation_name", "purchase_order")
    fields = (
        "number",
        "kind",
        "organisation",
        "organisation_name",
        "period_start",
        "period_end",
        "purchase_order",
        "credits_invoice",
        "vat_rate",
        "net_total",
        "vat_amount",
        "total",
        "issued_at",
        "issued_by",
        "pdf",
    )
    readonly_fields = fields
    inlines = (InvoiceLineInline,)
    change_list_template = "admin/organisations/invoice/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("document"))
    def pdf(self, invoice: Invoice) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:organisations_invoice_pdf", args=[invoice.pk]),
            _("Download %(file)s") % {"file": invoice.filename},
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "raise/",
                wrap(self.raise_invoices_view),
                name="organisations_invoice_raise",
            ),
            path(
                "payment/",
                wrap(idempotent(self.record_payment_view)),
                name="organisations_invoice_payment",
            ),
            path(
                "<int:pk>/pdf/",
                wrap(self.pdf_view),
                name="organisations_invoice_pdf",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_raise": request.user.has_perm("organisations.raise_invoices"),
            "can_record_payment": request.user.has_perm("organisations.record_payment"),
        }
        return super().changelist_view(request, extra_context)

    def _page(self, request, form, *, title: str, submit: str) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/form_page.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "form": form,
                "submit": submit,
            },
        )

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(
            Invoice.objects.select_related("credits_invoice"), pk=pk
        )
        response = HttpResponse(
            render_invoice_pdf(invoice), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'attachment; filename="{invoice.filename}"'
        response["Cache-Control"] = "private, no-store"
        return response

    def raise_invoices_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("organisations.raise_invoices"):
            raise PermissionDenied
        form = RaiseInvoicesForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                issued = services.raise_invoices(
                    data["period_start"],
                    data["period_end"],
                    by=request.user,
                    organisations=[data["organisation"]]
                    if data["organisation"]
                    else None,
                    vat_rate=data["vat_rate"],
                )
            except services.OrganisationsError as exc:
                form.add_error(None, str(exc))
            else:
                if issued:
                    self.message_user(
                        request,
                        _("Issued %(n)d: %(numbers)s.")
                        % {
                            "n": len(issued),
                            "numbers": ", ".join(i.number for i in issued),
                        },
                        messages.SUCCESS,
                    )
                else:
                    self.message_user(
                        request,
                        _(
                            "Nothing to invoice: every charge and refund in that "
                            "period is already on an invoice or credit note."
                        ),
                        messages.INFO,
                    )
                return redirect(reverse("admin:organisations_invoice_changelist"))
        return self._page(
            request,
            form,
            title=_("Raise invoices for a period"),
            submit=_("Raise invoices"),
        )

    def record_payment_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("organisations.record_payment"):
            raise PermissionDenied
        form = RecordPaymentForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.record_payment(
                    data["organisation"],
                    amount=data["amount"],
                    reference=data["reference"],
                    by=request.user,
                )
            except services.OrganisationsError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    _("Recorded £%(amount)s from %(org)s.")
                    % {"amount": data["amount"], "org": data["organisation"]},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:organisations_invoice_changelist"))
        return self._page(
            request,
            form,
            title=_("Record a payment from an organisation"),
            submit=_("Record the payment"),
        )
