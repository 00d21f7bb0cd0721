"""The application's URLs plus /bench/bare/, the baseline of the benchmark."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def bare_view(request: HttpRequest) -> HttpResponse:
    """The same middleware stack as every page, a trivial template, no queries."""
    return render(request, "bare.html", {"name": "benchmark"})


def layout_view(request: HttpRequest) -> HttpResponse:
    """The site layout (base.html) around one paragraph: what any page costs
    before its own content."""
    return render(request, "layout.html")


urlpatterns = [
    path("bench/bare/", bare_view, name="bench-bare"),
    path("bench/layout/", layout_view, name="bench-layout"),
    *app_urlpatterns,
]
