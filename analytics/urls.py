from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("staff/analytics/", views.dashboard_view, name="dashboard"),
    path("analytics/beacon/", views.beacon_view, name="beacon"),
]
