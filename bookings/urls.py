from django.urls import path

from . import views

app_name = "bookings"

urlpatterns = [
    path("sessions/<int:session_id>/book/", views.session_book_view, name="book"),
    path("bookings/", views.booking_list_view, name="list"),
    path("bookings/<int:booking_id>/cancel/", views.booking_cancel_view, name="cancel"),
    path(
        "bookings/<int:booking_id>/calendar.ics",
        views.booking_calendar_view,
        name="calendar",
    ),
    path("training-record/", views.training_record_view, name="training_record"),
    path("transactions/", views.transaction_list_view, name="transactions"),
]
