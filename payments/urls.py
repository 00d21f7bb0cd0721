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
    path("payments/card/", views.pay_by_card_view, name="pay_card"),
    path("payments/card/<int:pk>/", views.card_payment_view, name="card_payment"),
    path("payments/card/<int:pk>/go/", views.card_go_view, name="card_go"),
    path(
        "payments/card/<int:pk>/cancelled/",
        views.card_cancelled_view,
        name="card_cancelled",
    ),
    path("payments/stripe/webhook/", views.stripe_webhook_view, name="stripe_webhook"),
]
