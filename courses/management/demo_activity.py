"""The activity in the demo data (seed_demo), so every page has something to
show on first run: past sessions with attendance and certificates, upcoming
bookings and a waiting list, a session this week, funding requests in every
status of `FundingRequest.Status` and apprenticeship applications in every
status of `Application.Status` (of the Apprenticeship type staff can add
others beside).

Each piece is made only when it is missing, so running it again adds nothing.
A status added to either model later gets a submitted example from the plain
builder until it is given its own in `REQUEST_BUILDERS` or
`APPLICATION_BUILDERS`. Imported by the command only: the demo spans every
app, the courses app itself does not.
"""

import datetime as dt
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.services import profile_for
from bookings.models import Booking
from bookings.services import mark_attendance
from courses.management.commands.seed_demo import DEMO_PASSWORD
from courses.models import Course, Session
from courses.selectors import sessions_in_week
from funding.models import Application, ApplicationType, FundingEvent, FundingRequest

LEARNER = "learner@example.com"
FUNDING_OFFICER = "funding@example.com"
BOOKING_ADMIN = "bookings@example.com"

# More learners, so registers, waiting lists and the funding queue have people.
PEOPLE = [
    ("ada.nurse@example.com", "Ada", "Okafor", "Practice nurse"),
    ("ben.hca@example.com", "Ben", "Carter", "Healthcare assistant"),
    ("chloe.teacher@example.com", "Chloe", "Ahmed", "Class teacher"),
    ("dev.pharmacist@example.com", "Dev", "Patel", "Clinical pharmacist"),
    ("ella.senco@example.com", "Ella", "Murphy", "SENCo"),
    ("finn.ta@example.com", "Finn", "Walsh", "Teaching assistant"),
]


def add_activity() -> None:
    learner = User.objects.get(email=LEARNER)
    officer = User.objects.get(email=FUNDING_OFFICER)
    booker = User.objects.get(email=BOOKING_ADMIN)
    people = _people()
    free = list(
        Course.objects.filter(status=Course.Status.PUBLISHED, price=0).order_by("slug")
    )
    if len(free) < 4:
        return
    _past_sessions(free[:3], [learner, *people], by=booker)
    _upcoming(free[3:], learner, people)
    _this_week(free[0], [learner, *people[:2]])
    _funding_requests([learner, *people], officer)
    _applications([learner, *people], officer)


def _people() -> list[User]:
    workplace = Organisation.objects.filter(name="Riverside Medical Centre").first()
    people = []
    for email, first, last, job in PEOPLE:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, first_name=first, last_name=last
            )
            EmailAddress.objects.create(
                user=user, email=email, primary=True, verified=True
            )
            profile = profile_for(user)
            profile.organisation = workplace
            profile.job_title = job
            profile.save()
        people.append(user)
    return people


def _book(person: User, session: Session, status: str) -> Booking:
    booking = Booking.objects.filter(person=person, session=session).exclude(
        status=Booking.Status.CANCELLED
    )
    return booking.first() or Booking.objects.create(
        person=person, session=session, status=status
    )


def _past_sessions(courses: list[Course], people: list[User], *, by: User) -> None:
    """A past session of each course, its register taken: everyone attended
    (with a certificate) but the last person, who did not."""
    now = timezone.now()
    for n, course in enumerate(courses):
        session = (
            course.sessions.filter(starts_at__lt=now).order_by("starts_at").first()
        )
        if session is None:
            day = timezone.localdate() - dt.timedelta(days=14 + 21 * n)
            starts = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
            session = Session.objects.create(
                course=course,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=3),
                capacity=12,
                venue="Training Hub, 1 Market Street, Westmoor WM1 2AB",
            )
        attendees = people[: 5 + n]
        bookings = [_book(p, session, Booking.Status.CONFIRMED) for p in attendees]
        mark_attendance(bookings[:-1], attended=True, by=by)
        mark_attendance(bookings[-1:], attended=False, by=by)


def _upcoming(courses: list[Course], learner: User, people: list[User]) -> None:
    """The demo learner's upcoming places, and a full session with a waiting
    list (the learner waiting second)."""
    now = timezone.now()
    upcoming = Session.objects.filter(
        course__in=courses, status=Session.Status.SCHEDULED, starts_at__gt=now
    ).order_by("starts_at", "pk")
    if not Booking.objects.filter(
        person=learner, session__in=upcoming, status=Booking.Status.CONFIRMED
    ).exists():
        for session in upcoming.filter(capacity__gte=10)[:2]:
            _book(learner, session, Booking.Status.CONFIRMED)
    if Booking.objects.filter(
        person__in=[learner, *people], status=Booking.Status.WAITLISTED
    ).exists():
        return
    full = upcoming.filter(capacity__lte=3).exclude(bookings__isnull=False).first()
    if full is None:
        return
    for person in people[: full.capacity]:
        _book(person, full, Booking.Status.CONFIRMED)
    for person in (people[-1], learner):
        _book(person, full, Booking.Status.WAITLISTED)


def _this_week(course: Course, people: list[User]) -> None:
    """A session in the current week for the staff home, with some places taken."""
    today = timezone.localdate()
    if sessions_in_week(day=today).exists():
        return
    now = timezone.localtime()
    if today.weekday() < 6:
        starts = timezone.make_aware(
            dt.datetime.combine(today + dt.timedelta(days=1), dt.time(13, 0))
        )
    else:
        starts = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        if starts.date() != today:
            starts = now.replace(second=0, microsecond=0)
    session = Session.objects.create(
        course=course,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        capacity=16,
        venue="Civic Centre, Room 4, Westmoor WM2 3CD",
    )
    for person in people:
        _book(person, session, Booking.Status.CONFIRMED)


# --- funding requests -----------------------------------------------------------

COURSES_ELSEWHERE = [
    ("Non-Medical Prescribing (V300)", "University of Westmoor", "1850.00"),
    ("Advanced clinical practice module", "University of Westmoor", "1200.00"),
    ("National Professional Qualification for Headship", "Teach Leaders", "950.00"),
    ("Minor illness management", "SkillsFirst Ltd", "420.00"),
    ("Level 3 forest school leader", "Outdoor Learning Co", "780.00"),
    ("Mentoring and coaching certificate", "Northgate Consulting", "360.00"),
]


def _request_fields(person: User, n: int) -> dict:
    course, provider, cost = COURSES_ELSEWHERE[n % len(COURSES_ELSEWHERE)]
    return {
        "person": person,
        "course_name": course,
        "provider_name": provider,
        "cost": Decimal(cost),
        "start_date": timezone.localdate() + dt.timedelta(days=60 + 7 * n),
        "reason": "It lets me take on work the team needs and that I am trained "
        "for only in part today.",
        "manager_name": "Maria Manager",
        "manager_email": "maria.manager@example.com",
        "organisation": profile_for(person).organisation,
    }


def _draft(person, officer, n) -> dict:
    return {"status": FundingRequest.Status.DRAFT, "submitted_at": None}


def _submitted(status: str):
    def build(person, officer, n) -> dict:
        return {"status": status}

    return build


def _decided(status: str, note: str, *, approved: bool = False):
    def build(person, officer, n) -> dict:
        fields = {
            "status": status,
            "decision_note": note,
            "decided_at": timezone.now() - dt.timedelta(days=n),
            "decided_by": officer,
        }
        if approved:
            fields["amount_approved"] = Decimal(
                COURSES_ELSEWHERE[n % len(COURSES_ELSEWHERE)][2]
            )
        return fields

    return build


S = FundingRequest.Status
REQUEST_BUILDERS = {
    S.DRAFT: _draft,
    S.AWAITING_MANAGER: _submitted(S.AWAITING_MANAGER),
    S.NOT_SUPPORTED: _submitted(S.NOT_SUPPORTED),
    S.UNDER_REVIEW: _submitted(S.UNDER_REVIEW),
    S.MORE_INFO: _decided(
        S.MORE_INFO, "Please add the provider's quote for the course fee."
    ),
    S.APPROVED: _decided(S.APPROVED, "Approved in full.", approved=True),
    S.DECLINED: _decided(
        S.DECLINED, "The round's budget for this kind of course is spent."
    ),
    S.CLOSED: _decided(S.CLOSED, "Paid and completed.", approved=True),
    S.WITHDRAWN: _submitted(S.WITHDRAWN),
}


def _funding_requests(people: list[User], officer: User) -> None:
    """One request in each status (the demo learner holds every other one)."""
    have = set(
        FundingRequest.objects.filter(person__in=people).values_list(
            "status", flat=True
        )
    )
    for n, status in enumerate(FundingRequest.Status):
        if status in have:
            continue
        person = people[n % len(people)] if n % 2 else people[0]
        build = REQUEST_BUILDERS.get(status, _submitted(status))
        fields = {
            **_request_fields(person, n),
            "submitted_at": timezone.now() - dt.timedelta(days=10 + n),
            **build(person, officer, n),
        }
        request = FundingRequest.objects.create(**fields)
        if request.submitted_at is not None:
            FundingEvent.objects.create(
                request=request,
                actor=person,
                from_status=FundingRequest.Status.DRAFT,
                to_status=FundingRequest.Status.AWAITING_MANAGER,
            )
        if request.decided_by is not None:
            FundingEvent.objects.create(
                request=request,
                actor=officer,
                from_status=FundingRequest.Status.UNDER_REVIEW,
                to_status=request.status,
                note=request.decision_note,
            )


# --- apprenticeship applications --------------------------------------------------

PROGRAMMES = [
    "Nursing associate (level 5)",
    "Senior healthcare support worker (level 3)",
    "Teaching assistant (level 3)",
    "Pharmacy technician (level 3)",
    "Business administrator (level 3)",
]

A = Application.Status
APPLICATION_BUILDERS = {
    A.DRAFT: lambda officer, n: {"submitted_at": None},
    A.SUBMITTED: lambda officer, n: {},
    A.UNDER_REVIEW: lambda officer, n: {},
    A.OFFERED: lambda officer, n: {
        "decision_note": "We can offer you a place on the September intake.",
        "decided_at": timezone.now() - dt.timedelta(days=n),
        "decided_by": officer,
    },
    A.DECLINED: lambda officer, n: {
        "decision_note": "The programme needs a level 2 maths qualification first.",
        "decided_at": timezone.now() - dt.timedelta(days=n),
        "decided_by": officer,
    },
}


def _applications(people: list[User], officer: User) -> None:
    """One application in each status."""
    # The Apprenticeship type is made by a data migration; made here too in
    # case a database was flushed.
    kind, _ = ApplicationType.objects.get_or_create(
        slug="apprenticeship", defaults={"name": "Apprenticeship"}
    )
    have = set(
        Application.objects.filter(person__in=people).values_list("status", flat=True)
    )
    for n, status in enumerate(Application.Status):
        if status in have:
            continue
        person = people[(n + 1) % len(people)]
        profile = profile_for(person)
        build = APPLICATION_BUILDERS.get(status, lambda officer, n: {})
        fields = {
            "person": person,
            "type": kind,
            "programme": PROGRAMMES[n % len(PROGRAMMES)],
            "employer_name": (
                profile.organisation.name if profile.organisation else "Westmoor"
            ),
            "organisation": profile.organisation,
            "manager_name": "Maria Manager",
            "manager_email": "maria.manager@example.com",
            "statement": "I want to grow into a registered role without leaving "
            "the team I work in.",
            "status": status,
            "submitted_at": timezone.now() - dt.timedelta(days=5 + n),
            **build(officer, n),
        }
        Application.objects.create(**fields)
