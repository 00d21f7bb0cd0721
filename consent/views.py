from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def privacy_notice_view(request: HttpRequest) -> HttpResponse:
    return render(request, "consent/privacy_notice.html")


def cookies_view(request: HttpRequest) -> HttpResponse:
    return render(request, "consent/cookies.html")
