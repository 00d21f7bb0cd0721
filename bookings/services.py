"""Booking writes: book, cancel, promote from the waiting list, ledger entries
and the mail outbox.

Every place-changing service locks the session row (`select_for_update`) inside
a transaction, so a session never has more confirmed bookings than places under
any concurrency. Mail is written to the outbox in the same transaction and sent
by a Celery task after commit; see `MailRecord`.
"""

import logging
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organisation, User
from accounts.selectors import (
    account_to_charge,
    approval_needed_from,
    approvers_of,
    holds_role,
    is_confirmed_member,
    memberships_of,
    memberships_of_people,
)
from config import outbox
from courses.models import Course, Reservation, Session, lock_course
from courses.selectors import (
    places_open_to,
    reservations_unreleased,
    sessions_with_counts,
)
from courses.services import catalogue_changed

from .models import (
    Booking,
    Evaluation,
    MailRecord,
    PriorLearning,
    StaffLog,
    Transaction,
)

log = logging.getLogger(__name__)


class BookingError(Exception):
    """A refusal whose message is safe to show to the person."""


def has_verified_email(user: User) -> bool:
    return EmailAddress.objects.filter(user=user, verified=True).exists()


# --- mail outbox -------------------------------------------------------------


def queue_mail(
    *,
    kind: str,
    key: str,
    booking: Booking | None = None,
    session: Session | None = None,
    to: str = "",
    subject: str = "",
    body: str = "",
) -> MailRecord | None:
    """Record a transactional mail and send it after commit. Idempotent per key.
    Nothing is written for an erased address (`config.outbox.refuses`)."""
    to = to or (booking.person.email if booking else "")
    if outbox.refuses(to):
        return None
    record, created = MailRecord.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "booking": booking,
            "session": session or (booking.session if booking else None),
            "to": to,
            "subject": subject,
            "body": body,
        },
    )
    if created:
        transaction.on_commit(lambda: dispatch_mail(record.pk))
    return record if created else None


def dispatch_mail(record_id: int) -> None:
    """Hand the mail to Celery. If the broker is down the row stays pending and
    the periodic `send_pending_mail` task sends it once the broker is back."""
    from . import tasks

    try:
        tasks.send_booking_mail.delay(record_id)
    except Exception:
        log.warning("Broker unavailable; mail %s left in the outbox", record_id)


# --- ledger -----------------------------------------------------------------


def _charge(booking: Booking, *, by: User | None) -> None:
    price = booking.session.course.price
    if price > 0:
        Transaction.objects.create(
            person=booking.person,
            organisation=booking.organisation,
            booking=booking,
            kind=Transaction.Kind.CHARGE,
            amount=price,
            description=_("Place on %(session)s") % {"session": booking.session},
            # The purchase order it is charged under: the place's own, or the
            # organisation's for the year.
            reference=booking.purchase_order
            or (booking.organisation.purchase_order if booking.organisation else ""),
            created_by=by,
        )


def _refund(booking: Booking, *, by: User | None, in_time: bool) -> None:
    charged = sum((t.amount for t in booking.transactions.all()), start=Decimal("0"))
    if charged > 0 and in_time:
        Transaction.objects.create(
            person=booking.person,
            organisation=booking.organisation,
            booking=booking,
            kind=Transaction.Kind.REFUND,
            amount=-charged,
            description=_("Refund for cancelled place on %(session)s")
            % {"session": booking.session},
            created_by=by,
        )
        # Payments sit above the ledger for now (the ledger moving there is a
        # known debt), hence the import here rather than at the top.
        from payments.services import person_left_in_credit

        person_left_in_credit(booking.person, booking.organisation)


def record_ledger_entry(
    *,
    person: User | None,
    organisation: Organisation | None,
    kind: str,
    amount: Decimal,
    description: str,
    reference: str = "",
    by: User | None,
    means: str = "",
    provider_reference: str = "",
) -> Transaction:
    """An entry by staff, or by payments' statement matching: a payment or
    credit reduces what is owed, a charge (or a refund paid out) adds to it. Amounts are entered as
    positive numbers; the sign follows the kind. A payment says how it was paid
    (`means`, staff entry unless told); a `provider_reference` is refused by
    the database if that means already has it (each bank line is paid once)."""
    if amount <= 0:
        raise BookingError(_("Enter an amount more than £0."))
    if person is None and organisation is None:
        raise BookingError(_("Choose a person or an organisation."))
    # What is owed goes up by a charge and by money paid back to the payer.
    owed_more = (Transaction.Kind.CHARGE, Transaction.Kind.REFUND_PAID)
    signed = amount if kind in owed_more else -amount
    if kind == Transaction.Kind.PAYMENT and not means:
        means = Transaction.Means.STAFF
    entry = Transaction.objects.create(
        person=person,
        organisation=organisation,
        kind=kind,
        amount=signed,
        description=description,
        reference=reference,
        created_by=by,
        means=means if kind != Transaction.Kind.CHARGE else "",
        provider_reference=provider_reference,
    )
    _log(by, f"recorded {kind}", detail=f"£{amount} {reference}".strip())
    return entry


def _on_confirmed(
    booking: Booking, *, by: User | None, mail_kind: str = "confirmed"
) -> None:
    """A place is now held: charge it, mail the person and, where the provider
    receives attendee details, send them name and work email only and log it."""
    _charge(booking, by=by)
    queue_mail(kind=mail_kind, booking=booking, key=f"booking:{booking.pk}:{mail_kind}")
    provider = booking.session.course.provider
    if provider.shares_attendee_details and provider.contact_email:
        from privacy.services import log_disclosure

        queue_mail(
            kind="provider_notice",
            booking=booking,
            to=provider.contact_email,
            key=f"booking:{booking.pk}:provider_notice",
        )
        log_disclosure(
            booking.person,
            recipient=provider.name,
            fields=["name", "work email"],
            purpose=f"Attendee of {booking.session}",
            reference=f"booking:{booking.pk}",
        )


def _hold_or_confirm(
    booking: Booking, *, by: User | None, mail_kind: str = "confirmed"
) -> None:
    """A place has just been given to the booking (status confirmed). If the
    person's organisation must approve it first, hold it awaiting approval
    instead: the learner and each approver are told, once."""
    if booking.approval_organisation_id is None or booking.approved_at is not None:
        _on_confirmed(booking, by=by, mail_kind=mail_kind)
        return
    organisation = booking.approval_organisation
    # An approver's own booking goes to the other approvers; with nobody else
    # to ask, it is theirs to make and is confirmed at once.
    approvers = [a for a in approvers_of(organisation) if a.pk != booking.person_id]
    if not approvers:
        _on_confirmed(booking, by=by, mail_kind=mail_kind)
        return
    booking.status = Booking.Status.AWAITING_APPROVAL
    # The place is held for the organisation's days, but never past the start.
    booking.approval_expires_at = min(
        timezone.now() + timezone.timedelta(days=organisation.approval_hold_days),
        booking.session.starts_at,
    )
    booking.save(update_fields=["status", "approval_expires_at", "updated_at"])
    queue_mail(
        kind="awaiting_approval",
        booking=booking,
        key=f"booking:{booking.pk}:awaiting_approval",
    )
    for approver in approvers:
        queue_mail(
            kind="approval_request",
            booking=booking,
            to=approver.email,
            key=f"booking:{booking.pk}:approval_request:{approver.pk}",
        )


def _lock_booking(booking: Booking) -> Booking:
    """Lock the booking's session, then read the booking afresh under the lock."""
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("course__provider")
        .get(pk=booking.session_id)
    )
    booking = Booking.objects.select_related("person", "approval_organisation").get(
        pk=booking.pk
    )
    booking.session = session
    return booking


def _check_approver(booking: Booking, by: User) -> None:
    if booking.status != Booking.Status.AWAITING_APPROVAL:
        raise BookingError(_("This booking is not awaiting approval."))
    if booking.person_id == by.pk:
        raise BookingError(_("You cannot approve your own booking."))
    if not holds_role(by, booking.approval_organisation, "is_approver"):
        raise BookingError(
            _("Only an approver of %(org)s can approve or decline this booking.")
            % {"org": booking.approval_organisation}
        )


def _check_approvable(booking: Booking) -> None:
    """What must still be true for a held place to be confirmed."""
    session = booking.session
    if session.status != Session.Status.SCHEDULED:
        raise BookingError(_("This session has been cancelled."))
    if session.starts_at <= timezone.now():
        raise BookingError(_("This session has already started."))
    if booking.approval_expires_at and booking.approval_expires_at <= timezone.now():
        raise BookingError(
            _("The time to approve this booking has passed; the place is released.")
        )
    if not is_confirmed_member(booking.person, booking.approval_organisation):
        raise BookingError(
            _("%(person)s is no longer a confirmed member of %(org)s.")
            % {"person": booking.person, "org": booking.approval_organisation}
        )
    if booking.organisation_id is not None and booking.organisation != (
        account_to_charge(booking.person)
    ):
        raise BookingError(
            _("%(org)s can no longer be charged for this person's place.")
            % {"org": booking.organisation}
        )


def _cancel_pending_approval_mail(booking: Booking) -> None:
    """Once a place is no longer held for approval, requests to approvers (and
    the learner's 'held' notice) still waiting in the outbox are moot."""
    MailRecord.objects.filter(
        booking=booking,
        kind__in=("approval_request", "awaiting_approval"),
        status=MailRecord.Status.PENDING,
    ).update(status=MailRecord.Status.CANCELLED)


def approve_booking(booking: Booking, *, by: User) -> Booking:
    """The organisation's approver agrees: the held place is confirmed,
    charged and the learner told."""
    with transaction.atomic():
        booking = _lock_booking(booking)
        _check_approver(booking, by)
        _check_approvable(booking)
        booking.status = Booking.Status.CONFIRMED
        booking.approved_at = timezone.now()
        booking.approved_by = by
        booking.approval_expires_at = None
        booking.save(
            update_fields=[
                "status",
                "approved_at",
                "approved_by",
                "approval_expires_at",
                "updated_at",
            ]
        )
        _cancel_pending_approval_mail(booking)
        _on_confirmed(booking, by=by, mail_kind="approved")
        _log(by, "approved booking", booking=booking, session=booking.session)
        return booking


def decline_booking(booking: Booking, *, by: User, reason: str = "") -> Booking:
    """The organisation's approver says no: the held place is released to the
    waiting list and the learner told, with the reason if one was given."""
    with transaction.atomic():
        booking = _lock_booking(booking)
        _check_approver(booking, by)
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.cancelled_by = by
        booking.cancel_reason = reason.strip()[:500]
        booking.approval_expires_at = None
        booking.save()
        _cancel_pending_approval_mail(booking)
        queue_mail(
            kind="approval_declined",
            booking=booking,
            key=f"booking:{booking.pk}:approval_declined",
        )
        _log(
            by,
            "declined booking",
            booking=booking,
            session=booking.session,
            detail=booking.cancel_reason,
        )
        fill_freed_place(booking.session)
        catalogue_changed()  # places left changed
        return booking


def expire_approvals() -> int:
    """Places held awaiting approval past their time are released to the
    waiting list and the learner told. Idempotent: the periodic task runs it."""
    ids = list(
        Booking.objects.filter(
            status=Booking.Status.AWAITING_APPROVAL,
            approval_expires_at__lte=timezone.now(),
        ).values_list("pk", flat=True)
    )
    expired = 0
    for pk in ids:
        with transaction.atomic():
            booking = _lock_booking(Booking.objects.get(pk=pk))
            if booking.status != Booking.Status.AWAITING_APPROVAL:
                continue  # approved or declined while we waited for the lock
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_at = timezone.now()
            booking.cancel_reason = "Not approved in time"
            booking.approval_expires_at = None
            booking.save()
            _cancel_pending_approval_mail(booking)
            queue_mail(
                kind="approval_expired",
                booking=booking,
                key=f"booking:{pk}:approval_expired",
            )
            fill_freed_place(booking.session)
            expired += 1
    if expired:
        catalogue_changed()  # places left changed
    return expired


def release_held_for_non_members(person: User | None = None) -> int:
    """Places held for an organisation's approval whose person is no longer a
    confirmed member of it (removed by an approver, or changed workplace) are
    released to the waiting list and the person told. The offers sweep runs
    it; the organisation pages call it for a person at once. Idempotent."""
    still_member = Membership.objects.confirmed().filter(
        person=models.OuterRef("person"),
        organisation=models.OuterRef("approval_organisation"),
    )
    held = Booking.objects.filter(
        ~models.Exists(still_member),
        status=Booking.Status.AWAITING_APPROVAL,
        approval_organisation__isnull=False,
    )
    if person is not None:
        held = held.filter(person=person)
    released = 0
    for pk in list(held.values_list("pk", flat=True)):
        with transaction.atomic():
            booking = _lock_booking(Booking.objects.get(pk=pk))
            if booking.status != Booking.Status.AWAITING_APPROVAL or (
                is_confirmed_member(booking.person, booking.approval_organisation)
            ):
                continue
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_at = timezone.now()
            booking.cancel_reason = "No longer a member of the approving organisation"
            booking.approval_expires_at = None
            booking.save()
            _cancel_pending_approval_mail(booking)
            _refund(booking, by=None, in_time=True)
            queue_mail(kind="cancelled", booking=booking, key=f"booking:{pk}:cancelled")
            fill_freed_place(booking.session)
            released += 1
    if released:
        catalogue_changed()  # places left changed
    return released


def book_members(
    session: Session,
    people: list[User],
    *,
    by: User,
    organisation: Organisation,
    purchase_order: str = "",
) -> list[tuple[User, Booking | None, str]]:
    """An organisation's booker books several members onto one session in one
    transaction. Each place obeys capacity and the waiting list exactly as a
    personal booking does, in the order given. A paid place is always charged
    to the organisation: a member is never charged for a place someone else
    chose, so an organisation that does not pay on account books only free
    sessions. Returns, per person, the booking (confirmed, held awaiting
    approval or waiting) or the reason there is none, worded for the booker."""
    if not holds_role(by, organisation, "is_booker"):
        raise BookingError(
            _("Only a booker of %(org)s can book for its members.")
            % {"org": organisation}
        )
    paid = session.course.price > 0
    if paid and not organisation.pays_on_account:
        raise BookingError(
            _(
                "%(org)s does not pay for places on account, so its bookers can "
                "book only free sessions. Members can book paid places themselves."
            )
            % {"org": organisation}
        )
    results: list[tuple[User, Booking | None, str]] = []
    with transaction.atomic():
        # Lock once for the whole group; book_session's lock is then re-entrant.
        locked = Session.objects.select_for_update(of=("self",)).get(pk=session.pk)
        for person in people:
            if not is_confirmed_member(person, organisation):
                results.append((person, None, _("Not a confirmed member.")))
                continue
            if locked.bookings.live().filter(person=person).exists():
                results.append((person, None, _("Already booked on this session.")))
                continue
            if (
                person.processing_restricted
                or person.erased_at is not None
                or person.closed_at is not None
            ):
                # Why is the person's own business: not said to the booker.
                results.append((person, None, _("Cannot be booked at the moment.")))
                continue
            try:
                booking = book_session(
                    person,
                    session,
                    by=by,
                    organisation=organisation if paid else None,
                    purchase_order=purchase_order if paid else "",
                )
            except BookingError as exc:
                results.append((person, None, str(exc)))
            else:
                results.append((person, booking, ""))
    return results


def swap_booking(booking: Booking, to_person: User, *, by: User) -> Booking:
    """Give one member's place to another member of the same organisation: the
    place moves without passing through the waiting list. The first person's
    booking is cancelled (refunded if charged) and the second one's confirmed
    (charged on the same terms). Both are told."""
    with transaction.atomic():
        booking = _lock_booking(booking)
        session = booking.session
        if booking.status not in (
            Booking.Status.CONFIRMED,
            Booking.Status.AWAITING_APPROVAL,
        ):
            raise BookingError(_("Only a booked place can be given to someone else."))
        if session.status != Session.Status.SCHEDULED:
            raise BookingError(_("This session has been cancelled."))
        if session.starts_at <= timezone.now():
            raise BookingError(_("This session has already started."))
        if booking.organisation_id is None and session.course.price > 0:
            # The person pays for this place themselves: nobody else may hand
            # its cost to a colleague. They can cancel it; the booker can then
            # book the colleague.
            raise BookingError(
                _(
                    "This place is paid for by the person, not the organisation, "
                    "so it cannot be given to someone else."
                )
            )
        if to_person.pk == booking.person_id:
            raise BookingError(_("Choose a different person."))
        if (
            to_person.processing_restricted
            or to_person.erased_at is not None
            or to_person.closed_at is not None
        ):
            raise BookingError(_("That person cannot be booked."))
        if session.bookings.live().filter(person=to_person).exists():
            raise BookingError(_("That person already has a booking for this session."))
        organisation = booking.organisation
        if organisation is not None and organisation != account_to_charge(to_person):
            raise BookingError(
                _("%(org)s cannot be charged for that person.") % {"org": organisation}
            )
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.cancelled_by = by
        booking.cancel_reason = f"Place given to {to_person.get_full_name()}"[:500]
        booking.save()
        _cancel_pending_approval_mail(booking)
        _refund(booking, by=by, in_time=True)
        queue_mail(
            kind="cancelled", booking=booking, key=f"booking:{booking.pk}:cancelled"
        )
        _refuse_reserved_place(
            session,
            to_person,
            _(
                "This place is reserved for %(whom)s, and that person is not one "
                "of them."
            ),
        )
        _log(by, "gave place to another member", booking=booking, session=session)
        new = Booking.objects.create(
            person=to_person,
            session=session,
            status=Booking.Status.CONFIRMED,
            booked_by=by,
            organisation=organisation,
            purchase_order=booking.purchase_order,
            approval_organisation=approval_needed_from(to_person, by=by),
        )
        _hold_or_confirm(new, by=by)
        _log(
            by,
            "took place from another member",
            booking=new,
            session=session,
            detail=f"from booking {booking.pk}",
        )
        return new


def _log(
    by: User | None,
    action: str,
    *,
    booking=None,
    session=None,
    session_id=None,
    detail="",
) -> None:
    """Record what staff did (a learner acting for themselves is not logged here)."""
    if by is not None and (booking is None or by.pk != booking.person_id):
        StaffLog.objects.create(
            actor=by,
            action=action,
            booking=booking,
            session_id=session_id or (session.pk if session else None),
            detail=detail[:500],
        )


def book_session(
    person: User,
    session: Session,
    *,
    by: User | None = None,
    organisation: Organisation | None = None,
    purchase_order: str = "",
) -> Booking:
    """Confirmed, or waitlisted when full. Staff or an organisation's booker may
    book on someone's behalf. A paid place may be charged to the person's
    organisation only when it pays on account and the person is a confirmed
    member (`accounts.selectors.account_to_charge`). When the organisation
    requires approval the place is held awaiting its approver."""
    if organisation is not None and organisation != account_to_charge(person):
        raise BookingError(
            _(
                "%(org)s has not agreed to pay for places for this person. "
                "Book without charging the organisation, or ask its approver "
                "to confirm the membership."
            )
            % {"org": organisation}
        )
    approval_organisation = approval_needed_from(person, by=by)
    with transaction.atomic():
        # Lock the session row so two requests cannot both take the last place.
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("course__provider")
            .get(pk=session.pk)
        )
        if session.status == Session.Status.CANCELLED:
            raise BookingError(_("This session has been cancelled."))
        if session.starts_at <= timezone.now():
            raise BookingError(_("This session has already started."))
        if (
            session.course.status != Course.Status.PUBLISHED
            or not session.is_open_for_booking
        ):
            raise BookingError(_("Booking for this session has closed."))
        if by is None and not has_verified_email(person):
            raise BookingError(_("Confirm your email address before you book."))
        if (
            person.processing_restricted
            or person.erased_at is not None
            or person.closed_at is not None
        ):
            # Restriction (and closure) stops new processing: a new booking would be one.
            raise BookingError(
                _(
                    "You cannot book while the use of your data is restricted at your "
                    "request. Contact our data protection lead to lift the restriction."
                )
            )
        if session.bookings.live().filter(person=person).exists():
            raise BookingError(_("You already have a booking for this session."))
        reservations = _reservations(session)
        held = session.bookings.confirmed().count()
        memberships = memberships_of(person) if reservations else frozenset()
        now = timezone.now()
        full = not places_open_to(
            session,
            held=held,
            reservations=reservations,
            memberships=memberships,
            now=now,
        )
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    person=person,
                    session=session,
                    status=Booking.Status.WAITLISTED
                    if full
                    else Booking.Status.CONFIRMED,
                    booked_by=by if by and by != person else None,
                    organisation=organisation,
                    purchase_order=purchase_order.strip()[:50],
                    approval_organisation=approval_organisation,
                )
        except IntegrityError:
            raise BookingError(
                _("You already have a booking for this session.")
            ) from None
        if booking.status == Booking.Status.CONFIRMED:
            _hold_or_confirm(booking, by=by)
        else:
            if held < session.capacity:
                # Places are free, but reserved for others: say so.
                booking.reserved_places = [
                    r for r in reservations if r.left and not r.admits(memberships)
                ]
            queue_mail(
                kind="waitlisted_reserved" if held < session.capacity else "waitlisted",
                booking=booking,
                key=f"booking:{booking.pk}:waitlisted",
            )
        _log(by, "booked on behalf", booking=booking, session=session)
        catalogue_changed()  # places left changed
        return booking


def cancellation_deadline(booking: Booking):
    session = booking.session
    return session.starts_at - timezone.timedelta(
        hours=session.course.cancellation_deadline_hours
    )


def can_cancel(booking: Booking) -> bool:
    if booking.status in (
        Booking.Status.WAITLISTED,
        Booking.Status.OFFERED,
        Booking.Status.AWAITING_APPROVAL,
    ):
        return booking.session.starts_at > timezone.now()
    return (
        booking.status == Booking.Status.CONFIRMED
        and timezone.now() < cancellation_deadline(booking)
    )


def cancel_booking(
    booking: Booking,
    by: User | None,
    *,
    reason: str = "",
    mail_kind: str = "cancelled",
) -> Booking:
    """Cancel a place (or leave the waiting list); a freed place goes to the
    first person waiting, in the same transaction. `by` None is the service
    itself (an unpaid place released), which, like staff, refunds in full."""
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("course__provider")
            .get(pk=booking.session_id)
        )
        booking = Booking.objects.select_related("person").get(pk=booking.pk)
        booking.session = session
        staff = by != booking.person
        if booking.status == Booking.Status.CANCELLED:
            raise BookingError(_("This booking is already cancelled."))
        if booking.status not in (
            Booking.Status.CONFIRMED,
            Booking.Status.WAITLISTED,
            Booking.Status.OFFERED,
            Booking.Status.AWAITING_APPROVAL,
        ):
            raise BookingError(_("A session that has taken place cannot be cancelled."))
        if not staff and not can_cancel(booking):
            raise BookingError(
                _(
                    "The deadline to cancel online has passed. Contact us if you cannot attend."
                )
            )
        held_place = booking.status in (
            Booking.Status.CONFIRMED,
            Booking.Status.OFFERED,
            Booking.Status.AWAITING_APPROVAL,
        )
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.cancelled_by = by
        booking.cancel_reason = reason.strip()[:500]
        booking.save()
        _cancel_pending_approval_mail(booking)
        _refund(
            booking,
            by=by,
            in_time=staff or timezone.now() < cancellation_deadline(booking),
        )
        queue_mail(
            kind=mail_kind, booking=booking, key=f"booking:{booking.pk}:cancelled"
        )
        _log(
            by,
            "cancelled booking",
            booking=booking,
            session=session,
            detail=booking.cancel_reason,
        )
        if held_place:
            fill_freed_place(session)
        catalogue_changed()  # places left changed
        return booking


def release_unpaid_places() -> int:
    """Cancel places on courses that release unpaid places, once their charge
    is older than the course's number of days and still not paid (the person's
    own balance only: a place charged to an organisation is invoiced, never
    released). The charge is reversed, the person told, and the place goes to
    the waiting list through `cancel_booking`, as for any cancellation."""
    from payments.selectors import unpaid_places

    now = timezone.now()
    candidates = (
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED,
            organisation__isnull=True,
            session__course__release_unpaid_after_days__isnull=False,
            session__starts_at__gt=now,
            transactions__kind=Transaction.Kind.CHARGE,
        )
        .select_related("session__course", "person")
        .distinct()
        .order_by("person_id", "pk")
    )
    released = 0
    unpaid_by_person: dict[int, dict] = {}
    for booking in candidates.iterator():
        if booking.person_id not in unpaid_by_person:
            unpaid_by_person[booking.person_id] = unpaid_places(person=booking.person)
        charge = unpaid_by_person[booking.person_id].get(booking.pk)
        days = booking.session.course.release_unpaid_after_days
        if charge is None or charge.created_at > now - timezone.timedelta(days=days):
            continue
        try:
            cancel_booking(
                booking,
                None,
                reason=_("Not paid within %(days)s days of booking") % {"days": days},
                mail_kind="unpaid_released",
            )
        except BookingError:
            continue  # cancelled meanwhile
        released += 1
    return released


def fill_freed_place(session: Session) -> Booking | None:
    """Pass a freed place on as the course says: straight to the first person
    waiting (default) or as an offer they must accept. Call with the session locked."""
    if session.course.waitlist_mode == Course.WaitlistMode.OFFER:
        return offer_place_to_next(session)
    return promote_from_waiting_list(session)


def _first_waiting(session: Session) -> Booking | None:
    if session.bookings.confirmed().count() >= session.capacity:
        return None
    if (
        session.starts_at <= timezone.now()
        or session.status != Session.Status.SCHEDULED
    ):
        return None
    # Never pass a place to someone erased or restricted (rows left from before
    # erasure withdrew people): they would be mailed and their details shared.
    waiting = (
        session.bookings.waiting()
        .filter(
            person__erased_at__isnull=True,
            person__processing_restricted=False,
            person__closed_at__isnull=True,
        )
        .order_by("created_at", "pk")
    )
    now = timezone.now()
    reservations = [
        r for r in reservations_unreleased(session_ids=[session.pk]) if r.is_active(now)
    ]
    if not reservations:
        first = waiting.first()
    else:
        # The first person waiting who may take a free place: those the
        # remaining places are reserved against keep their turn for later.
        queue = list(waiting)
        held = session.bookings.confirmed().count()
        memberships = memberships_of_people([b.person_id for b in queue])
        first = next(
            (
                b
                for b in queue
                if places_open_to(
                    session,
                    held=held,
                    reservations=reservations,
                    memberships=memberships.get(b.person_id, frozenset()),
                    now=now,
                )
            ),
            None,
        )
    if first is not None:
        first.session = session
    return first


def _fill_free_places(session: Session) -> int:
    """Pass on every free place that someone waiting may take. Call with the
    session locked. Each place given is then held, so this ends."""
    given = 0
    while fill_freed_place(session) is not None:
        given += 1
    return given


def _reservations(session: Session) -> list[Reservation]:
    """The session's active reservations, with their places `left`. Any that
    have lapsed are released first and their places passed to the waiting
    list, so nobody booking in the minutes before the sweep goes ahead of the
    people waiting. Call with the session locked.

    Most sessions have none: a plain EXISTS says so, where the query with
    places left (nested subqueries) took longer to build than to run."""
    unreleased = Reservation.objects.filter(session=session, released_at__isnull=True)
    if not unreleased.exists():
        return []
    reservations = list(reservations_unreleased(session_ids=[session.pk]))
    if _release_lapsed(session, reservations):
        reservations = list(reservations_unreleased(session_ids=[session.pk]))
    return reservations


def _release_lapsed(session: Session, reservations: list[Reservation]) -> int:
    now = timezone.now()
    lapsed = [r.pk for r in reservations if not r.is_active(now)]
    if not lapsed:
        return 0
    Reservation.objects.filter(pk__in=lapsed, released_at__isnull=True).update(
        released_at=now
    )
    _fill_free_places(session)
    return len(lapsed)


def _refuse_reserved_place(session: Session, person: User, message: str) -> None:
    """Refuse when every free place on the (locked) session is reserved for
    people other than `person`; `message` names who they are for."""
    reservations = _reservations(session)
    held = session.bookings.confirmed().count()
    if held >= session.capacity:
        raise BookingError(_("That session is full."))
    memberships = memberships_of(person) if reservations else frozenset()
    if not places_open_to(
        session,
        held=held,
        reservations=reservations,
        memberships=memberships,
        now=timezone.now(),
    ):
        whom = "; ".join(
            r.for_whom for r in reservations if r.left and not r.admits(memberships)
        )
        raise BookingError(message % {"whom": whom})


def release_reservations() -> int:
    """Reserved places whose time has passed return to general sale: each
    lapsed reservation is marked released, once, and the free places go to
    the waiting list as after a cancellation. Sessions with reservations where
    someone waiting may now take a free place (staff reduced a reservation, a
    membership was confirmed) are filled too. Idempotent; the offers sweep
    runs it. Returns how many reservations were released."""
    now = timezone.now()
    lapsed = Reservation.objects.filter(released_at__isnull=True, until__lte=now)
    fillable = sessions_with_counts().filter(
        models.Exists(
            Reservation.objects.filter(
                session=models.OuterRef("pk"), released_at__isnull=True
            )
        ),
        status=Session.Status.SCHEDULED,
        starts_at__gt=now,
        waiting_count__gt=0,
        confirmed_count__lt=models.F("capacity"),
    )
    session_ids = sorted(
        set(lapsed.values_list("session_id", flat=True))
        | set(fillable.values_list("pk", flat=True))
    )
    released = given = 0
    for session_id in session_ids:
        with transaction.atomic():
            session = (
                Session.objects.select_for_update(of=("self",))
                .select_related("course__provider")
                .get(pk=session_id)
            )
            reservations = list(reservations_unreleased(session_ids=[session.pk]))
            released += _release_lapsed(session, reservations)
            given += _fill_free_places(session)
    if released or given:
        catalogue_changed()  # places left changed
    return released


def promote_from_waiting_list(session: Session) -> Booking | None:
    """Give a free place to the first person waiting. Call with the session locked."""
    first = _first_waiting(session)
    if first is None:
        return None
    first.status = Booking.Status.CONFIRMED
    first.save(update_fields=["status", "updated_at"])
    _hold_or_confirm(first, by=None, mail_kind="promoted")
    return first


def offer_place_to_next(session: Session) -> Booking | None:
    """Hold the free place for the first person waiting until the offer expires."""
    first = _first_waiting(session)
    if first is None:
        return None
    first.status = Booking.Status.OFFERED
    first.offer_expires_at = timezone.now() + timezone.timedelta(
        hours=session.course.offer_hours
    )
    first.save(update_fields=["status", "offer_expires_at", "updated_at"])
    queue_mail(kind="offered", booking=first, key=f"booking:{first.pk}:offered")
    return first


def accept_offer(booking: Booking, by: User) -> Booking:
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("course__provider")
            .get(pk=booking.session_id)
        )
        booking = Booking.objects.select_related("person").get(pk=booking.pk)
        booking.session = session
        if booking.status != Booking.Status.OFFERED:
            raise BookingError(_("There is no place waiting for you to accept."))
        if booking.offer_expires_at and booking.offer_expires_at <= timezone.now():
            raise BookingError(
                _("Sorry, this offer has expired and the place has passed on.")
            )
        booking.status = Booking.Status.CONFIRMED
        booking.offer_expires_at = None
        booking.save(update_fields=["status", "offer_expires_at", "updated_at"])
        _hold_or_confirm(booking, by=by)
        catalogue_changed()  # places left changed
        return booking


def withdraw_erased_and_restricted() -> int:
    """Places on future sessions still held by someone erased, restricted or
    closed (from before erasure withdrew them, or booked in the instant before
    the erasure, restriction or closure committed) are withdrawn and passed
    on, with no mail to the person. Runs with the offer sweep; idempotent."""
    people = User.objects.filter(
        models.Q(erased_at__isnull=False)
        | models.Q(processing_restricted=True)
        | models.Q(closed_at__isnull=False),
        bookings__status__in=WITHDRAWABLE,
        bookings__session__starts_at__gt=timezone.now(),
    ).distinct()
    withdrawn = 0
    for person in people:
        if person.erased_at is not None:
            reason = "Withdrawn: personal data erased"
        elif person.closed_at is not None:
            reason = "Withdrawn: account closed"
        else:
            reason = "Withdrawn: processing restricted"

        withdrawn += withdraw_person_from_future_sessions(
            person, by=None, reason=reason, notify=False
        )
    return withdrawn


def expire_offers() -> int:
    """Offers past their time lapse and pass to the next person. Idempotent."""
    expired = 0
    ids = list(
        Booking.objects.filter(
            status=Booking.Status.OFFERED, offer_expires_at__lte=timezone.now()
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            session_id = Booking.objects.values_list("session_id", flat=True).get(pk=pk)
            session = (
                Session.objects.select_for_update(of=("self",))
                .select_related("course__provider")
                .get(pk=session_id)
            )
            booking = Booking.objects.select_related("person").get(pk=pk)
            if booking.status != Booking.Status.OFFERED:
                continue
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_at = timezone.now()
            booking.cancel_reason = "Offer not accepted in time"
            booking.save()
            booking.session = session
            queue_mail(
                kind="offer_expired", booking=booking, key=f"booking:{pk}:offer_expired"
            )
            fill_freed_place(session)
            expired += 1
    if expired:
        catalogue_changed()  # places left changed
    return expired


WITHDRAWABLE = (
    Booking.Status.CONFIRMED,
    Booking.Status.OFFERED,
    Booking.Status.AWAITING_APPROVAL,
    Booking.Status.WAITLISTED,
)


def withdraw_person_from_future_sessions(
    person: User, *, by: User | None, reason: str, notify: bool
) -> int:
    """Cancel every place, offer and waiting-list place the person holds on
    sessions still to come, refunding paid places in full, and pass each freed
    place to the next person waiting. Erasure and restriction call this. Each
    session is locked in turn (in id order); safe to run twice. `notify=False`
    (erasure) queues no mail to the person. Returns how many were withdrawn."""
    session_ids = sorted(
        set(
            Booking.objects.filter(
                person=person,
                status__in=WITHDRAWABLE,
                session__starts_at__gt=timezone.now(),
            ).values_list("session_id", flat=True)
        )
    )
    withdrawn = 0
    for session_id in session_ids:
        with transaction.atomic():
            session = (
                Session.objects.select_for_update(of=("self",))
                .select_related("course__provider")
                .get(pk=session_id)
            )
            booking = (
                Booking.objects.filter(
                    person=person, session=session, status__in=WITHDRAWABLE
                )
                .select_related("person")
                .first()
            )
            if booking is None:
                continue
            booking.session = session
            held_place = booking.status in (
                Booking.Status.CONFIRMED,
                Booking.Status.OFFERED,
                Booking.Status.AWAITING_APPROVAL,
            )
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_at = timezone.now()
            booking.cancelled_by = by
            booking.cancel_reason = reason[:500]
            booking.offer_expires_at = None
            booking.save()
            _cancel_pending_approval_mail(booking)
            _refund(booking, by=by, in_time=True)
            if notify:
                queue_mail(
                    kind="cancelled",
                    booking=booking,
                    key=f"booking:{booking.pk}:cancelled",
                )
            _log(by, "withdrew booking", booking=booking, session=session)
            if held_place:
                fill_freed_place(session)
            withdrawn += 1
    if withdrawn:
        catalogue_changed()  # places left changed
    return withdrawn


def add_prior_learning(person: User, **fields) -> PriorLearning:
    with transaction.atomic():
        return PriorLearning.objects.create(person=person, **fields)


# --- sending ------------------------------------------------------------------

MAIL_SUBJECTS = {
    "confirmed": "Booking confirmed: {course}",
    "waitlisted": "You are on the waiting list: {course}",
    "waitlisted_reserved": "You are on the waiting list: {course}",
    "promoted": "A place has come free and is yours: {course}",
    "offered": "A place is available, accept it by {expires}: {course}",
    "offer_expired": "Your offer of a place has expired: {course}",
    "cancelled": "Booking cancelled: {course}",
    "unpaid_released": "Your place was released because it was not paid: {course}",
    "session_cancelled": "Session cancelled: {course} on {date}",
    "moved": "Your booking has moved to {date}: {course}",
    "reminder": "Reminder: {course} on {date}",
    "provider_notice": "New attendee for {course} on {date}",
    "minimum_alert": "Below minimum numbers: {course} on {date}",
    "awaiting_approval": "Your place is held awaiting approval: {course}",
    "approval_request": "Please approve a booking: {course} on {date}",
    "approved": "Booking approved and confirmed: {course}",
    "approval_declined": "Booking not approved: {course}",
    "approval_expired": "Booking not approved in time: {course}",
}
# Mail that carries the session as a calendar attachment.
WITH_ICS = ("confirmed", "promoted", "moved", "reminder", "approved")


def _build_message(record: MailRecord):
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string

    from .calendar import booking_ics

    booking = record.booking
    session = record.session or booking.session
    local_start = timezone.localtime(session.starts_at)
    context = {
        "booking": booking,
        "session": session,
        "course": session.course,
        "person": booking.person if booking else None,
        "record": record,
        "site_url": settings.SITE_URL,
        "site_name": settings.SITE_NAME,
    }
    if record.subject:
        subject = record.subject
    else:
        expires = booking.offer_expires_at if booking else None
        subject = MAIL_SUBJECTS[record.kind].format(
            course=session.course.title,
            date=local_start.strftime("%-d %B %Y"),
            expires=timezone.localtime(expires).strftime("%-d %B %H:%M")
            if expires
            else "",
        )
    body = render_to_string(f"bookings/email/{record.kind}.txt", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        to=[record.to],
        headers={"X-CPD-Mail-Key": record.key},
    )
    if record.kind in WITH_ICS and booking is not None:
        message.attach("session.ics", booking_ics(booking), "text/calendar")
    return message


def send_mail_record(record_id: int) -> bool:
    """Send one outbox row unless it was already sent (config.outbox.send_row)."""
    rows = MailRecord.objects.select_related(
        "booking__person", "booking__session__course", "session__course"
    )
    return outbox.send_row(rows, record_id, _build_message)


def send_pending_mail(*, older_than_seconds: int = 60) -> int:
    """Send outbox rows that no task has sent (the broker was down, say), and
    failed rows whose back-off has passed, until OUTBOX_RETRY_HORIZON_HOURS."""
    return outbox.sweep(
        MailRecord,
        send_mail_record,
        older_than_seconds=older_than_seconds,
    )


def send_mail_again(record_ids: list[int], *, by: User) -> tuple[int, int]:
    """Queue mail that was not sent once more (config.outbox.send_again), for
    staff; (queued, refused because the person was erased). Idempotent."""
    queued, refused = outbox.send_again(
        MailRecord.objects.all(), record_ids, dispatch_mail
    )
    if queued or refused:
        log.info(
            "%s sent again %s booking emails (%s refused: erased)",
            by.pk,
            queued,
            refused,
        )
    return queued, refused


def queue_reminders(*, days_before: int) -> int:
    """Queue a reminder for every confirmed place on sessions `days_before` away."""
    day = timezone.localdate() + timezone.timedelta(days=days_before)
    bookings = Booking.objects.filter(
        status=Booking.Status.CONFIRMED,
        session__status=Session.Status.SCHEDULED,
        session__starts_at__date=day,
    ).select_related("person")
    queued = 0
    for booking in bookings:
        with transaction.atomic():
            queued += bool(
                queue_mail(
                    kind="reminder",
                    booking=booking,
                    key=f"booking:{booking.pk}:reminder",
                )
            )
    return queued


def _certificate_code() -> str:
    import secrets

    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join(
        "".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)
    )


def has_started(session: Session) -> bool:
    return session.starts_at <= timezone.now()


def _refuse_before_start(session: Session, message: str) -> None:
    """What follows a session (attendance, a certificate, CPD hours, an
    evaluation) cannot be recorded before it starts."""
    if not has_started(session):
        starts = timezone.localtime(session.starts_at).strftime("%-d %B %Y %H:%M")
        raise BookingError(message % {"course": session.course.title, "starts": starts})


def mark_attendance(bookings, *, attended: bool, by: User) -> int:
    """Mark confirmed places as attended (with a certificate code) or not attended.

    Refused, with nothing changed, if any of the places is on a session that has
    not started; once it has, staff may correct attendance either way."""
    with transaction.atomic():
        status = Booking.Status.ATTENDED if attended else Booking.Status.NO_SHOW
        changed = 0
        marked = list(
            Booking.objects.select_for_update(of=("self",))
            .select_related("session__course")
            .filter(pk__in=[b.pk for b in bookings])
            .filter(
                status__in=(
                    Booking.Status.CONFIRMED,
                    Booking.Status.ATTENDED,
                    Booking.Status.NO_SHOW,
                )
            )
            .exclude(status=status)
            .order_by("pk")
        )
        for booking in marked:
            _refuse_before_start(
                booking.session,
                _(
                    "Attendance for %(course)s cannot be recorded before the session "
                    "starts on %(starts)s."
                ),
            )
        for booking in marked:
            booking.status = status
            if attended and not booking.certificate_code:
                booking.certificate_code = _certificate_code()
            booking.save(update_fields=["status", "certificate_code", "updated_at"])
            _log(
                by,
                f"marked {booking.get_status_display().lower()}",
                booking=booking,
                session_id=booking.session_id,
            )
            changed += 1
        return changed


def save_register(session: Session, *, present: set[int], by: User) -> int:
    """The register page: the ticked places attended, every other place on the
    session did not attend. Refused before the session starts."""
    with transaction.atomic():
        _refuse_before_start(
            session,
            _(
                "Attendance for %(course)s cannot be recorded before the session "
                "starts on %(starts)s."
            ),
        )
        places = list(
            session.bookings.filter(
                status__in=(
                    Booking.Status.CONFIRMED,
                    Booking.Status.ATTENDED,
                    Booking.Status.NO_SHOW,
                )
            )
        )
        came = [b for b in places if b.pk in present]
        absent = [b for b in places if b.pk not in present]
        return mark_attendance(came, attended=True, by=by) + mark_attendance(
            absent, attended=False, by=by
        )


def cancel_session(session: Session, by: User, *, reason: str = "") -> int:
    """Staff cancel a whole session: everyone booked, offered or waiting is told,
    paid places are refunded in full."""
    with transaction.atomic():
        # The course first, then the session: the order every session writer
        # takes (courses.models.Session.save), so two cannot deadlock.
        lock_course(session.course_id)
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("course")
            .get(pk=session.pk)
        )
        if session.status == Session.Status.CANCELLED:
            raise BookingError(_("This session is already cancelled."))
        session.status = Session.Status.CANCELLED
        session.cancelled_at = timezone.now()
        session.save(update_fields=["status", "cancelled_at"])
        told = 0
        for booking in session.bookings.filter(
            status__in=(
                Booking.Status.CONFIRMED,
                Booking.Status.OFFERED,
                Booking.Status.AWAITING_APPROVAL,
                Booking.Status.WAITLISTED,
            )
        ).select_related("person"):
            booking.session = session
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_at = timezone.now()
            booking.cancelled_by = by
            booking.cancel_reason = (reason or "Session cancelled")[:500]
            booking.approval_expires_at = None
            booking.save()
            _cancel_pending_approval_mail(booking)
            _refund(booking, by=by, in_time=True)
            queue_mail(
                kind="session_cancelled",
                booking=booking,
                key=f"booking:{booking.pk}:session_cancelled",
            )
            told += 1
        _log(by, "cancelled session", session=session, detail=reason)
        catalogue_changed()  # places left changed
        return told


def move_booking(
    booking: Booking, to_session: Session, by: User, *, request_key: str = ""
) -> Booking:
    """Move a place to another session of the same course, keeping its history.
    The mail's outbox key carries `request_key` (the form's token) when given."""
    with transaction.atomic():
        if to_session.course_id != booking.session.course_id:
            raise BookingError(
                _("A booking can only move to a session of the same course.")
            )
        if to_session.pk == booking.session_id:
            raise BookingError(_("The booking is already on that session."))
        # Lock both sessions in id order so two moves cannot deadlock.
        locked = {
            s.pk: s
            for s in Session.objects.select_for_update(of=("self",))
            .select_related("course__provider")
            .filter(pk__in=[booking.session_id, to_session.pk])
            .order_by("pk")
        }
        source, target = locked[booking.session_id], locked[to_session.pk]
        booking = Booking.objects.select_related("person").get(pk=booking.pk)
        if booking.status not in (Booking.Status.CONFIRMED, Booking.Status.WAITLISTED):
            raise BookingError(_("Only a confirmed or waiting booking can be moved."))
        if (
            target.status != Session.Status.SCHEDULED
            or target.starts_at <= timezone.now()
        ):
            raise BookingError(_("That session cannot be booked."))
        if target.bookings.live().filter(person_id=booking.person_id).exists():
            raise BookingError(_("The person already has a booking on that session."))
        held_place = booking.status == Booking.Status.CONFIRMED
        if held_place and target.bookings.confirmed().count() >= target.capacity:
            raise BookingError(_("That session is full."))
        if held_place:
            _refuse_reserved_place(
                target,
                booking.person,
                _(
                    "The places left on that session are reserved for %(whom)s, "
                    "and this person is not one of them."
                ),
            )
        booking.session = target
        booking.save(update_fields=["session", "updated_at"])
        queue_mail(
            kind="moved",
            booking=booking,
            key=f"booking:{booking.pk}:moved:{target.pk}:"
            + (request_key or f"{timezone.now():%s}"),
        )
        _log(
            by,
            "moved booking",
            booking=booking,
            session=target,
            detail=f"from session {source.pk} to {target.pk}",
        )
        if held_place:
            fill_freed_place(source)
        catalogue_changed()  # places left changed
        return booking


def sessions_below_minimum():
    from django.db.models import Count, Q

    now = timezone.now()
    return (
        Session.objects.filter(
            status=Session.Status.SCHEDULED,
            minimum_attendees__gt=0,
            minimum_waived_at__isnull=True,
            starts_at__gt=now,
        )
        .select_related("course")
        .annotate(
            held=Count("bookings", filter=Q(bookings__status__in=Booking.PLACE_HOLDING))
        )
        .filter(held__lt=models.F("minimum_attendees"))
    )


def check_minimum_numbers() -> int:
    """Alert booking administrators, once per session, about sessions inside their
    course's notice period that have fewer bookings than their minimum."""
    from django.contrib.auth.models import Group

    from accounts.roles import BOOKING_ADMINS

    today = timezone.localdate()
    staff = list(
        User.objects.filter(
            groups__in=Group.objects.filter(name=BOOKING_ADMINS), is_active=True
        ).values_list("email", flat=True)
    )
    queued = 0
    for session in sessions_below_minimum():
        days = (timezone.localdate(session.starts_at) - today).days
        if days > session.course.minimum_notice_days:
            continue
        for email in staff:
            with transaction.atomic():
                queued += bool(
                    queue_mail(
                        kind="minimum_alert",
                        session=session,
                        to=email,
                        key=f"session:{session.pk}:minimum_alert:{email}",
                    )
                )
    return queued


def waive_minimum(session: Session, by: User) -> Session:
    session.minimum_waived_at = timezone.now()
    session.save(update_fields=["minimum_waived_at"])
    _log(by, "confirmed session below minimum", session=session)
    return session


def email_attendees(
    session: Session,
    by: User,
    *,
    attended: bool,
    subject: str,
    body: str,
    request_key: str = "",
) -> int:
    """Staff write to everyone who attended (or everyone booked who did not).
    Each message's outbox key comes from `request_key` (the form's token, see
    `config.idempotency.request_key`), so a resubmitted form sends nobody a
    second copy; without one every call is a new batch."""
    with transaction.atomic():
        import uuid

        statuses = (
            (Booking.Status.ATTENDED,)
            if attended
            else (Booking.Status.NO_SHOW, Booking.Status.CONFIRMED)
        )
        batch = request_key or uuid.uuid4().hex[:12]
        sent = 0
        for booking in session.bookings.filter(status__in=statuses).select_related(
            "person"
        ):
            queue_mail(
                kind="staff_message",
                booking=booking,
                subject=subject,
                body=body,
                key=f"staff:{batch}:{booking.pk}",
            )
            sent += 1
        _log(
            by,
            "emailed " + ("attendees" if attended else "non-attendees"),
            session=session,
            detail=subject,
        )
        return sent


def submit_evaluation(booking: Booking, *, rating: int, comments: str) -> Evaluation:
    with transaction.atomic():
        if booking.status != Booking.Status.ATTENDED:
            raise BookingError(
                _("You can evaluate a session once you have attended it.")
            )
        _refuse_before_start(
            booking.session,
            _(
                "You can evaluate %(course)s once the session has started on %(starts)s."
            ),
        )
        if hasattr(booking, "evaluation"):
            raise BookingError(_("You have already evaluated this session. Thank you."))
        return Evaluation.objects.create(
            booking=booking, rating=rating, comments=comments.strip()
        )


def log_staff_action(by: User, action: str, *, session: Session | None = None) -> None:
    _log(by, action, session=session)


def disclose_attendees_to_provider(session: Session, *, by: User) -> list[Booking]:
    """Confirmed attendees whose name and work email go to the course's provider;
    each disclosure is recorded."""
    with transaction.atomic():
        from privacy.services import log_disclosure

        provider = session.course.provider
        bookings = list(
            session.bookings.filter(status__in=Booking.PLACE_HOLDING)
            .exclude(
                status__in=(Booking.Status.OFFERED, Booking.Status.AWAITING_APPROVAL)
            )
            .select_related("person")
        )
        for booking in bookings:
            log_disclosure(
                booking.person,
                recipient=provider.name,
                fields=["name", "work email"],
                purpose=f"Attendee list for {session}",
                reference=f"booking:{booking.pk}",
            )
        _log(
            by,
            "exported attendee list for provider",
            session=session,
            detail=f"{len(bookings)} people to {provider.name}",
        )
        return bookings
