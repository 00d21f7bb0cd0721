"""Close the class: every view that accepts a POST which creates rows or sends
mail claims the form's token, so a second identical POST (same token) writes no
row, sends no mail and shows the person the result of the first.

The views are listed from the URL resolver, so a new one cannot be forgotten: it
is either claimed (and then needs a scenario below) or exempt with a reason."""

import datetime as dt
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts import roles
from bookings import services as booking_services
from courses.models import Course
from funding import services as funding_services
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of
from tests.bookings.factories import BookingFactory
from tests.config.test_form_bounds import PROJECT_APPS as FORM_APPS
from tests.conftest import staff_client
from tests.courses.factories import SessionFactory
from tests.funding.conftest import support_token
from tests.funding.factories import (
    PDF,
    ApplicationFactory,
    ApplicationTypeFactory,
    FundingRequestFactory,
    FundingRoundFactory,
)

from .forms import form_for, token_in

# Every app of ours (from INSTALLED_APPS, as the form-bounds test finds them),
# so a new app's views cannot be left out, and config's own views.
PROJECT_APPS = tuple(sorted({*FORM_APPS, "config"}))

# Views of ours that are not claimed, and why. Every other view must be.
EXEMPT = {
    "healthz": "GET only",
    "marketing:opened": "GET only (records the first open once, by a "
    "conditional update)",
    "marketing:link": "GET only (records the first click once, by a "
    "conditional update)",
    # Reports: filters and downloads are GET (a download's audit row is a
    # record of each download, so two downloads are two rows on purpose).
    "reports:index": "GET only",
    "bookings:staff_home": "GET only",
    "reports:bookings": "GET only",
    "reports:fill": "GET only",
    "reports:funding": "GET only",
    "reports:workforce": "GET only",
    "readyz": "GET only",
    "accounts:profile": "GET only",
    "accounts:closed": "GET only, public",
    "bookings:list": "GET only",
    "bookings:detail": "GET only",
    "bookings:calendar": "GET only",
    "bookings:training_record_csv": "GET only",
    "bookings:certificate": "GET only",
    "bookings:evidence": "GET only",
    "bookings:certificate_verify": "GET only, public",
    "bookings:transactions": "GET only",
    "payments:receipt": "GET only",
    "payments:receipt_pdf": "GET only",
    "payments:card_payment": "GET only (it may record a payment Stripe reports, "
    "which is idempotent by the card payment's lock and the ledger's unique "
    "provider reference)",
    "payments:card_go": "GET only",
    "payments:card_cancelled": "GET only",
    "payments:stripe_webhook": "Stripe's own POST, no form: each event is "
    "idempotent (a paid card payment is left alone, the ledger's provider "
    "reference is unique), tested by delivering events twice",
    "bookings:attendees_csv": "GET only (a download, logged each time)",
    "bookings:sign_in_sheet": "GET only (a download, logged each time)",
    "bookings:provider_csv": "GET only (a download, each disclosure logged)",
    "bookings:evaluations": "GET only",
    "consent:privacy": "GET only",
    "consent:privacy_version": "GET only",
    "consent:cookies": "no sign-in needed; records a choice only when it changes, "
    "and every answer must set the cookie again",
    "consent:cookies_version": "GET only",
    "consent:contact": "GET only, public",
    "courses:home": "GET only",
    "courses:list": "GET only",
    "courses:detail": "GET only",
    "funding:list": "GET only",
    "funding:detail": "GET only",
    "funding:edit": "GET only (the old address of the single form: sends to the "
    "task list)",
    "funding:check": "GET only (its form posts to funding:submit)",
    "funding:document": "GET only",
    "funding:invoice": "GET only",
    "funding:support": "a manager's one-time link without sign-in: a second POST "
    "finds the link used and does nothing",
    "funding:application_detail": "GET only",
    "funding:applications": "GET only",
    "funding:apprenticeship_detail": "GET only (sends on to the application)",
    "funding:officer_queue": "GET only",
    "funding:officer_applications": "GET only",
    "funding:officer_document": "GET only",
    "funding:officer_invoice": "GET only",
    "marketing:unsubscribe": "no sign-in needed; unsubscribing twice is the same "
    "as once",
    "privacy:download": "answers with the file itself, given again each time it "
    "is asked for (a large export is queued once per request)",
    "privacy:export": "GET only",
    "privacy:collect": "a recipient's one-time link without sign-in: the first "
    "POST gives the file, a second finds the link used (410) and gives nothing",
    "privacy:processing_record": "GET only",
    "organisations:index": "GET only",
    "organisations:detail": "GET only",
    # The account's pages refuse any POST from a finance contact (405): they
    # only read.
    "organisations:account": "GET only",
    "organisations:invoice": "GET only",
    "organisations:invoice_pdf": "GET only",
    "organisations:receipt": "GET only",
    "organisations:receipt_pdf": "GET only",
    "products:list": "GET only",
    "products:purchase": "GET only",
    "analytics:dashboard": "GET only",
    "analytics:beacon": "sendBeacon sends no form token (its signed page-view "
    "token and the Origin check stand in for CSRF); a report replaces the page "
    "view's previous one, so the same report twice leaves one row",
}


def project_views(patterns=None, namespace=""):
    """(url name, view) for every URL of ours, from the resolver."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue  # Django's own back-office forms
            ns = p.namespace or namespace
            yield from project_views(p.url_patterns, ns)
        elif (
            isinstance(p, URLPattern)
            and p.callback.__module__.split(".")[0] in PROJECT_APPS
            and not p.callback.__module__.startswith("django")
        ):
            name = f"{namespace}:{p.name}" if namespace else p.name
            yield name, p.callback


def row_counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        # An unmanaged model has no table (reports.Report holds permissions).
        if m._meta.app_label in PROJECT_APPS and m._meta.managed
    }


@dataclass
class Scenario:
    client: Client
    page: str  # where the form is
    action: str  # where it posts
    data: Callable[[], dict] = dict  # what the person fills in (fresh files each time)
    creates: bool = True  # the first POST writes at least one row
    # The first POST signs the person out (closing their account): a second
    # one comes from a signed-out browser and is sent to sign in.
    signs_out: bool = False


def staff(group: str | None) -> Client:
    return staff_client(group)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def verified_person():
    person = UserFactory.create()
    EmailAddress.objects.create(
        user=person, email=person.email, verified=True, primary=True
    )
    return person


def pdf(name="offer.pdf"):
    return lambda: SimpleUploadedFile(name, PDF, content_type="application/pdf")


def submitted(person=None, **kwargs):
    """A submitted request; returns it and the manager's support token."""
    funding_request = FundingRequestFactory.create(
        **({"person": person} if person else {}), **kwargs
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        funding_services.submit_funding_request(
            funding_request, by=funding_request.person
        )
    funding_request.refresh_from_db()
    return funding_request


def supported(**kwargs):
    funding_request = submitted(**kwargs)
    link = funding_request.support_links.get()
    # The token itself is only in the mail; record support as the manager would.
    token = support_token(link.manager_email)
    funding_services.record_manager_support(token, supported=True, statement="Yes.")
    funding_request.refresh_from_db()
    return funding_request


def approved(**kwargs):
    from decimal import Decimal

    funding_request = supported(**kwargs)
    officer = UserFactory.create(is_staff=True)
    funding_services.approve_funding_request(
        funding_request, amount=Decimal("1000"), by=officer
    )
    funding_request.refresh_from_db()
    return funding_request


def today() -> str:
    return timezone.localdate().isoformat()


# --- one scenario per claimed view ------------------------------------------------


def s_book():
    person = verified_person()
    session = SessionFactory.create()
    return Scenario(
        signed_in(person),
        f"/courses/{session.course.slug}/",
        f"/sessions/{session.pk}/book/",
    )


def s_cancel():
    booking = BookingFactory.create(person=verified_person())
    url = f"/bookings/{booking.pk}/cancel/"
    return Scenario(signed_in(booking.person), url, url, lambda: {"reason": "Clash"})


def s_accept():
    session = SessionFactory.create(
        capacity=1, course__waitlist_mode=Course.WaitlistMode.OFFER
    )
    first, second = verified_person(), verified_person()
    holder = booking_services.book_session(first, session)
    waiting = booking_services.book_session(second, session)
    booking_services.cancel_booking(holder, first)
    return Scenario(signed_in(second), "/bookings/", f"/bookings/{waiting.pk}/accept/")


def s_evaluate():
    booking = BookingFactory.create(person=verified_person(), status="attended")
    url = f"/bookings/{booking.pk}/evaluate/"
    return Scenario(signed_in(booking.person), url, url, lambda: {"rating": "4"})


def s_training_record():
    return Scenario(
        signed_in(verified_person()),
        "/training-record/",
        "/training-record/",
        lambda: {
            "title": "Safeguarding level 3",
            "completed_on": (timezone.localdate() - dt.timedelta(days=9)).isoformat(),
            "cpd_hours": "3",
        },
    )


def s_register():
    booking = BookingFactory.create()
    url = f"/staff/sessions/{booking.session_id}/"
    return Scenario(
        staff(roles.BOOKING_ADMINS),
        url,
        url,
        lambda: {"attended": [str(booking.pk)]},
    )


def s_session_cancel():
    booking = BookingFactory.create()
    url = f"/staff/sessions/{booking.session_id}/cancel/"
    return Scenario(
        staff(roles.BOOKING_ADMINS),
        url,
        url,
        lambda: {"confirm": "on", "reason": "Ill"},
    )


def s_waive_minimum():
    booking = BookingFactory.create(session__minimum_attendees=5)
    return Scenario(
        staff(roles.BOOKING_ADMINS),
        f"/staff/sessions/{booking.session_id}/",
        f"/staff/sessions/{booking.session_id}/run-anyway/",
    )


def s_session_email():
    booking = BookingFactory.create(status="attended")
    BookingFactory.create(session=booking.session, status="attended")
    url = f"/staff/sessions/{booking.session_id}/email/"
    return Scenario(
        staff(roles.BOOKING_ADMINS),
        url,
        url,
        lambda: {"audience": "attended", "subject": "Slides", "body": "Attached."},
    )


def s_move():
    booking = BookingFactory.create()
    SessionFactory.create(
        course=booking.session.course,
        starts_at=booking.session.starts_at + dt.timedelta(days=7),
    )
    return Scenario(
        staff(roles.BOOKING_ADMINS),
        f"/staff/sessions/{booking.session_id}/",
        f"/staff/bookings/{booking.pk}/move/",
    )


def s_funding_new():
    return Scenario(
        signed_in(verified_person()),
        "/funding/new/",
        "/funding/new/",
        lambda: {
            "course_name": "Advanced Clinical Practice",
            "provider_name": "University of Westmoor",
            "cost": "900",
            "start_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )


def s_task_course():
    draft = FundingRequestFactory.create(person=verified_person())
    url = f"/funding/{draft.pk}/course/"
    return Scenario(
        signed_in(draft.person),
        url,
        url,
        lambda: {"course_name": "ACP", "cost": "900"},
        creates=False,
    )


def s_task_reason():
    draft = FundingRequestFactory.create(person=verified_person())
    url = f"/funding/{draft.pk}/reason/"
    return Scenario(
        signed_in(draft.person),
        url,
        url,
        lambda: {"reason": "I will prescribe."},
        creates=False,
    )


def s_documents():
    draft = FundingRequestFactory.create(person=verified_person())
    url = f"/funding/{draft.pk}/documents/"
    return Scenario(signed_in(draft.person), url, url, creates=False)


def s_withdraw():
    funding_request = submitted(person=verified_person())
    url = f"/funding/{funding_request.pk}/withdraw/"
    return Scenario(signed_in(funding_request.person), url, url)


def s_delete():
    draft = FundingRequestFactory.create(person=verified_person())
    url = f"/funding/{draft.pk}/delete/"
    return Scenario(signed_in(draft.person), url, url)


def s_funding_submit():
    draft = FundingRequestFactory.create(
        person=verified_person(), documents_confirmed=True
    )
    return Scenario(
        signed_in(draft.person),
        f"/funding/{draft.pk}/check/",
        f"/funding/{draft.pk}/submit/",
    )


def s_document_add():
    draft = FundingRequestFactory.create(person=verified_person())
    url = f"/funding/{draft.pk}/documents/new/"
    return Scenario(signed_in(draft.person), url, url, lambda: {"file": pdf()()})


def s_manager():
    draft = FundingRequestFactory.create(person=verified_person())
    url = f"/funding/{draft.pk}/manager/"
    return Scenario(
        signed_in(draft.person),
        url,
        url,
        lambda: {"manager_name": "Mo Manager", "manager_email": "mo@practice.example"},
        creates=False,
    )


def s_manager_resend(settings):
    settings.FUNDING_RESEND_MINUTES = 0
    funding_request = submitted(person=verified_person())
    return Scenario(
        signed_in(funding_request.person),
        f"/funding/{funding_request.pk}/",
        f"/funding/{funding_request.pk}/manager/resend/",
    )


def s_progress():
    funding_request = approved(person=verified_person())
    url = f"/funding/{funding_request.pk}/progress/"
    return Scenario(
        signed_in(funding_request.person), url, url, lambda: {"stage": "started"}
    )


def s_application_new():
    return _application_new("/applications/apprenticeship/new/")


def _application_new(url):
    ApplicationTypeFactory.create()
    return Scenario(
        signed_in(verified_person()),
        url,
        url,
        lambda: {
            "programme": "Nursing Associate (level 5)",
            "employer_name": "Westmoor Surgery",
            "manager_name": "Maria Manager",
            "manager_email": "maria@practice.example",
            "statement": "I want to grow into nursing.",
        },
    )


def s_application_edit():
    return _application_edit("/applications/")


def _application_edit(prefix):
    application = ApplicationFactory.create(person=verified_person())
    url = f"{prefix}{application.pk}/edit/"
    return Scenario(
        signed_in(application.person),
        url,
        url,
        lambda: {"statement": "Changed."},
        creates=False,
    )


def s_application_submit():
    application = ApplicationFactory.create(person=verified_person())
    return Scenario(
        signed_in(application.person),
        f"/applications/{application.pk}/",
        f"/applications/{application.pk}/submit/",
    )


# The apprenticeship addresses before application types serve the same forms.
def s_apprenticeship_new():
    return _application_new("/funding/apprenticeships/new/")


def s_apprenticeship_edit():
    return _application_edit("/funding/apprenticeships/")


def s_officer_review():
    funding_request = supported()
    url = f"/staff/funding/{funding_request.pk}/"
    return Scenario(
        staff(roles.FUNDING_OFFICERS),
        url,
        url,
        lambda: {"decision": "approve", "amount": "1000", "note": "Reflect after."},
    )


def s_officer_invoice_add():
    funding_request = approved()
    url = f"/staff/funding/{funding_request.pk}/invoices/new/"
    return Scenario(
        staff(roles.FUNDING_OFFICERS),
        url,
        url,
        lambda: {
            "supplier": "University of Westmoor",
            "number": "INV-1",
            "amount": "1000",
            "invoice_date": today(),
            "file": pdf("invoice.pdf")(),
        },
    )


def s_officer_payment_add():
    funding_request = approved()
    url = f"/staff/funding/{funding_request.pk}/payments/new/"
    return Scenario(
        staff(roles.FUNDING_OFFICERS),
        url,
        url,
        lambda: {"amount": "100", "paid_on": today(), "reference": "BACS-1"},
    )


def s_officer_panel():
    from decimal import Decimal

    funding_round = FundingRoundFactory.create(stream__annual_allowance=Decimal("9000"))
    funding_request = supported(round=funding_round)
    url = f"/staff/funding/rounds/{funding_round.pk}/panel/"
    return Scenario(
        staff(roles.FUNDING_OFFICERS),
        url,
        url,
        lambda: {
            f"decision-{funding_request.pk}": "approve",
            f"amount-{funding_request.pk}": "750",
        },
    )


def s_officer_application():
    application = ApplicationFactory.create()
    funding_services.submit_application(application, by=application.person)
    url = f"/staff/funding/applications/{application.pk}/"
    return Scenario(
        staff(roles.FUNDING_OFFICERS),
        url,
        url,
        lambda: {"decision": "offer", "note": "Welcome."},
    )


def s_preferences():
    return Scenario(
        signed_in(verified_person()),
        "/preferences/",
        "/preferences/",
        lambda: {"marketing__email": "on"},
    )


def s_my_data():
    return Scenario(
        signed_in(verified_person()),
        "/my-data/",
        "/my-data/",
        lambda: {"kind": "restriction", "details": "While I dispute a record."},
    )


def s_my_data_transfer():
    return Scenario(
        signed_in(verified_person()),
        "/my-data/send/",
        "/my-data/send/",
        lambda: {
            "recipient_name": "Records Ltd",
            "recipient_email": "records@example.org",
        },
    )


def s_profile_edit():
    return Scenario(
        signed_in(verified_person()),
        "/profile/edit/",
        "/profile/edit/",
        lambda: {"first_name": "Pat", "last_name": "Lee"},
        creates=False,
    )


def s_profile_complete():
    # Naming a new workplace creates it and asks to join it: twice would ask
    # twice (or make a second workplace).
    return Scenario(
        signed_in(verified_person()),
        "/profile/complete/",
        "/profile/complete/",
        lambda: {"new_organisation_name": "Hillside Surgery", "job_title": "Nurse"},
    )


def s_profile_equality():
    return Scenario(
        signed_in(verified_person()),
        "/profile/equality/",
        "/profile/equality/",
        lambda: {"gender": "prefer_not_to_say"},
        creates=False,
    )


def s_pay_card(settings):
    # Card payments on, but Stripe does not answer: the refusal (a message,
    # nothing written) is what is replayed. The real double submit, which
    # reuses the open Checkout session, is in tests/payments/test_cards.py.
    settings.STRIPE_SECRET_KEY = "sk_test_idempotency"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_idempotency"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    person = verified_person()
    from bookings.models import Transaction

    Transaction.objects.create(
        person=person, kind="charge", amount=5, description="Place on a course"
    )
    return Scenario(
        signed_in(person), "/transactions/", "/payments/card/", creates=False
    )


# --- the organisation pages -------------------------------------------------------


def org_member(org, **roles):
    person = verified_person()
    member_of(person, org, **roles)
    return person


def s_org_book():
    org = OrganisationFactory.create(pays_on_account=True)
    booker = org_member(org, is_booker=True)
    member = org_member(org)
    session = SessionFactory.create()
    url = f"/organisation/{org.pk}/book/{session.pk}/"
    return Scenario(signed_in(booker), url, url, lambda: {"people": [str(member.pk)]})


def s_org_swap():
    org = OrganisationFactory.create()
    booker = org_member(org, is_booker=True)
    holder, other = org_member(org), org_member(org)
    place = booking_services.book_session(holder, SessionFactory.create())
    url = f"/organisation/{org.pk}/bookings/{place.pk}/swap/"
    return Scenario(signed_in(booker), url, url, lambda: {"person": str(other.pk)})


def s_org_cancel():
    org = OrganisationFactory.create()
    booker = org_member(org, is_booker=True)
    place = booking_services.book_session(org_member(org), SessionFactory.create())
    url = f"/organisation/{org.pk}/bookings/{place.pk}/cancel/"
    return Scenario(signed_in(booker), url, url, lambda: {"reason": "Ill"})


def s_org_approval():
    org = OrganisationFactory.create(bookings_need_approval=True)
    approver = org_member(org, is_approver=True)
    held = booking_services.book_session(org_member(org), SessionFactory.create())
    assert held.approval_organisation == org
    url = f"/organisation/{org.pk}/approvals/{held.pk}/"
    return Scenario(signed_in(approver), url, url, lambda: {"decision": "approve"})


def s_org_membership():
    org = OrganisationFactory.create()
    approver = org_member(org, is_approver=True)
    asking = member_of(verified_person(), org, confirmed=False)
    return Scenario(
        signed_in(approver),
        f"/organisation/{org.pk}/",
        f"/organisation/{org.pk}/members/{asking.pk}/",
        lambda: {"decision": "confirm"},
    )


def s_org_funding_support():
    org = OrganisationFactory.create()
    manager = org_member(org, is_approver=True)
    funding_request = submitted(
        person=org_member(org),
        manager_name=manager.get_full_name(),
        manager_email=manager.email,
    )
    url = f"/organisation/{org.pk}/funding/{funding_request.pk}/"
    return Scenario(
        signed_in(manager),
        url,
        url,
        lambda: {"supported": "yes", "statement": "Needed for our clinics."},
    )


def s_org_pay_by_card(settings):
    # As s_pay_card: Stripe does not answer, so the refusal is what is replayed.
    settings.STRIPE_SECRET_KEY = "sk_test_idempotency"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_idempotency"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    from bookings.models import Transaction

    org = OrganisationFactory.create(pays_on_account=True)
    finance = org_member(org, is_finance_contact=True)
    Transaction.objects.create(
        organisation=org, kind="charge", amount=90, description="Places"
    )
    return Scenario(
        signed_in(finance),
        f"/organisation/{org.pk}/account/",
        f"/organisation/{org.pk}/account/pay-by-card/",
        creates=False,
    )


def s_buy():
    from decimal import Decimal

    from products.models import Product

    product = Product.objects.create(
        name="Resource pack", slug="resource-pack", price=Decimal("35"), stock=5
    )
    url = f"/services/{product.slug}/"
    return Scenario(signed_in(verified_person()), url, url, lambda: {"quantity": "2"})


def s_close_account():
    person = verified_person()
    booking = BookingFactory.create(person=person)
    BookingFactory.create(session=booking.session, status="waitlisted")
    return Scenario(
        signed_in(person),
        "/profile/close/",
        "/profile/close/",
        lambda: {"confirm": "on"},
        signs_out=True,
    )


def s_correction_new():
    return Scenario(
        signed_in(verified_person()),
        "/my-data/correct/",
        "/my-data/correct/",
        lambda: {"what_is_wrong": "My surname is misspelt", "should_say": "Smyth"},
    )


def s_access_new():
    return Scenario(
        signed_in(verified_person()),
        "/my-data/find/",
        "/my-data/find/",
        lambda: {"looking_for": "My 2019 safeguarding course"},
    )


def s_survey_answer():
    from surveys.models import Question, Survey

    survey = Survey.objects.create(title="Venues", status="open")
    question = Question.objects.create(
        survey=survey, kind="choice", text="Which?", choices="North\nSouth"
    )
    url = survey.get_absolute_url()
    return Scenario(
        signed_in(verified_person()), url, url, lambda: {f"q{question.pk}": "North"}
    )


SCENARIOS: dict[str, Callable[..., Scenario]] = {
    "surveys:answer": s_survey_answer,
    "accounts:close": s_close_account,
    "privacy:correction_new": s_correction_new,
    "privacy:access_new": s_access_new,
    "payments:pay_card": s_pay_card,
    "bookings:book": s_book,
    "bookings:cancel": s_cancel,
    "bookings:accept": s_accept,
    "bookings:evaluate": s_evaluate,
    "bookings:training_record": s_training_record,
    "bookings:register": s_register,
    "bookings:session_cancel": s_session_cancel,
    "bookings:waive_minimum": s_waive_minimum,
    "bookings:session_email": s_session_email,
    "bookings:move": s_move,
    "funding:new": s_funding_new,
    "funding:task_course": s_task_course,
    "funding:task_reason": s_task_reason,
    "funding:documents": s_documents,
    "funding:withdraw": s_withdraw,
    "funding:delete": s_delete,
    "funding:submit": s_funding_submit,
    "funding:document_add": s_document_add,
    "funding:manager": s_manager,
    "funding:manager_resend": s_manager_resend,
    "funding:progress": s_progress,
    "funding:application_new": s_application_new,
    "funding:application_edit": s_application_edit,
    "funding:application_submit": s_application_submit,
    "funding:apprenticeship_new": s_apprenticeship_new,
    "funding:apprenticeship_edit": s_apprenticeship_edit,
    "funding:officer_review": s_officer_review,
    "funding:officer_invoice_add": s_officer_invoice_add,
    "funding:officer_payment_add": s_officer_payment_add,
    "funding:officer_panel": s_officer_panel,
    "funding:officer_application": s_officer_application,
    "consent:preferences": s_preferences,
    "privacy:my_data": s_my_data,
    "privacy:transfer": s_my_data_transfer,
    "accounts:edit": s_profile_edit,
    "accounts:complete": s_profile_complete,
    "accounts:equality": s_profile_equality,
    "organisations:book": s_org_book,
    "organisations:swap": s_org_swap,
    "organisations:cancel": s_org_cancel,
    "organisations:approval": s_org_approval,
    "organisations:membership": s_org_membership,
    "organisations:funding_support": s_org_funding_support,
    "organisations:pay_by_card": s_org_pay_by_card,
    "products:detail": s_buy,
}


def test_every_view_of_ours_is_claimed_or_exempt_with_a_reason():
    views = dict(project_views())
    claimed = {name for name, view in views.items() if getattr(view, "idempotent", 0)}
    unclaimed = set(views) - claimed
    assert unclaimed - set(EXEMPT) == set(), "claim these or say why not"
    assert set(EXEMPT) - unclaimed == set(), "stale exemptions"
    assert claimed == set(SCENARIOS), "every claimed view needs a scenario below"


def shown(client: Client, location: str) -> list[str]:
    page = client.get(location)
    assert page.status_code == 200
    return [str(m.message) for m in get_messages(page.wsgi_request)]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_second_identical_post_does_nothing_and_shows_the_first_result(
    name, settings, django_capture_on_commit_callbacks
):
    make = SCENARIOS[name]
    scenario = make(settings) if inspect.signature(make).parameters else make()
    mail.outbox.clear()
    page = scenario.client.get(scenario.page)
    assert page.status_code == 200
    filled = form_for(page.content.decode(), scenario.page, scenario.action)
    token_in(filled)

    def post():
        with django_capture_on_commit_callbacks(execute=True):
            return scenario.client.post(scenario.action, {**filled, **scenario.data()})

    before = row_counts()
    first = post()
    assert first.status_code == 302, first.content.decode()[:3000]
    after_first, mails_after_first = row_counts(), len(mail.outbox)
    if scenario.creates:
        assert after_first != before
    first_messages = shown(scenario.client, first["Location"])
    assert first_messages

    second = post()
    assert second.status_code == 302
    if scenario.signs_out:
        assert second["Location"].startswith("/accounts/login/")
        assert row_counts() == after_first
        assert len(mail.outbox) == mails_after_first
        return
    assert second["Location"] == first["Location"]
    assert row_counts() == after_first
    assert len(mail.outbox) == mails_after_first
    assert shown(scenario.client, second["Location"]) == first_messages
