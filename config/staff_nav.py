"""The staff navigation and breadcrumbs, shared by every /staff/ page, the staff
home and the admin index.

`SECTIONS` lists the staff areas that exist; each is shown only to people who
hold the permission its pages ask for (the same permission the view checks, so a
link never leads to a 403). `PARENTS` gives each /staff/ page (by URL name) the
pages above it, for GOV.UK breadcrumbs; `NOT_PAGES` names the /staff/ URLs that
are files or POST-only actions, which have no breadcrumbs.
tests/bookings/test_staff_home.py checks that every /staff/ URL is in one of them.

Permission checks read the person's permissions once per request (Django caches
them on the user object), so the navigation costs at most two queries.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

STAFF_PREFIX = "/staff/"
REPORT_PERMISSIONS = (
    "reports.view_booking_reports",
    "reports.view_funding_report",
    "reports.view_workforce_report",
)


@dataclass(frozen=True)
class Section:
    url_name: str
    label: str
    description: str
    # Any one of these permissions shows the section; () means anyone with
    # back-office access; "is_staff" means Django admin's own rule.
    permissions: tuple[str, ...] = ()
    is_staff: bool = False


HOME = Section("bookings:staff_home", "Staff home", "Sessions this week.")

SECTIONS: tuple[Section, ...] = (
    HOME,
    Section(
        "admin:courses_session_changelist",
        "Sessions and registers",
        "Every session, with its bookings, waiting list and register.",
        ("courses.view_session",),
        is_staff=True,
    ),
    Section(
        "funding:officer_queue",
        "Funding requests",
        "Requests waiting for a decision, invoices and payments.",
        ("funding.change_fundingrequest",),
    ),
    Section(
        "funding:officer_applications",
        "Applications",
        "Apprenticeship and other applications waiting for a decision.",
        ("funding.change_application",),
    ),
    Section(
        "privacy:processing_record",
        "Processing record",
        "What personal data the service holds, why, and for how long.",
        ("privacy.view_datasubjectrequest",),
    ),
    Section(
        "reports:index",
        "Reports",
        "Bookings, fill rates, funding and workforce, suppressed for sharing.",
        REPORT_PERMISSIONS,
    ),
    Section(
        "analytics:dashboard",
        "Analytics",
        "Page views from people who accepted analytics cookies.",
        ("analytics.view_dashboard",),
    ),
    Section(
        "admin:index",
        "Back office",
        "Courses, sessions, people, organisations and settings (Django admin).",
        is_staff=True,
    ),
)


def is_staff_member(user) -> bool:
    """Whether the staff navigation replaces the learner's: the staff flag or
    any permission (the permissions are cached on the user, and the pages that
    show the navigation have read them already)."""
    if not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or bool(user.get_all_permissions())


def _may_see(user, section: Section) -> bool:
    if section.is_staff and not (user.is_staff or user.is_superuser):
        return False
    if not section.permissions:
        return True
    return any(user.has_perm(p) for p in section.permissions)


def sections_for(user, *, current_path: str = "") -> list[dict]:
    """The sections `user` may open, each with its URL and whether it holds the
    page at `current_path` (the longest matching URL wins)."""
    home_url = reverse(HOME.url_name)
    shown = [
        {
            "label": s.label,
            "url": reverse(s.url_name),
            "description": s.description,
            "name": s.url_name,
        }
        for s in SECTIONS
        if _may_see(user, s)
    ]
    best = max(
        (
            item
            for item in shown
            if current_path == item["url"]
            or (item["url"] != home_url and current_path.startswith(item["url"]))
        ),
        key=lambda item: len(item["url"]),
        default=None,
    )
    for item in shown:
        item["active"] = item is best
        item["current"] = item is best and current_path == item["url"]
    return shown


# A breadcrumb: its label, URL name and which of the page's URL kwargs it takes.
@dataclass(frozen=True)
class Crumb:
    label: str
    url_name: str
    kwarg: str | None = None


_HOME = Crumb("Staff home", HOME.url_name)
_REGISTER = Crumb("Register", "bookings:register", "session_id")
_FUNDING = Crumb("Funding requests", "funding:officer_queue")
_REQUEST = Crumb("Funding request", "funding:officer_review", "pk")
_APPLICATIONS = Crumb("Applications", "funding:officer_applications")
_REPORTS = Crumb("Reports", "reports:index")

PARENTS: dict[str, tuple[Crumb, ...]] = {
    HOME.url_name: (Crumb("Home", "courses:home"),),
    "bookings:register": (_HOME,),
    "bookings:session_cancel": (_HOME, _REGISTER),
    "bookings:session_email": (_HOME, _REGISTER),
    "bookings:evaluations": (_HOME, _REGISTER),
    "funding:officer_queue": (_HOME,),
    "funding:officer_review": (_HOME, _FUNDING),
    "funding:officer_invoice_add": (_HOME, _FUNDING, _REQUEST),
    "funding:officer_payment_add": (_HOME, _FUNDING, _REQUEST),
    "funding:officer_panel": (_HOME, _FUNDING),
    "funding:officer_applications": (_HOME,),
    "funding:officer_application": (_HOME, _APPLICATIONS),
    "privacy:processing_record": (_HOME,),
    "reports:index": (_HOME,),
    "reports:bookings": (_HOME, _REPORTS),
    "reports:fill": (_HOME, _REPORTS),
    "reports:funding": (_HOME, _REPORTS),
    "reports:workforce": (_HOME, _REPORTS),
    "analytics:dashboard": (_HOME,),
}

# /staff/ URLs that are not pages: downloads, and actions that only redirect.
NOT_PAGES = frozenset(
    {
        "bookings:attendees_csv",
        "bookings:sign_in_sheet",
        "bookings:provider_csv",
        "bookings:waive_minimum",
        "bookings:move",
        "funding:officer_document",
        "funding:officer_invoice",
    }
)


def breadcrumbs_for(view_name: str, kwargs: dict) -> list[dict]:
    """The pages above the page `view_name` (with its URL `kwargs`), top first.
    An unknown staff page sits under the staff home."""
    trail = []
    for crumb in PARENTS.get(view_name, (_HOME,)):
        args = {}
        if crumb.kwarg is not None:
            if crumb.kwarg not in kwargs:
                continue
            args = {crumb.kwarg: kwargs[crumb.kwarg]}
        try:
            url = reverse(crumb.url_name, kwargs=args)
        except NoReverseMatch:
            continue
        trail.append({"label": crumb.label, "url": url})
    return trail
