"""`{% profile_banner %}`: on "My bookings", a notification banner asking the
person to complete their profile (workplace and job title) until they have."""

from django import template

from .. import selectors

register = template.Library()

# The pages that show the banner (view names).
BANNER_PAGES = frozenset({"bookings:list"})


@register.inclusion_tag("accounts/includes/profile_banner.html", takes_context=True)
def profile_banner(context) -> dict:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name not in BANNER_PAGES:
        return {"missing": []}
    return {"missing": selectors.profile_missing(request.user), "path": request.path}
