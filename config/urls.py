from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from . import views

# The back office signs in through allauth, so two-factor authentication applies.
admin.site.login = login_required(admin.site.login)
admin.site.site_header = "CPD Booking back office"
admin.site.site_title = "CPD Booking back office"

# A database outage is a 503 with Retry-After, wherever it is raised.
handler500 = "config.views.server_error_view"

# Django tries these in order, and the apps mounted at "" one pattern at a
# time: the pages asked for most (home, catalogue, course pages, booking) come
# first, which saved about a hundred pattern matches per catalogue request. No
# pattern can hide another (tests/config/test_url_order.py).
urlpatterns = [
    path("", include("courses.urls")),
    path("", include("bookings.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("profile/", include("accounts.urls")),
    path("healthz", views.healthz_view, name="healthz"),
    path("readyz", views.readyz_view, name="readyz"),
    path("", include("consent.urls")),
    path("", include("privacy.urls")),
    path("", include("marketing.urls")),
    path("", include("surveys.urls")),
    path("", include("payments.urls")),
    path("", include("funding.urls")),
    path("", include("organisations.urls")),
    path("", include("products.urls")),
    path("", include("analytics.urls")),
    path("", include("reports.urls")),
]
