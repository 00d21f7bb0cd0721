"""The course page's "you already hold this date" state, without the courses
app knowing about bookings: `{% held_bookings sessions as held %}` reads the
viewer's live bookings of those sessions in one query, and
`held|for_session:s` gives the one for a session (or None)."""

from django import template

from bookings.models import Booking
from bookings.selectors import live_bookings_on

register = template.Library()


@register.simple_tag(takes_context=True)
def held_bookings(context, sessions) -> dict:
    user = context.get("user")
    if user is None or not user.is_authenticated or not sessions:
        return {}
    return {
        b.session_id: b
        for b in live_bookings_on(person=user, session_ids=[s.pk for s in sessions])
    }


@register.filter
def for_session(held: dict, session) -> Booking | None:
    return held.get(session.pk)
