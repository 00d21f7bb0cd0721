"""The site's URLs plus two views that fail, for the 500 and 503 pages'
security headers (tests/security/test_csp.py)."""

from django.db import OperationalError
from django.urls import path

from config.urls import handler500
from config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler500", "urlpatterns"]


def fail_view(request):
    raise RuntimeError("a bug")


def outage_view(request):
    raise OperationalError("connection to server failed")


urlpatterns = [
    path("csp-test/error/", fail_view),
    path("csp-test/outage/", outage_view),
    *site_urlpatterns,
]
