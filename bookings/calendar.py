"""A session as an iCalendar event (RFC 5545), with its Europe/London time zone."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from icalendar import Calendar, Event

from .models import Booking

LONDON = ZoneInfo("Europe/London")


def booking_ics(booking: Booking) -> bytes:
    session = booking.session
    course = session.course
    cal = Calendar()
    cal.add("prodid", f"-//{settings.SITE_NAME}//CPD booking//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.pk}@{settings.SITE_URL.split('://')[-1]}")
    # When the booking last changed: the same file for the same booking, so a
    # calendar that already has it sees no change (and tests see no clock tick).
    stamp = booking.updated_at or dt.datetime.now(tz=dt.UTC)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", session.starts_at.astimezone(LONDON))
    event.add("dtend", session.ends_at.astimezone(LONDON))
    event.add("summary", course.title)
    if session.is_online:
        location = "Online"
        if booking.holds_place and session.joining_url:
            location = session.joining_url
    else:
        location = session.venue or "Venue to be confirmed"
    event.add("location", location)
    event.add(
        "description",
        f"{course.summary}\n\n{settings.SITE_URL}{course.get_absolute_url()}",
    )
    event.add("url", f"{settings.SITE_URL}{course.get_absolute_url()}")
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
