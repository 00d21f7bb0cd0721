from django.http import HttpRequest

from consent.selectors import cookie_choice

from .middleware import TOKEN_SLOT


def beacon(request: HttpRequest) -> dict:
    """Whether base.html writes the beacon script: only after analytics cookies
    were accepted (Sec-GPC counts as a rejection). AnalyticsMiddleware then
    puts this page view's token in it, or takes the script out when nothing is
    recorded (an objection, a restriction, the back office). Cookies alone
    decide here: no query."""
    return {
        "analytics_beacon": cookie_choice(request) == "accepted",
        "analytics_token_slot": TOKEN_SLOT.decode(),
    }
