from django.urls import path, register_converter

from . import views


class InvoiceNumberConverter:
    """INV-000123 or CN-000007: anything else is not found before any lookup."""

    regex = r"(?:INV|CN)-[0-9]{6,9}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(InvoiceNumberConverter, "invoice_number")

app_name = "organisations"

urlpatterns = [
    path("organisation/", views.index_view, name="index"),
    path("organisation/<int:org_id>/", views.detail_view, name="detail"),
    path(
        "organisation/<int:org_id>/book/<int:session_id>/",
        views.book_view,
        name="book",
    ),
    path(
        "organisation/<int:org_id>/bookings/<int:booking_id>/swap/",
        views.swap_view,
        name="swap",
    ),
    path(
        "organisation/<int:org_id>/bookings/<int:booking_id>/cancel/",
        views.cancel_view,
        name="cancel",
    ),
    path(
        "organisation/<int:org_id>/approvals/<int:booking_id>/",
        views.approval_view,
        name="approval",
    ),
    path(
        "organisation/<int:org_id>/members/<int:membership_id>/",
        views.membership_view,
        name="membership",
    ),
    path(
        "organisation/<int:org_id>/funding/<int:request_id>/",
        views.funding_support_view,
        name="funding_support",
    ),
    path(
        "organisation/<int:org_id>/account/",
        views.account_view,
        name="account",
    ),
    path(
        "organisation/<int:org_id>/account/pay-by-card/",
        views.pay_by_card_view,
        name="pay_by_card",
    ),
    path(
        "organisation/<int:org_id>/invoices/<invoice_number:number>/",
        views.invoice_view,
        name="invoice",
    ),
    path(
        "organisation/<int:org_id>/invoices/<invoice_number:number>.pdf",
        views.invoice_pdf_view,
        name="invoice_pdf",
    ),
    path(
        "organisation/<int:org_id>/account/receipts/<int:transaction_id>/",
        views.receipt_view,
        name="receipt",
    ),
    path(
        "organisation/<int:org_id>/account/receipts/<int:transaction_id>.pdf",
        views.receipt_pdf_view,
        name="receipt_pdf",
    ),
]
