from django.urls import path

from . import views

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
]
