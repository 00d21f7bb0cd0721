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

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from bookings import services as booking_services
from bookings.models import Transaction

from . import references
from .models import BankStatement, PaymentReference, StatementLine
from .statements import ParsedStatement, fingerprints


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
    return rows.aggregate(total=Sum("amount"))["total"] or Decimal("0")


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
    entry = booking_services.record_ledger_entry(
        person=reference.person,
        organisation=reference.organisation,
        kind=Transaction.Kind.PAYMENT,
        amount=line.amount,
        description=_("Bank transfer received"),
        reference=reference.code,
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
