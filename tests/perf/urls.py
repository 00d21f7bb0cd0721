"""The application's URLs plus /bench/bare/, the baseline of the benchmark."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def bare_view(request: HttpRequest) -> HttpResponse:
    """The same middleware stack as every page, a trivial template, no queries."""
    return render(request, "bare.html", {"name": "benchmark"})


urlpatterns = [
    path("bench/bare/", bare_view, name="bench-bare"),
    *app_urlpatterns,
]
