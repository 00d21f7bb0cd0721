"""Routes that fail, for the server-error counts (test_metrics.py)."""

from django.urls import include, path


def broken(request, number):
    raise KeyError("the exception's message is never stored")


urlpatterns = [
    path("broken/<int:number>/", broken, name="broken"),
    path("", include("config.urls")),
]
