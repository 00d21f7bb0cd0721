from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path(
        "transactions/<int:transaction_id>/receipt/",
        views.receipt_view,
        name="receipt",
    ),
    path(
        "transactions/<int:transaction_id>/receipt.pdf",
        views.receipt_pdf_view,
        name="receipt_pdf",
    ),
]
