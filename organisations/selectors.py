"""Reads for the organisation pages. Only what a booker or approver needs about
the organisation's own confirmed members, and what its finance contacts need
about its account: never equality data, never another organisation's people
or money."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import (
    DecimalField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import Membership, Organisation, User
from accounts.selectors import confirmed_members, users_with_email
from bookings.models import Booking, Transaction
from bookings.selectors import balance_after
from config.search import holding_every_word, search_words

from .models import Invoice, InvoiceLine

# Bookings a member still has to come (held or waiting).
UPCOMING = (
    Booking.Status.CONFIRMED,
    Booking.Status.AWAITING_APPROVAL,
    Booking.Status.OFFERED,
    Booking.Status.WAITLISTED,
)


def membership_for_page(user: User, organisation_id: int) -> Membership:
    """The viewer's confirmed membership holding a role, or 404: an
    organisation's pages do not exist for anyone else (not even to say so)."""
    membership = (
        Membership.objects.confirmed()
        .filter(person=user, organisation_id=organisation_id)
        .filter(Q(is_booker=True) | Q(is_approver=True) | Q(is_finance_contact=True))
        .select_related("organisation")
        .first()
    )
    if membership is None or not user.is_active or user.erased_at is not None:
        raise Http404("No such organisation page")
    if user.processing_restricted:
        # Acting for an organisation records what this person did: while
        # they have asked us to restrict the use of their data, they do not.
        raise PermissionDenied(
            "While the use of your data is restricted you cannot act for an "
            "organisation. Contact our data protection lead to lift it."
        )
    return membership


def members_overview(organisation: Organisation, *, search: str = "") -> QuerySet[User]:
    """Confirmed members by name (those matching `search`: members_matching)
    with their upcoming bookings and CPD hours this year (attended
    sessions). The hours are summed for each row fetched and the bookings
    prefetched for those rows, so a page of members costs the same in an
    organisation of ten or ten thousand."""
    now = timezone.now()
    year_start = dt.datetime(
        timezone.localdate().year, 1, 1, tzinfo=timezone.get_current_timezone()
    )
    upcoming = (
        Booking.objects.filter(status__in=UPCOMING, session__starts_at__gt=now)
        .select_related("session__course")
        .order_by("session__starts_at", "pk")
    )
    hours = (
        Booking.objects.filter(
            person=OuterRef("pk"),
            status=Booking.Status.ATTENDED,
            session__starts_at__gte=year_start,
            session__starts_at__lte=now,
        )
        .order_by()
        .values("person")
        .annotate(hours=Sum("session__course__cpd_hours"))
        .values("hours")
    )
    return (
        members_matching(confirmed_members(organisation), search)
        .select_related("profile")
        .annotate(
            cpd_hours_this_year=Coalesce(
                Subquery(hours, output_field=DecimalField()), Decimal("0")
            )
        )
        .prefetch_related(Prefetch("bookings", upcoming, to_attr="upcoming"))
    )


def members_matching(members: QuerySet[User], search: str) -> QuerySet[User]:
    """`members` matching every word of `search` (up to five): a word with an
    @ is a whole email address; any other is part of the first or last name.
    The pages do not show members' addresses, so a part of one finds no one:
    guessing letters must not reveal them."""
    for word in search_words(search):
        if "@" in word:
            members = users_with_email(word, among=members)
        else:
            members = holding_every_word(members, word, "first_name", "last_name")
    return members


# A booker chooses people from at most this many members at once (by name);
# a search finds the others.
MEMBERS_OFFERED = 100


def members_offered(
    members: QuerySet[User], search: str
) -> tuple[QuerySet[User], bool]:
    """The first MEMBERS_OFFERED of `members` (by name) matching `search`, as
    a queryset a form can check a choice against, and whether more match."""
    matching = members_matching(members, search)
    first = matching.values("pk")[:MEMBERS_OFFERED]
    more = matching.values("pk")[: MEMBERS_OFFERED + 1].count() > MEMBERS_OFFERED
    return matching.filter(pk__in=first), more


def member_booking(organisation: Organisation, booking_id: int) -> Booking:
    """A booking of one of the organisation's confirmed members that is not
    charged to another organisation, or 404."""
    booking = (
        Booking.objects.select_related("person", "session__course")
        .filter(
            Q(organisation__isnull=True) | Q(organisation=organisation),
            pk=booking_id,
            person__memberships__organisation=organisation,
            person__memberships__status=Membership.Status.CONFIRMED,
            person__erased_at__isnull=True,
            person__processing_restricted=False,
        )
        .first()
    )
    if booking is None:
        raise Http404("No such booking")
    return booking


def awaiting_approval(organisation: Organisation) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(
            approval_organisation=organisation,
            status=Booking.Status.AWAITING_APPROVAL,
            person__memberships__organisation=organisation,
            person__memberships__status=Membership.Status.CONFIRMED,
        )
        .select_related("person", "session__course")
        .order_by("approval_expires_at", "pk")
    )


def membership_requests(organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(
            organisation=organisation,
            status=Membership.Status.REQUESTED,
            person__is_active=True,
            person__erased_at__isnull=True,
            # Only people who proved the address is theirs are shown.
            person__emailaddress__verified=True,
        )
        .distinct()
        .select_related("person__profile")
        .order_by("requested_at", "pk")
    )


def confirmed_members_for_booking(organisation: Organisation) -> QuerySet[User]:
    """Members who may be booked: confirmed, not restricted."""
    return (
        confirmed_members(organisation)
        .filter(processing_restricted=False)
        .select_related("profile")
    )


def funding_awaiting_support(organisation: Organisation, approver: User):
    """Members' funding requests that name this approver as their manager and
    wait for their statement."""
    from funding.models import FundingRequest

    return (
        FundingRequest.objects.filter(
            organisation=organisation,
            status=FundingRequest.Status.AWAITING_MANAGER,
            manager_email__iexact=approver.email,
            person__memberships__organisation=organisation,
            person__memberships__status=Membership.Status.CONFIRMED,
        )
        .select_related("person", "provider")
        .order_by("submitted_at", "pk")
    )


# --- the organisation's account (finance contacts) ---------------------------


def account_ledger(organisation: Organisation) -> QuerySet[Transaction]:
    """The organisation's ledger, newest first, each row with the balance after
    it (`balance`) and the document it is on, in one query."""
    return (
        Transaction.objects.filter(organisation=organisation)
        .select_related("person", "invoice_line__invoice")
        .annotate(balance=balance_after())
        .order_by("-created_at", "-pk")
    )


def account_balance(organisation: Organisation) -> Decimal:
    """What the organisation owes now (negative: in credit)."""
    return Transaction.objects.filter(organisation=organisation).aggregate(
        owed=Coalesce(Sum("amount"), Decimal("0"))
    )["owed"]


def account_documents(organisation: Organisation) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(organisation=organisation)
        .select_related("credits_invoice")
        .order_by("-issued_at", "-pk")
    )


def account_document_get(organisation: Organisation, number: str) -> Invoice:
    """One of the organisation's invoices or credit notes with its lines, or
    404 (another organisation's number is not found, not forbidden)."""
    invoice = (
        Invoice.objects.filter(organisation=organisation, number=number)
        .select_related("credits_invoice")
        .prefetch_related(
            Prefetch("lines", InvoiceLine.objects.order_by("pk")),
            Prefetch("credit_notes", Invoice.objects.order_by("pk")),
        )
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice")
    return invoice


def places_for_members(session, organisation: Organisation):
    """How many places the organisation's members may take on the session now
    (ring-fenced places for others excluded), and the reservations that hold
    places back for others."""
    from courses.selectors import places_open_to, reservations_unreleased

    now = timezone.now()
    held = session.bookings.confirmed().count()
    reservations = list(reservations_unreleased(session_ids=[session.pk]))
    memberships = frozenset({(organisation.pk, organisation.kind)})
    left = places_open_to(
        session,
        held=held,
        reservations=reservations,
        memberships=memberships,
        now=now,
    )
    others = [
        r
        for r in reservations
        if r.is_active(now) and r.left and not r.admits(memberships)
    ]
    return left, others
