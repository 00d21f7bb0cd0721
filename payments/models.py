"""Payment references, bank statements and their lines.

The ledger itself is still `bookings.Transaction` (a known layering debt: it
belongs here, and bookings should charge through payments). A matched or
resolved statement line points at the one payment row it produced; the row's
`provider_reference` is the line's fingerprint, unique per means in the
database, so a line is paid at most once however often it is uploaded.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PaymentReference(models.Model):
    """The reference a payer quotes on a bank transfer: one per person (their
    own balance) or per organisation (its account), never both."""

    code = models.CharField(_("reference"), max_length=16, unique=True)
    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_reference",
    )
    organisation = models.OneToOneField(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_reference",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, organisation__isnull=True)
                | Q(person__isnull=True, organisation__isnull=False),
                name="payment_reference_for_a_person_or_an_organisation",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def payer(self):
        return self.person or self.organisation


class BankStatement(models.Model):
    """One upload. The file itself is not kept: its lines are."""

    class Format(models.TextChoices):
        MT940 = "mt940", _("MT940")
        CSV = "csv", _("CSV")

    filename = models.CharField(_("file"), max_length=255)
    format = models.CharField(max_length=10, choices=Format.choices)
    account = models.CharField(_("bank account"), max_length=64, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    lines_read = models.PositiveIntegerField(default=0)
    lines_new = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        permissions = [
            ("upload_statement", "Can upload bank statements"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.uploaded_at:%Y-%m-%d %H:%M})"


class StatementLine(models.Model):
    class Status(models.TextChoices):
        MATCHED = "matched", _("Matched to a reference")
        WAITING = "waiting", _("Waiting for a person")
        RESOLVED = "resolved", _("Paid to a payer chosen by staff")
        IGNORED = "ignored", _("Not ours (ignored)")
        MONEY_OUT = "money_out", _("Money out (nothing to match)")

    class Why(models.TextChoices):
        NONE = "none", _("No reference")
        MISTYPED = "mistyped", _("Mistyped reference (check character wrong)")
        UNKNOWN = "unknown", _("Reference not known")
        SEVERAL = "several", _("More than one reference")

    statement = models.ForeignKey(
        BankStatement, on_delete=models.PROTECT, related_name="lines"
    )
    # The bank's id for the line where it gives one, else a hash of account,
    # date, amount, description and the occurrence in the file: unique, so a
    # statement uploaded again adds no line.
    fingerprint = models.CharField(max_length=64, unique=True)
    bank_id = models.CharField(_("bank's id"), max_length=64, blank=True)
    booked_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    # The payer's name and what they typed: personal data (privacy.py).
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.WAITING, db_index=True
    )
    waiting_because = models.CharField(
        max_length=20, choices=Why.choices, blank=True, default=""
    )
    reference = models.ForeignKey(
        PaymentReference,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_lines",
    )
    transaction = models.OneToOneField(
        "bookings.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_line",
    )
    overpaid = models.BooleanField(
        _("overpaid: review"),
        default=False,
        help_text=_("The payment left the payer in credit; check whether to refund."),
    )
    note = models.CharField(_("staff note"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["booked_on", "pk"]
        permissions = [
            ("resolve_statement_line", "Can decide who a bank statement line is from"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["matched", "resolved"])
                | Q(transaction__isnull=False),
                name="a_paid_statement_line_has_its_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booked_on:%Y-%m-%d} £{self.amount}"


class CardPayment(models.Model):
    """One Stripe Checkout session opened to pay a reference's balance. The
    card details stay with Stripe; the payment reaches the ledger once, by the
    webhook or the return page, whichever comes first (the row is locked and
    the ledger's provider reference is unique)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the card payment")
        PAID = "paid", _("Paid")
        EXPIRED = "expired", _("Not paid (abandoned or expired)")

    reference = models.ForeignKey(
        PaymentReference, on_delete=models.PROTECT, related_name="card_payments"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    # Null until Stripe answers (unique, so blank would clash).
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True)  # noqa: DJ001
    checkout_url = models.TextField(blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    transaction = models.OneToOneField(
        "bookings.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="card_payment",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(transaction__isnull=False),
                name="a_paid_card_payment_has_its_ledger_row",
            ),
        ]

    def __str__(self) -> str:
        return f"£{self.amount} by card ({self.get_status_display()})"


class CardRefund(models.Model):
    """Money going back to a card: asked of Stripe after the payer is left in
    credit (a place cancelled in time, a balance paid twice), and written to
    the ledger only when Stripe says it succeeded."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Asked of Stripe")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed: needs a person")

    card_payment = models.ForeignKey(
        CardPayment, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True)  # noqa: DJ001
    transaction = models.OneToOneField(
        "bookings.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="card_refund",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(transaction__isnull=False),
                name="a_succeeded_card_refund_has_its_ledger_row",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="card_refund_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"£{self.amount} back to card ({self.get_status_display()})"
