"""The catalogue holds no personal data; these declarations say so explicitly."""

from privacy.registry import not_personal

from .models import Course, CourseSearch, Provider, Session, Topic

not_personal(
    Provider, ["name", "contact_email", "website"], reason="An organisation's details."
)
not_personal(Topic, ["name"], reason="Catalogue data.")
not_personal(Course, ["title", "summary", "description"], reason="Catalogue data.")
not_personal(CourseSearch, ["title"], reason="A copy of the course's title.")
not_personal(
    Session,
    ["venue", "joining_url", "venue_address", "accessibility_notes", "parking_notes"],
    reason="Catalogue data: where a session is held.",
)
