from django.urls import path

from . import staff_views, views

app_name = "bookings"

urlpatterns = [
    path("sessions/<int:session_id>/book/", views.session_book_view, name="book"),
    path("bookings/", views.booking_list_view, name="list"),
    path("bookings/<int:booking_id>/", views.booking_detail_view, name="detail"),
    path("bookings/<int:booking_id>/cancel/", views.booking_cancel_view, name="cancel"),
    path(
        "bookings/<int:booking_id>/calendar.ics",
        views.booking_calendar_view,
        name="calendar",
    ),
    path("bookings/<int:booking_id>/accept/", views.booking_accept_view, name="accept"),
    path(
        "bookings/<int:booking_id>/evaluate/",
        views.booking_evaluate_view,
        name="evaluate",
    ),
    path("training-record/", views.training_record_view, name="training_record"),
    path(
        "training-record/export.csv",
        views.training_record_csv_view,
        name="training_record_csv",
    ),
    path(
        "training-record/certificates/<int:booking_id>/",
        views.certificate_view,
        name="certificate",
    ),
    path(
        "training-record/evidence/<int:pk>/",
        views.evidence_download_view,
        name="evidence",
    ),
    path(
        "certificates/<str:code>/",
        views.certificate_verify_view,
        name="certificate_verify",
    ),
    path("transactions/", views.transaction_list_view, name="transactions"),
    # Staff: the home page of every back-office role
    path("staff/", staff_views.staff_home_view, name="staff_home"),
    # Booking administrators
    path(
        "staff/sessions/<int:session_id>/",
        staff_views.session_register_view,
        name="register",
    ),
    path(
        "staff/sessions/<int:session_id>/attendees.csv",
        staff_views.session_attendees_csv_view,
        name="attendees_csv",
    ),
    path(
        "staff/sessions/<int:session_id>/sign-in-sheet.pdf",
        staff_views.session_sign_in_sheet_view,
        name="sign_in_sheet",
    ),
    path(
        "staff/sessions/<int:session_id>/provider.csv",
        staff_views.session_provider_csv_view,
        name="provider_csv",
    ),
    path(
        "staff/sessions/<int:session_id>/cancel/",
        staff_views.session_cancel_view,
        name="session_cancel",
    ),
    path(
        "staff/sessions/<int:session_id>/run-anyway/",
        staff_views.session_waive_minimum_view,
        name="waive_minimum",
    ),
    path(
        "staff/sessions/<int:session_id>/email/",
        staff_views.session_email_view,
        name="session_email",
    ),
    path(
        "staff/sessions/<int:session_id>/evaluations/",
        staff_views.session_evaluations_view,
        name="evaluations",
    ),
    path(
        "staff/bookings/<int:booking_id>/move/",
        staff_views.booking_move_view,
        name="move",
    ),
]
