"""Payments: references payers quote, bank statements uploaded by staff, and
payments recorded on the ledger (`bookings.Transaction`, imported here as a
known layering debt until the ledger moves to this app).

- `reference_for` gives a payer's reference, creating it the first time
  (safe under concurrency: the database refuses a second one).
- `upload_statement` stores each line once (its fingerprint is unique) and
  matches only the lines it stored, so uploading a statement again matches
  nothing twice. Each line is committed on its own.
- Recording a payment locks the payer's reference row, so two lines for the
  same payer take turns: the second sees the first's payment when it works out
  the balance, and a line that leaves the payer in credit is flagged
  `overpaid` for review (the money is recorded, never dropped). The ledger
  row's `provider_reference` is the line's fingerprint, unique per means in
  the database: the last word on "paid once".
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from bookings import services as booking_services
from bookings.models import Transaction
from config.numbers import parse_int as parse_int

from . import gateway, references
from .models import (
    BankStatement,
    CardPayment,
    CardRefund,
    PaymentReference,
    StatementLine,
)
from .statements import ParsedStatement, fingerprints

logger = logging.getLogger(__name__)


class PaymentsError(Exception):
    """A refusal whose message is safe to show."""


def reference_for(
    *, person: User | None = None, organisation: Organisation | None = None
) -> PaymentReference:
    if (person is None) == (organisation is None):
        raise PaymentsError(_("A reference is for a person or an organisation."))
    owner = {"person": person} if person is not None else {"organisation": organisation}
    existing = PaymentReference.objects.filter(**owner).first()
    if existing:
        return existing
    for _attempt in range(10):
        try:
            with transaction.atomic():
                return PaymentReference.objects.create(
                    code=references.new_reference(), **owner
                )
        except IntegrityError:
            # Either the payer got one meanwhile, or the code was taken.
            existing = PaymentReference.objects.filter(**owner).first()
            if existing:
                return existing
    raise PaymentsError(_("Could not make a payment reference; try again."))


def reference_get(code: str) -> PaymentReference | None:
    """The reference a (normalised, check-valid) code names, or None."""
    found = references.normalise(code)
    if found is None or not references.is_valid(*found):
        return None
    body, check = found
    return PaymentReference.objects.filter(
        code=f"{references.PREFIX}-{body}-{check}"
    ).first()


def balance_of(reference: PaymentReference) -> Decimal:
    """What the payer owes (negative: in credit). A person's own balance is
    the ledger rows that are theirs and not their organisation's."""
    if reference.person_id:
        rows = Transaction.objects.filter(
            person_id=reference.person_id, organisation__isnull=True
        )
    else:
        rows = Transaction.objects.filter(organisation_id=reference.organisation_id)
    return rows.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


def _classify(description: str) -> tuple[str, PaymentReference | None]:
    """(why it waits, or "" when matched; the reference when matched)."""
    found = references.find_references(description)
    if not found:
        return StatementLine.Why.NONE, None
    if any(not references.is_valid(body, check) for body, check in found):
        return StatementLine.Why.MISTYPED, None
    codes = {f"{references.PREFIX}-{body}-{check}" for body, check in found}
    if len(codes) > 1:
        return StatementLine.Why.SEVERAL, None
    reference = PaymentReference.objects.filter(code=codes.pop()).first()
    if reference is None:
        return StatementLine.Why.UNKNOWN, None
    return "", reference


def _money_row(
    reference: PaymentReference,
    *,
    kind: str,
    amount: Decimal,
    description: str,
    means: str,
    provider_reference: str,
    by: User | None = None,
) -> Transaction:
    """A payment in, or money paid back, on the payer's ledger, under their
    reference code and the money's own id (unique per means)."""
    return booking_services.record_ledger_entry(
        person=reference.person,
        organisation=reference.organisation,
        kind=kind,
        amount=amount,
        description=description,
        reference=reference.code,
        by=by,
        means=means,
        provider_reference=provider_reference,
    )


def _pay(
    line: StatementLine,
    reference: PaymentReference,
    *,
    status: str,
    by: User | None,
    note: str = "",
) -> StatementLine:
    """Record the line's payment for the reference's payer. Runs inside the
    caller's transaction with the line locked."""
    # Payments to one payer take turns, so each sees the others' balance.
    reference = PaymentReference.objects.select_for_update().get(pk=reference.pk)
    entry = _money_row(
        reference,
        kind=Transaction.Kind.PAYMENT,
        amount=line.amount,
        description=_("Bank transfer received"),
        by=by,
        means=Transaction.Means.BANK_TRANSFER,
        provider_reference=line.fingerprint,
    )
    line.status = status
    line.waiting_because = ""
    line.reference = reference
    line.transaction = entry
    line.overpaid = balance_of(reference) < 0
    if by is not None:
        line.decided_by = by
        line.decided_at = timezone.now()
        line.note = note[:300]
    line.save()
    return line


def _match(line: StatementLine) -> StatementLine:
    if line.amount <= 0:
        line.status = StatementLine.Status.MONEY_OUT
        line.save(update_fields=["status"])
        return line
    why, reference = _classify(line.description)
    if reference is None:
        line.status = StatementLine.Status.WAITING
        line.waiting_because = why
        line.save(update_fields=["status", "waiting_because"])
        return line
    return _pay(line, reference, status=StatementLine.Status.MATCHED, by=None)


def upload_statement(
    parsed: ParsedStatement, *, filename: str, format: str, by: User
) -> tuple[BankStatement, dict[str, int]]:
    """Store and match the statement's new lines; lines already stored (the
    same statement, or an overlapping one, uploaded before) are counted as
    repeated and left alone. Returns the statement and counts by outcome."""
    statement = BankStatement.objects.create(
        filename=filename[:255],
        format=format,
        account=parsed.account[:64],
        uploaded_by=by,
        lines_read=len(parsed.lines),
    )
    counts = {"repeated": 0, **{s: 0 for s in StatementLine.Status.values}}
    for line, fingerprint in zip(parsed.lines, fingerprints(parsed), strict=True):
        with transaction.atomic():
            stored, created = StatementLine.objects.get_or_create(
                fingerprint=fingerprint,
                defaults={
                    "statement": statement,
                    "bank_id": line.bank_id[:64],
                    "booked_on": line.booked_on,
                    "amount": line.amount,
                    "description": line.description,
                },
            )
            if not created:
                counts["repeated"] += 1
                continue
            stored = StatementLine.objects.select_for_update().get(pk=stored.pk)
            counts[_match(stored).status] += 1
    statement.lines_new = len(parsed.lines) - counts["repeated"]
    BankStatement.objects.filter(pk=statement.pk).update(lines_new=statement.lines_new)
    return statement, counts


def _waiting_line(line: StatementLine) -> StatementLine:
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status != StatementLine.Status.WAITING:
        raise PaymentsError(_("Someone has already decided this line."))
    return line


@transaction.atomic
def resolve_statement_line(
    line: StatementLine,
    *,
    person: User | None = None,
    organisation: Organisation | None = None,
    note: str = "",
    by: User,
) -> StatementLine:
    """Staff say whose payment a waiting line is: it is recorded the same way
    a matched line is. A line already decided is refused."""
    line = _waiting_line(line)
    if line.amount <= 0:
        raise PaymentsError(_("Only money in can be paid to someone."))
    reference = reference_for(person=person, organisation=organisation)
    return _pay(line, reference, status=StatementLine.Status.RESOLVED, by=by, note=note)


@transaction.atomic
def ignore_statement_line(
    line: StatementLine, *, reason: str, by: User
) -> StatementLine:
    """Staff say a waiting line is not a payment to us (a transfer between our
    own accounts, money for another service). Nothing is recorded on the ledger."""
    reason = reason.strip()
    if not reason:
        raise PaymentsError(_("Say why this line is not ours."))
    line = _waiting_line(line)
    line.status = StatementLine.Status.IGNORED
    line.note = reason[:300]
    line.decided_by = by
    line.decided_at = timezone.now()
    line.save()
    return line


# --- card payments (Stripe Checkout) -----------------------------------------

# Stripe's shortest session: a page left open longer is closed by Stripe and
# paying starts again.
CHECKOUT_MINUTES = 30


def _payer_email(reference: PaymentReference, by: User) -> str:
    return reference.person.email if reference.person_id else by.email


def start_card_payment(
    *, reference: PaymentReference, by: User, success_url: str, cancel_url: str
) -> CardPayment:
    """A Checkout session for what the reference's payer owes now. Asked twice
    (a double click, a second tab) it gives the same open session back, so one
    balance is never offered for payment twice at once; an open session for a
    different amount is closed first. `success_url` and `cancel_url` hold a
    `{pk}` placeholder for the card payment's id."""
    if not gateway.enabled():
        raise PaymentsError(_("Paying by card is not available."))
    if by.processing_restricted or by.erased_at is not None:
        raise PaymentsError(
            _(
                "You cannot pay by card while the use of your data is restricted at "
                "your request. Pay by bank transfer, or contact our data protection "
                "lead to lift the restriction."
            )
        )
    with transaction.atomic():
        reference = PaymentReference.objects.select_for_update().get(pk=reference.pk)
        owed = balance_of(reference)
        if owed <= 0:
            raise PaymentsError(_("There is nothing to pay."))
        now = timezone.now()
        fresh = now - timedelta(minutes=CHECKOUT_MINUTES - 5)
        for open_one in reference.card_payments.filter(status=CardPayment.Status.OPEN):
            if open_one.amount == owed and open_one.created_at > fresh:
                return open_one
            _close_checkout(open_one)
        payment = CardPayment.objects.create(
            reference=reference, started_by=by, amount=owed
        )
        checkout = gateway.create_checkout(
            amount=owed,
            description=_("Payment to %(site)s, reference %(code)s")
            % {"site": settings.SITE_NAME, "code": reference.code},
            email=_payer_email(reference, by),
            client_reference=str(payment.pk),
            success_url=success_url.replace("{pk}", str(payment.pk)),
            cancel_url=cancel_url.replace("{pk}", str(payment.pk)),
            idempotency_key=f"cpd-card-payment-{payment.pk}",
            expires_at=int((now + timedelta(minutes=CHECKOUT_MINUTES)).timestamp()),
        )
        payment.checkout_session_id = checkout.id
        payment.checkout_url = checkout.url
        payment.save(update_fields=["checkout_session_id", "checkout_url"])
        return payment


def _close_checkout(payment: CardPayment) -> None:
    """Close an open session at Stripe. If Stripe says it was paid meanwhile,
    the payment is recorded instead (money that moved is never dropped)."""
    if payment.checkout_session_id:
        closed = gateway.expire_checkout(payment.checkout_session_id)
        if closed is None:
            found = gateway.retrieve_checkout(payment.checkout_session_id)
            if found.payment_status == "paid":
                _record_paid(payment, found)
                return
    payment.status = CardPayment.Status.EXPIRED
    payment.completed_at = timezone.now()
    payment.save(update_fields=["status", "completed_at"])


def abandon_card_payment(payment: CardPayment) -> CardPayment:
    """The payer came back without paying: close the session so it cannot be
    paid later by surprise. The balance stays owed."""
    with transaction.atomic():
        payment = CardPayment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == CardPayment.Status.OPEN:
            _close_checkout(payment)
        return payment


def _record_paid(payment: CardPayment, checkout: gateway.Checkout) -> CardPayment:
    """Inside the caller's transaction, `payment` locked."""
    reference = PaymentReference.objects.select_for_update().get(
        pk=payment.reference_id
    )
    amount = (
        Decimal(checkout.amount_total) / 100
        if checkout.amount_total
        else payment.amount
    )
    provider_reference = checkout.payment_intent or checkout.id
    # Already on the ledger (a row whose card payment was then marked closed
    # by a late event): link it, never write it twice.
    entry = Transaction.objects.filter(
        means=Transaction.Means.CARD, provider_reference=provider_reference
    ).first() or _money_row(
        reference,
        kind=Transaction.Kind.PAYMENT,
        amount=amount,
        description=_("Card payment"),
        means=Transaction.Means.CARD,
        provider_reference=provider_reference,
    )
    payment.status = CardPayment.Status.PAID
    payment.transaction = entry
    payment.payment_intent_id = checkout.payment_intent
    payment.completed_at = timezone.now()
    payment.save(
        update_fields=["status", "transaction", "payment_intent_id", "completed_at"]
    )
    if balance_of(reference) < 0:
        # Paid twice (two tabs, two devices): the surplus goes back.
        return_credit_to_card_later(reference)
    return payment


def record_card_payment(checkout: gateway.Checkout) -> CardPayment | None:
    """Stripe says a session is complete: record its payment once. None for a
    session that is not ours or not paid."""
    if checkout.payment_status != "paid":
        return None
    with transaction.atomic():
        payment = (
            CardPayment.objects.select_for_update()
            .filter(checkout_session_id=checkout.id)
            .first()
        )
        if payment is None:
            logger.warning("A paid Checkout session we did not open: %s", checkout.id)
            return None
        if payment.status == CardPayment.Status.PAID:
            return payment
        return _record_paid(payment, checkout)


def checkout_expired(session_id: str) -> None:
    """Stripe closed a session unpaid. A paid one stays paid (events can
    arrive in any order)."""
    CardPayment.objects.filter(
        checkout_session_id=session_id, status=CardPayment.Status.OPEN
    ).update(status=CardPayment.Status.EXPIRED, completed_at=timezone.now())


def refresh_card_payment(payment: CardPayment) -> CardPayment:
    """Ask Stripe how an open session stands (the return page does, in case
    the webhook has not arrived yet)."""
    if (
        payment.status != CardPayment.Status.OPEN
        or not payment.checkout_session_id
        or not gateway.enabled()
    ):
        return payment
    checkout = gateway.retrieve_checkout(payment.checkout_session_id)
    if checkout.payment_status == "paid":
        return record_card_payment(checkout) or payment
    if checkout.status == "expired":
        checkout_expired(checkout.id)
        payment.refresh_from_db()
    return payment


def _pending_refunds(reference: PaymentReference) -> Decimal:
    return CardRefund.objects.filter(
        card_payment__reference=reference, status=CardRefund.Status.PENDING
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


def return_credit_to_card(reference: PaymentReference) -> list[CardRefund]:
    """Give back to the card whatever credit the payer has, up to what they
    paid by card and not yet had back, newest payment first. The refunds are
    asked of Stripe after commit."""
    made: list[CardRefund] = []
    with transaction.atomic():
        reference = PaymentReference.objects.select_for_update().get(pk=reference.pk)
        credit = -balance_of(reference) - _pending_refunds(reference)
        if credit <= 0:
            return made
        paid = reference.card_payments.filter(status=CardPayment.Status.PAID).order_by(
            "-completed_at", "-pk"
        )
        for payment in paid:
            back = payment.refunds.exclude(status=CardRefund.Status.FAILED).aggregate(
                total=Sum("amount")
            )["total"] or Decimal("0.00")
            take = min(payment.amount - back, credit)
            if take <= 0:
                continue
            made.append(CardRefund.objects.create(card_payment=payment, amount=take))
            credit -= take
            if credit <= 0:
                break
        ids = [refund.pk for refund in made]
        transaction.on_commit(lambda: _queue_refunds(ids))
    return made


def _queue_refunds(ids: list[int]) -> None:
    from . import tasks

    for refund_id in ids:
        try:
            tasks.send_card_refund.delay(refund_id)
        except Exception:  # the broker is down: check_card_refunds sends it
            logger.warning("Could not queue card refund %s; the sweep will", refund_id)


def return_credit_to_card_later(reference: PaymentReference) -> None:
    """After the caller commits, return any credit to the card (a task, so a
    slow Stripe never holds up a cancellation)."""

    def queue():
        from . import tasks

        try:
            tasks.return_credit_to_card.delay(reference.pk)
        except Exception:
            logger.warning("Could not queue a credit return; the sweep will")

    transaction.on_commit(queue)


def person_left_in_credit(
    person: User | None, organisation: Organisation | None
) -> None:
    """Bookings call this after a refund row: if the payer paid by card, the
    credit goes back to the card."""
    owner = {"organisation": organisation} if organisation else {"person": person}
    reference = PaymentReference.objects.filter(**owner).first()
    if (
        reference is not None
        and reference.card_payments.filter(status=CardPayment.Status.PAID).exists()
    ):
        return_credit_to_card_later(reference)


def send_card_refund(refund: CardRefund) -> CardRefund:
    """Ask Stripe for a refund row's money (safe to repeat: Stripe's
    idempotency key is the row's id)."""
    if refund.status != CardRefund.Status.PENDING:
        return refund
    payment = refund.card_payment
    try:
        if refund.stripe_refund_id:
            answer = gateway.retrieve_refund(refund.stripe_refund_id)
        else:
            answer = gateway.create_refund(
                payment_intent=payment.payment_intent_id,
                amount=refund.amount,
                refund_id=refund.pk,
            )
    except gateway.CardGatewayError as exc:
        CardRefund.objects.filter(pk=refund.pk).update(
            attempts=refund.attempts + 1, last_error=str(exc)[:300]
        )
        refund.refresh_from_db()
        return refund
    CardRefund.objects.filter(pk=refund.pk, stripe_refund_id__isnull=True).update(
        stripe_refund_id=answer.id
    )
    return confirm_card_refund(answer.id, answer.status, refund_id=refund.pk) or refund


def confirm_card_refund(
    stripe_refund_id: str, status: str, *, refund_id: int | None = None
) -> CardRefund | None:
    """Stripe says how a refund stands: on success the money back is written to
    the ledger, once. Unknown refunds (not ours) give None."""
    with transaction.atomic():
        found = CardRefund.objects.select_for_update().filter(
            Q(stripe_refund_id=stripe_refund_id)
            | Q(pk=refund_id if refund_id is not None else -1)
        )
        refund = found.select_related("card_payment__reference").first()
        if refund is None:
            return None
        if refund.status != CardRefund.Status.PENDING:
            return refund
        if not refund.stripe_refund_id:
            refund.stripe_refund_id = stripe_refund_id
        if status == "succeeded":
            reference = refund.card_payment.reference
            refund.transaction = _money_row(
                reference,
                kind=Transaction.Kind.REFUND_PAID,
                amount=refund.amount,
                description=_("Refund to your card"),
                means=Transaction.Means.CARD,
                provider_reference=stripe_refund_id,
            )
            refund.status = CardRefund.Status.SUCCEEDED
            refund.confirmed_at = timezone.now()
        elif status in ("failed", "canceled"):
            refund.status = CardRefund.Status.FAILED
            refund.last_error = _("Stripe could not refund the card (%(status)s).") % {
                "status": status
            }
        refund.save()
        return refund


def check_card_refunds(*, older_than_minutes: int = 5) -> int:
    """The sweep: refunds still pending after a while are asked again (or
    looked up), so a down broker or a slow Stripe delays one but loses none."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    done = 0
    for refund in CardRefund.objects.filter(
        status=CardRefund.Status.PENDING, created_at__lte=cutoff
    ).select_related("card_payment")[:200]:
        send_card_refund(refund)
        done += 1
    return done


def handle_stripe_event(event: dict) -> str:
    """One verified webhook event. Returns what was done (for the log); every
    handler is idempotent, so a repeated or late event changes nothing."""
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    if kind in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ):
        recorded = record_card_payment(gateway._checkout(obj))
        return "recorded" if recorded else "ignored"
    if kind in ("checkout.session.expired", "checkout.session.async_payment_failed"):
        checkout_expired(obj.get("id", ""))
        return "expired"
    if kind.startswith("refund.") and obj.get("id"):
        metadata = obj.get("metadata") or {}
        ours = parse_int(metadata.get("cpd_card_refund"))
        confirm_card_refund(obj["id"], obj.get("status", ""), refund_id=ours)
        return "refund"
    if kind == "charge.refunded":
        for refund in ((obj.get("refunds") or {}).get("data")) or []:
            if refund.get("id"):
                confirm_card_refund(refund["id"], refund.get("status", ""))
        return "refund"
    return "ignored"
