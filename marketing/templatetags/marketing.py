from django import template

from marketing import selectors

register = template.Library()


@register.inclusion_tag("marketing/recommended.html", takes_context=True)
def recommended_for_you(context) -> dict:
    """Courses chosen from the person's bookings and job title, only with their
    consent to profiling. No queries for anonymous visitors; at most two (the
    consent check and the courses) for people signed in."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"courses": []}
    if not selectors.profiling_allowed(user):
        return {"courses": []}
    return {"courses": list(selectors.recommended_courses(user))}
