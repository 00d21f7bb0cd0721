from django.urls import path

from . import views

app_name = "reports"

# Under /staff/ so that two-factor authentication applies (accounts.middleware).
urlpatterns = [
    path("staff/reports/", views.report_list_view, name="index"),
    path("staff/reports/bookings/", views.bookings_report_view, name="bookings"),
    path("staff/reports/fill/", views.fill_report_view, name="fill"),
    path("staff/reports/funding/", views.funding_report_view, name="funding"),
    path("staff/reports/workforce/", views.workforce_report_view, name="workforce"),
]
