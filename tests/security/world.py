"""The fixture world the permission matrix walks: two learners who each own one
of everything a learner can own, staff in every role group with two-factor
authentication, and superusers without it.

Learner A ("learner") owns every object whose id goes into a path; learner B
("other_learner") owns the same kinds of things, so B's pages are not empty
and B asking for A's ids is a real attempt at someone else's data.
"""

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from accounts import roles
from accounts.models import Membership
from bookings.models import (
    Booking,
    MailRecord,
    PriorLearning,
    StaffLog,
    Transaction,
)
from consent.models import ConsentRecord, ContactPoint, PolicyVersion, ProcessingPurpose
from consent.services import record_consent
from funding.models import (
    FundingDocument,
    FundingMail,
    FundingRequest,
    Invoice,
    ManagerSupport,
)
from funding.services.common import hash_token
from marketing.models import Delivery
from marketing.services import unsubscribe_token
from organisations.services import raise_invoices, record_payment
from payments.services import reference_for, upload_statement
from payments.statements import ParsedLine, ParsedStatement
from privacy.disclosures import hash_token as transfer_hash
from privacy.models import (
    AuditEvent,
    DataSubjectRequest,
    Disclosure,
    ExportFile,
    RetentionRun,
    Transmission,
    TransmissionMail,
)
from products.models import Product
from products.services import buy_product
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of
from tests.bookings.factories import BookingFactory
from tests.conftest import give_totp
from tests.courses.factories import CourseFactory, SessionFactory, TopicFactory
from tests.funding.factories import (
    PDF,
    ApplicationFactory,
    FundingRequestFactory,
    FundingRoundFactory,
)
from tests.marketing.factories import CampaignFactory

ANONYMOUS = "anonymous"
LEARNER = "learner"
OTHER_LEARNER = "other_learner"
COURSE_ADMIN = "course_admin"
BOOKING_ADMIN = "booking_admin"
FUNDING_OFFICER = "funding_officer"
DPO = "data_protection_lead"
MARKETING_OFFICER = "marketing_officer"
ANALYTICS_VIEWER = "analytics_viewer"
SUPERUSER = "superuser_without_mfa"
SUPERUSER_NO_STAFF_FLAG = "superuser_without_mfa_or_staff_flag"

# Each staff role and the group (accounts/migrations/0002_role_groups) it holds.
STAFF_GROUPS = {
    COURSE_ADMIN: roles.COURSE_ADMINS,
    BOOKING_ADMIN: roles.BOOKING_ADMINS,
    FUNDING_OFFICER: roles.FUNDING_OFFICERS,
    DPO: roles.DATA_PROTECTION_LEAD,
    MARKETING_OFFICER: roles.MARKETING_OFFICERS,
    ANALYTICS_VIEWER: roles.ANALYTICS_VIEWERS,
}
MATRIX_ROLES = (ANONYMOUS, LEARNER, OTHER_LEARNER, *STAFF_GROUPS, SUPERUSER)


@dataclass
class World:
    users: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)
    # model label ("app.model") -> an instance the admin pages are asked about
    objects: dict = field(default_factory=dict)
    # named things the paths are built from
    things: dict = field(default_factory=dict)
    # every table's row count and digest, as built (test_permission_matrix)
    fingerprint: dict = field(default_factory=dict)


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _learner_things(person, *, suffix: str) -> dict:
    """One of everything a learner owns."""
    now = timezone.now()
    topic = TopicFactory.create()
    course = CourseFactory.create(topics=[topic])
    upcoming = SessionFactory.create(course=course)
    past = SessionFactory.create(
        course=course,
        starts_at=now - dt.timedelta(days=30),
        ends_at=now - dt.timedelta(days=30) + dt.timedelta(hours=3),
    )
    booking = BookingFactory.create(person=person, session=upcoming)
    attended = BookingFactory.create(
        person=person,
        session=past,
        status=Booking.Status.ATTENDED,
        certificate_code=f"CERT{suffix}{secrets.token_hex(4)}".upper(),
    )
    Transaction.objects.create(
        person=person,
        booking=booking,
        kind=Transaction.Kind.CHARGE,
        amount=Decimal("25.00"),
        description="Course fee",
    )
    payment = Transaction.objects.create(
        person=person,
        kind=Transaction.Kind.PAYMENT,
        amount=Decimal("-25.00"),
        description="Bank transfer received",
        means=Transaction.Means.BANK_TRANSFER,
        provider_reference=f"matrix-{suffix}-{secrets.token_hex(4)}",
    )
    from payments.models import CardPayment
    from payments.services import reference_for

    # A card payment abandoned on Stripe's page (so no page asks Stripe).
    card_payment = CardPayment.objects.create(
        reference=reference_for(person=person),
        started_by=person,
        amount=Decimal("25.00"),
        status=CardPayment.Status.EXPIRED,
        checkout_session_id=f"cs_test_matrix_{suffix}_{secrets.token_hex(4)}",
        checkout_url="https://checkout.invalid/pay",
    )
    prior = PriorLearning.objects.create(
        person=person,
        title="First aid",
        completed_on=timezone.localdate() - dt.timedelta(days=100),
        cpd_hours=Decimal("3"),
    )
    prior.evidence.save(f"evidence-{suffix}.pdf", ContentFile(PDF), save=True)

    draft = FundingRequestFactory.create(person=person)
    funding_round = FundingRoundFactory.create()
    submitted = FundingRequestFactory.create(
        person=person,
        round=funding_round,
        status=FundingRequest.Status.UNDER_REVIEW,
        submitted_at=now,
    )
    document = FundingDocument(
        request=submitted,
        kind=FundingDocument.Kind.SUPPORTING,
        original_name="quote.pdf",
        content_type="application/pdf",
        size=len(PDF),
        uploaded_by=person,
    )
    document.file.save("quote.pdf", ContentFile(PDF), save=True)
    invoice = Invoice(
        request=submitted,
        supplier="University of Westmoor",
        number=f"INV-{suffix}",
        amount=Decimal("100"),
        invoice_date=timezone.localdate(),
        original_name="invoice.pdf",
    )
    invoice.file.save("invoice.pdf", ContentFile(PDF), save=True)
    awaiting = FundingRequestFactory.create(
        person=person,
        status=FundingRequest.Status.AWAITING_MANAGER,
        submitted_at=now,
    )
    support_token = f"matrix-support-{suffix}-{secrets.token_urlsafe(16)}"
    ManagerSupport.objects.create(
        request=awaiting,
        token_hash=hash_token(support_token),
        manager_email=awaiting.manager_email,
        manager_name=awaiting.manager_name,
        expires_at=now + dt.timedelta(days=14),
    )
    application = ApplicationFactory.create(person=person)
    submitted_application = ApplicationFactory.create(
        person=person, status="submitted", submitted_at=now
    )
    export = ExportFile(
        person=person,
        token=secrets.token_urlsafe(32),
        expires_at=now + dt.timedelta(days=7),
    )
    export.file.save("my-data.zip", ContentFile(b"PK\x05\x06" + b"\x00" * 18))
    record_consent(person, "marketing", "email", True, "preferences")
    DataSubjectRequest.objects.create(
        person=person, kind=DataSubjectRequest.Kind.ACCESS, details="A copy please"
    )
    return {
        "course": course,
        "session": upcoming,
        "booking": booking,
        "attended": attended,
        "prior": prior,
        "payment": payment,
        "card_payment": card_payment,
        "draft_request": draft,
        "submitted_request": submitted,
        "round": funding_round,
        "document": document,
        "invoice": invoice,
        "support_token": support_token,
        "application": application,
        "submitted_application": submitted_application,
        "export": export,
        "unsubscribe_token": unsubscribe_token(
            person, purpose="marketing", channel="email"
        ),
    }


def _survey():
    from surveys.models import Question, Survey

    survey = Survey.objects.create(title="Matrix survey", status="open")
    Question.objects.create(survey=survey, kind="text", text="Why?", required=False)
    return survey


def _invoiced(organisation):
    """An invoice on the organisation's account (a charge staff entered)."""
    Transaction.objects.create(
        organisation=organisation, kind="charge", amount=10, description="matrix"
    )
    day = timezone.localdate()
    [invoice] = raise_invoices(day, day, by=None, organisations=[organisation])
    return invoice


def build_world() -> World:
    world = World()
    for role in (LEARNER, OTHER_LEARNER):
        person = UserFactory.create()
        EmailAddress.objects.create(
            user=person, email=person.email, primary=True, verified=True
        )
        world.users[role] = person
    for role, group in STAFF_GROUPS.items():
        user = UserFactory.create(is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        EmailAddress.objects.create(
            user=user, email=user.email, primary=True, verified=True
        )
        world.things.setdefault("totp", {})[role] = give_totp(user)
        world.users[role] = user
    world.users[SUPERUSER] = UserFactory.create(is_staff=True, is_superuser=True)
    world.users[SUPERUSER_NO_STAFF_FLAG] = UserFactory.create(is_superuser=True)
    world.users[ANONYMOUS] = None

    learner = world.users[LEARNER]
    mine = _learner_things(learner, suffix="A")
    _learner_things(world.users[OTHER_LEARNER], suffix="B")
    now = timezone.now()
    draft_course = CourseFactory.create(status="draft")
    bookable = SessionFactory.create(course=mine["course"])
    organisation = OrganisationFactory.create()
    # Organisations: learner A holds every role in one, learner B in another.
    # A colleague of A's has a booking and another awaiting approval, and
    # someone has asked to join A's organisation.
    org = OrganisationFactory.create(pays_on_account=True)
    roles_all = {"is_booker": True, "is_approver": True, "is_finance_contact": True}
    member_of(learner, org, **roles_all)
    member_of(world.users[OTHER_LEARNER], OrganisationFactory.create(), **roles_all)
    colleague = UserFactory.create()
    member_of(colleague, org)
    org_booking = BookingFactory.create(person=colleague, session=mine["session"])
    org_approval = BookingFactory.create(
        person=colleague,
        session=bookable,
        status=Booking.Status.AWAITING_APPROVAL,
        approval_organisation=org,
        approval_expires_at=now + dt.timedelta(days=5),
    )
    org_request = member_of(UserFactory.create(), org, confirmed=False)
    org_funding = FundingRequestFactory.create(
        person=colleague,
        organisation=org,
        manager_email=learner.email,
        status=FundingRequest.Status.AWAITING_MANAGER,
        submitted_at=now,
    )
    ManagerSupport.objects.create(
        request=org_funding,
        token_hash=hash_token(secrets.token_urlsafe(16)),
        manager_email=learner.email,
        manager_name="A",
        expires_at=now + dt.timedelta(days=14),
    )
    staff = world.users[BOOKING_ADMIN]
    campaign = CampaignFactory.create(links=["https://example.org/"])
    draft_policy = PolicyVersion.objects.create(
        kind=PolicyVersion.Kind.PRIVACY, version="matrix-draft", body="## Draft\n"
    )
    totps = world.things["totp"]
    world.things = {
        **mine,
        "learner": learner,
        "draft_course": draft_course,
        "bookable_session": bookable,
        "org": org,
        "org_booking": org_booking,
        "org_approval": org_approval,
        "org_request": org_request,
        "org_funding": org_funding,
        "privacy_version": PolicyVersion.objects.filter(
            kind=PolicyVersion.Kind.PRIVACY, published_at__isnull=False
        ).first(),
        "cookies_version": PolicyVersion.objects.filter(
            kind=PolicyVersion.Kind.COOKIES, published_at__isnull=False
        ).first(),
    }
    world.objects = {
        "auth.group": Group.objects.get(name=roles.BOOKING_ADMINS),
        "account.emailaddress": EmailAddress.objects.get(user=learner),
        "mfa.authenticator": totps[BOOKING_ADMIN],
        "socialaccount.socialaccount": SocialAccount.objects.create(
            user=learner, provider="westmoor", uid="matrix-learner"
        ),
        "accounts.user": learner,
        "accounts.organisation": organisation,
        "accounts.membership": org_request,
        "courses.provider": mine["course"].provider,
        "courses.topic": mine["course"].topics.first(),
        "courses.course": mine["course"],
        "courses.session": mine["session"],
        "bookings.booking": mine["booking"],
        "bookings.transaction": Transaction.objects.filter(person=learner).first(),
        "bookings.stafflog": StaffLog.objects.create(
            actor=staff, action="matrix", session=mine["session"]
        ),
        "bookings.mailrecord": MailRecord.objects.create(
            key=f"matrix-{secrets.token_hex(4)}",
            kind="booked",
            to=learner.email,
            booking=mine["booking"],
        ),
        "bookings.priorlearning": mine["prior"],
        "funding.fundingstream": mine["round"].stream,
        "funding.fundinground": mine["round"],
        "funding.fundingrequest": mine["submitted_request"],
        "funding.application": mine["submitted_application"],
        "funding.applicationtype": mine["submitted_application"].type,
        "funding.fundingmail": FundingMail.objects.create(
            key=f"matrix-{secrets.token_hex(4)}",
            kind="submitted",
            to=learner.email,
            subject="Your request",
            body="Hello",
            request=mine["submitted_request"],
        ),
        # A draft: published versions can never be deleted, drafts can.
        "consent.policyversion": draft_policy,
        "consent.processingpurpose": ProcessingPurpose.objects.order_by("pk").first(),
        "consent.consentrecord": ConsentRecord.objects.filter(person=learner).first(),
        "privacy.datasubjectrequest": DataSubjectRequest.objects.filter(
            person=learner
        ).first(),
        "privacy.auditevent": AuditEvent.objects.create(
            action="matrix", subject=f"user:{learner.pk}"
        ),
        "privacy.disclosure": Disclosure.objects.create(
            person=learner, recipient="Provider", fields="name", purpose="booking"
        ),
        "privacy.transmission": _transmission(world, learner),
        "privacy.retentionrun": RetentionRun.objects.create(
            category="matrix", removed=0
        ),
        "marketing.campaign": campaign,
        "marketing.delivery": Delivery.objects.create(
            campaign=campaign,
            person=learner,
            status=Delivery.Status.SENT,
            sent_at=now,
            track_code="matrix-measuring-code",
        ),
        "surveys.survey": _survey(),
        "consent.contactpoint": ContactPoint.objects.create(
            team="booking", email="bookings@example.org"
        ),
        # An invoice of learner A's organisation, where A is finance contact.
        "organisations.invoice": _invoiced(org),
    }
    # Learner A has also asked to join another organisation (not confirmed):
    # its pages must not exist for them (tests/organisations cover it too).
    Membership.objects.create(person=learner, organisation=organisation)
    world.things["organisation_invoice"] = world.objects["organisations.invoice"]
    world.objects["privacy.transmissionmail"] = TransmissionMail.objects.create(
        key=f"matrix-{secrets.token_hex(4)}",
        kind="transmission",
        to="records@example.org",
        status=TransmissionMail.Status.SENT,
        transmission=world.objects["privacy.transmission"],
    )
    world.things["org_payment"] = record_payment(
        org, amount=Decimal("5"), reference="matrix", by=staff
    )
    statement, _counts = upload_statement(
        ParsedStatement(
            account="matrix",
            lines=[
                ParsedLine(
                    booked_on=timezone.localdate(),
                    amount=Decimal("7"),
                    description=f"matrix {secrets.token_hex(4)}",
                )
            ],
        ),
        filename="matrix.sta",
        format="mt940",
        by=staff,
    )
    world.objects["payments.bankstatement"] = statement
    world.objects["payments.statementline"] = statement.lines.get()
    world.objects["payments.paymentreference"] = reference_for(person=learner)
    card_payment = world.things["card_payment"]
    world.objects["payments.cardpayment"] = card_payment
    # A refund Stripe already confirmed: "ask again" on it asks Stripe nothing.
    from payments.models import CardRefund

    world.objects["payments.cardrefund"] = CardRefund.objects.create(
        card_payment=card_payment,
        amount=Decimal("1.00"),
        status=CardRefund.Status.FAILED,
        last_error="matrix",
    )
    # Services: learner A and learner B have each bought a pack.
    product = Product.objects.create(
        name="Matrix pack", slug="matrix-pack", price=Decimal("5"), stock=100
    )
    world.things["product"] = product
    world.things["purchase"] = buy_product(learner, product)
    buy_product(world.users[OTHER_LEARNER], product)
    world.objects["products.product"] = product
    world.objects["products.purchase"] = world.things["purchase"]
    for role, user in world.users.items():
        world.clients[role] = _client(user)
    return world


def _transmission(world, learner) -> Transmission:
    """Learner A's data, sent to another organisation: its one-time link."""
    token = secrets.token_urlsafe(32)
    transmission = Transmission(
        request=DataSubjectRequest.objects.create(
            person=learner, kind="portability", identity_verified=True
        ),
        person=learner,
        recipient_name="Records Ltd",
        recipient_email="records@example.org",
        sent_at=timezone.now(),
        token_hash=transfer_hash(token),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    transmission.file.save("matrix.zip", ContentFile(b"PK matrix"), save=False)
    transmission.save()
    world.things["transfer_token"] = token
    return transmission
