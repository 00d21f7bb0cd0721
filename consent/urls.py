from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("privacy/", views.privacy_notice_view, name="privacy"),
    path("cookies/", views.cookies_view, name="cookies"),
]
