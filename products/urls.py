from django.urls import path

from . import views

app_name = "products"

urlpatterns = [
    path("services/", views.product_list_view, name="list"),
    path(
        "services/purchases/<int:purchase_id>/",
        views.purchase_detail_view,
        name="purchase",
    ),
    path("services/<slug:slug>/", views.product_detail_view, name="detail"),
]
