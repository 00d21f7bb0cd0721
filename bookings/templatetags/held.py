"""The course page's "you already hold this date" state, without the courses
app knowing about bookings: `{% held_bookings sessions as held %}` reads the
viewer's live bookings of those sessions in one query, and
`held|for_session:s` gives the one for a session (or None)."""

from django import template

from bookings.models import Booking
from bookings.selectors import bookings_for_person

register = template.Library()

LIVE = (
    Booking.Status.CONFIRMED,
    Booking.Status.WAITLISTED,
    Booking.Status.OFFERED,
    Booking.Status.AWAITING_APPROVAL,
)


@register.simple_tag(takes_context=True)
def held_bookings(context, sessions) -> dict:
    user = context.get("user")
    if user is None or not user.is_authenticated or not sessions:
        return {}
    return {
        b.session_id: b
        for b in bookings_for_person(person=user).filter(
            session__in=[s.pk for s in sessions], status__in=LIVE
        )
    }


@register.filter
def for_session(held: dict, session) -> Booking | None:
    return held.get(session.pk)
