from django.http import HttpRequest

from . import selectors


def cookies(request: HttpRequest) -> dict:
    choice = selectors.cookie_choice(request)
    return {
        "show_cookie_banner": choice == "" and not request.path.startswith("/cookies/"),
        "cookie_choice": choice,
    }
