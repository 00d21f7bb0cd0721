"""A URL that fails, for the error-tracker test (tests/config/test_observability.py)."""

from django.urls import path


def boom(request):
    raise RuntimeError("boom for the error tracker test")


urlpatterns = [path("boom/", boom)]
