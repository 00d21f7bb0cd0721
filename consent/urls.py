from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("privacy/", views.privacy_notice_view, name="privacy"),
    path(
        "privacy/versions/<int:version_id>/",
        views.privacy_notice_view,
        name="privacy_version",
    ),
    path("cookies/", views.cookies_view, name="cookies"),
    path(
        "cookies/versions/<int:version_id>/", views.cookies_view, name="cookies_version"
    ),
    path("preferences/", views.preferences_view, name="preferences"),
    path("contact/", views.contact_view, name="contact"),
]
