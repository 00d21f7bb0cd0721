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
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from courses.models import Course, Session

from .models import Booking, MailRecord, PriorLearning, Transaction

log = logging.getLogger(__name__)


class BookingError(Exception):
    """A refusal whose message is safe to show to the person."""


def has_verified_email(user: User) -> bool:
    return EmailAddress.objects.filter(user=user, verified=True).exists()


# --- mail outbox -------------------------------------------------------------


def queue_mail(*, kind: str, booking: Booking, key: str) -> MailRecord | None:
    """Record a transactional mail and send it after commit. Idempotent per key."""
    record, created = MailRecord.objects.get_or_create(
        key=key, defaults={"kind": kind, "booking": booking, "to": booking.person.email}
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
            booking=booking,
            kind=Transaction.Kind.CHARGE,
            amount=price,
            description=_("Place on %(session)s") % {"session": booking.session},
            created_by=by,
        )


def _refund(booking: Booking, *, by: User | None, in_time: bool) -> None:
    charged = sum((t.amount for t in booking.transactions.all()), start=Decimal("0"))
    if charged > 0 and in_time:
        Transaction.objects.create(
            person=booking.person,
            booking=booking,
            kind=Transaction.Kind.REFUND,
            amount=-charged,
            description=_("Refund for cancelled place on %(session)s")
            % {"session": booking.session},
            created_by=by,
        )


def record_payment(
    person: User, *, amount: Decimal, reference: str, by: User
) -> Transaction:
    if amount <= 0:
        raise BookingError(_("A payment must be more than £0."))
    return Transaction.objects.create(
        person=person,
        kind=Transaction.Kind.PAYMENT,
        amount=-amount,
        reference=reference,
        description=_("Payment received"),
        created_by=by,
    )


# --- booking ----------------------------------------------------------------


@transaction.atomic
def book_session(person: User, session: Session, *, by: User | None = None) -> Booking:
    """Confirmed, or waitlisted when full. Staff may book on someone's behalf."""
    # Lock the session row so two requests cannot both take the last place.
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("course")
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
    if session.bookings.live().filter(person=person).exists():
        raise BookingError(_("You already have a booking for this session."))
    full = session.bookings.confirmed().count() >= session.capacity
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                person=person,
                session=session,
                status=Booking.Status.WAITLISTED if full else Booking.Status.CONFIRMED,
                booked_by=by if by and by != person else None,
            )
    except IntegrityError:
        raise BookingError(_("You already have a booking for this session.")) from None
    if booking.status == Booking.Status.CONFIRMED:
        _charge(booking, by=by)
        queue_mail(
            kind="confirmed", booking=booking, key=f"booking:{booking.pk}:confirmed"
        )
    else:
        queue_mail(
            kind="waitlisted", booking=booking, key=f"booking:{booking.pk}:waitlisted"
        )
    return booking


def cancellation_deadline(booking: Booking):
    session = booking.session
    return session.starts_at - timezone.timedelta(
        hours=session.course.cancellation_deadline_hours
    )


def can_cancel(booking: Booking) -> bool:
    if booking.status == Booking.Status.WAITLISTED:
        return booking.session.starts_at > timezone.now()
    return (
        booking.status == Booking.Status.CONFIRMED
        and timezone.now() < cancellation_deadline(booking)
    )


@transaction.atomic
def cancel_booking(booking: Booking, by: User, *, reason: str = "") -> Booking:
    """Cancel a place (or leave the waiting list); a freed place goes to the
    first person waiting, in the same transaction."""
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("course")
        .get(pk=booking.session_id)
    )
    booking = Booking.objects.select_related("person").get(pk=booking.pk)
    booking.session = session
    staff = by != booking.person
    if booking.status == Booking.Status.CANCELLED:
        raise BookingError(_("This booking is already cancelled."))
    if booking.status not in (Booking.Status.CONFIRMED, Booking.Status.WAITLISTED):
        raise BookingError(_("A session that has taken place cannot be cancelled."))
    if not staff and not can_cancel(booking):
        raise BookingError(
            _(
                "The deadline to cancel online has passed. Contact us if you cannot attend."
            )
        )
    held_place = booking.status == Booking.Status.CONFIRMED
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = timezone.now()
    booking.cancelled_by = by
    booking.cancel_reason = reason.strip()[:500]
    booking.save()
    _refund(
        booking, by=by, in_time=staff or timezone.now() < cancellation_deadline(booking)
    )
    queue_mail(kind="cancelled", booking=booking, key=f"booking:{booking.pk}:cancelled")
    if held_place:
        promote_from_waiting_list(session)
    return booking


def promote_from_waiting_list(session: Session) -> Booking | None:
    """Give a free place to the first person waiting. Call with the session locked."""
    if session.bookings.confirmed().count() >= session.capacity:
        return None
    if (
        session.starts_at <= timezone.now()
        or session.status != Session.Status.SCHEDULED
    ):
        return None
    first = session.bookings.waiting().order_by("created_at", "pk").first()
    if first is None:
        return None
    first.status = Booking.Status.CONFIRMED
    first.save(update_fields=["status", "updated_at"])
    first.session = session
    _charge(first, by=None)
    queue_mail(kind="promoted", booking=first, key=f"booking:{first.pk}:promoted")
    return first


@transaction.atomic
def add_prior_learning(person: User, **fields) -> PriorLearning:
    return PriorLearning.objects.create(person=person, **fields)


# --- sending ------------------------------------------------------------------

MAIL_SUBJECTS = {
    "confirmed": "Booking confirmed: {course}",
    "waitlisted": "You are on the waiting list: {course}",
    "promoted": "A place has come free and is yours: {course}",
    "cancelled": "Booking cancelled: {course}",
    "reminder": "Reminder: {course} on {date}",
}


def _build_message(record: MailRecord):
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string

    from .calendar import booking_ics

    booking = record.booking
    session = booking.session
    context = {
        "booking": booking,
        "session": session,
        "course": session.course,
        "person": booking.person,
        "site_url": settings.SITE_URL,
        "site_name": settings.SITE_NAME,
        "kind": record.kind,
    }
    subject = MAIL_SUBJECTS[record.kind].format(
        course=session.course.title,
        date=timezone.localtime(session.starts_at).strftime("%-d %B %Y"),
    )
    body = render_to_string(f"bookings/email/{record.kind}.txt", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        to=[record.to],
        headers={"X-CPD-Mail-Key": record.key},
    )
    if record.kind in ("confirmed", "promoted", "reminder"):
        message.attach("session.ics", booking_ics(booking), "text/calendar")
    return message


def send_mail_record(record_id: int) -> bool:
    """Send one outbox row unless it was already sent. Safe to run twice, at the
    same time or later: the row lock and its status make the second a no-op."""
    error: Exception | None = None
    with transaction.atomic():
        record = (
            MailRecord.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("booking__person", "booking__session__course")
            .filter(pk=record_id)
            .first()
        )
        if record is None or record.status == MailRecord.Status.SENT:
            return False
        record.attempts += 1
        try:
            _build_message(record).send()
        except Exception as exc:
            record.status = MailRecord.Status.FAILED
            record.last_error = f"{exc.__class__.__name__}: {exc}"[:500]
            error = exc
        else:
            record.status = MailRecord.Status.SENT
            record.sent_at = timezone.now()
            record.last_error = ""
        record.save()
    if error is not None:
        raise error
    return True


def send_pending_mail(*, older_than_seconds: int = 60, max_attempts: int = 10) -> int:
    """Send outbox rows that no task has sent (the broker was down, say)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    ids = list(
        MailRecord.objects.filter(
            status__in=[MailRecord.Status.PENDING, MailRecord.Status.FAILED],
            created_at__lte=cutoff,
            attempts__lt=max_attempts,
        ).values_list("pk", flat=True)[:500]
    )
    sent = 0
    for pk in ids:
        try:
            sent += send_mail_record(pk)
        except Exception:
            log.exception("Mail %s could not be sent", pk)
    return sent


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


def mark_attendance(bookings, *, attended: bool) -> int:
    """Mark places as attended or not; waiting-list and cancelled entries are left."""
    status = Booking.Status.ATTENDED if attended else Booking.Status.NO_SHOW
    ids = [b.pk for b in bookings]
    return (
        Booking.objects.filter(pk__in=ids, status__in=Booking.PLACE_HOLDING)
        .exclude(status=status)
        .update(status=status)
    )
