from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.outbox import OutboxMessage


class BookingQuerySet(models.QuerySet):
    def live(self):
        return self.exclude(status=Booking.Status.CANCELLED)

    def confirmed(self):
        # Attendance is marked on confirmed places, so those still hold a place.
        return self.filter(status__in=Booking.PLACE_HOLDING)

    def waiting(self):
        return self.filter(status=Booking.Status.WAITLISTED)


class Booking(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("On the waiting list")
        OFFERED = "offered", _("Place offered")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        CANCELLED = "cancelled", _("Cancelled")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("Did not attend")

    # An offered place is held for the person until the offer expires; a place
    # awaiting the organisation's approval is held until the approval expires.
    PLACE_HOLDING = (
        "confirmed",
        "offered",
        "awaiting_approval",
        "attended",
        "no_show",
    )

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    session = models.ForeignKey(
        "courses.Session", on_delete=models.PROTECT, related_name="bookings"
    )
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Set when staff booked on the person's behalf."),
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancel_reason = models.CharField(max_length=500, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        help_text=_("Set when the place is charged to the organisation's account."),
    )
    purchase_order = models.CharField(
        _("purchase-order number"),
        max_length=50,
        blank=True,
        help_text=_("For this place; otherwise the organisation's yearly one."),
    )
    # Approval by the person's organisation (accounts.selectors.approval_needed_from).
    approval_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The organisation whose approver must agree to this place."),
    )
    approval_expires_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    certificate_code = models.CharField(
        max_length=20, unique=True, null=True, blank=True
    )
    import_source = models.CharField(_("imported from"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # Places taken and waiting per session (reports' fill rate, and
            # counts by status) read this index alone, not the table.
            models.Index(fields=["session", "status"], name="booking_session_status"),
        ]
        constraints = [
            # The database, not only the service, refuses a second live booking.
            models.UniqueConstraint(
                fields=["person", "session"],
                condition=~Q(status="cancelled"),
                name="one_live_booking_per_person_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.session} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("bookings:detail", args=[self.pk])

    @property
    def holds_place(self) -> bool:
        return self.status in self.PLACE_HOLDING

    @property
    def reference(self) -> str:
        """What the person and staff quote: "B-000123"."""
        return f"B-{self.pk:06d}"

    def status_message(self) -> str:
        # Set by book_session when free places were reserved for others.
        reserved = getattr(self, "reserved_places", None)
        if self.status == self.Status.WAITLISTED and reserved:
            return str(
                _(
                    "The places left are reserved for %(whom)s, so you are on "
                    "the waiting list. We will email you if a place comes free "
                    "for you."
                )
                % {"whom": "; ".join(r.describe_until() for r in reserved)}
            )
        if self.status == self.Status.WAITLISTED:
            return str(
                _(
                    "The session is full, so you are on the waiting list. We will "
                    "email you if a place comes free."
                )
            )
        if self.status == self.Status.AWAITING_APPROVAL:
            return str(
                _(
                    "Your place is held while %(org)s approves it. We have asked "
                    "your approver and will email you their answer."
                )
                % {"org": self.approval_organisation}
            )
        return str(_("Your place is booked. We have emailed you the details."))


class TransactionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("Transactions are append-only; add a correcting entry.")

    def delete(self):
        raise ValueError("Transactions are append-only and are never deleted.")


class Transaction(models.Model):
    """An append-only ledger entry. Corrections are new entries, never edits.

    `amount` is what the person owes: charges are positive, refunds, credits and
    payments negative.

    Append-only at every level: `save()` of an existing row and `delete()` raise,
    so do the queryset's `update()` and `delete()` (and so `bulk_update`), the
    admin has no change or delete permission, and a database trigger (migration
    0004) refuses UPDATE and DELETE from any client, raw SQL included. The one
    update the trigger allows is the database clearing `created_by` when a staff
    account is deleted (its `SET_NULL`). Erasure needs no update: the person
    link stays on the anonymised account, which is the anonymous placeholder.
    """

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        REFUND = "refund", _("Refund")
        CREDIT = "credit", _("Credit")
        PAYMENT = "payment", _("Payment")
        # Money given back to the payer (to their card, say): what is owed goes
        # up by what left us, so a credit paid back leaves nothing behind.
        REFUND_PAID = "refund_paid", _("Refund paid")

    class Means(models.TextChoices):
        """How money moved. Blank for charges (nothing moved yet)."""

        STAFF = "staff", _("Recorded by staff")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD = "card", _("Card")
        INVOICE = "invoice", _("On invoice")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="transactions",
        null=True,
    )
    booking = models.ForeignKey(
        Booking,
        on_delete=models.PROTECT,
        related_name="transactions",
        null=True,
        blank=True,
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="transactions",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    description = models.CharField(max_length=300)
    reference = models.CharField(
        max_length=100, blank=True, help_text=_("Invoice or purchase-order number.")
    )
    means = models.CharField(
        max_length=20, choices=Means.choices, blank=True, default=""
    )
    # The bank statement line's fingerprint, or a card provider's payment id:
    # what the money's own record calls it, so it is recorded once.
    provider_reference = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # One bank line or provider payment id is on the ledger at most
            # once, however often a statement is uploaded or a callback sent.
            models.UniqueConstraint(
                fields=["means", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="one_ledger_row_per_provider_reference",
            ),
        ]

    def __str__(self) -> str:
        day = f" ({self.created_at:%Y-%m-%d})" if self.created_at else ""
        return f"{self.get_kind_display()} £{self.amount}{day}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Transactions are append-only; add a correcting entry.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Transactions are append-only and are never deleted.")


class MailRecord(OutboxMessage):
    """The bookings outbox (rules in config/outbox.py): one row per transactional
    mail, keyed so it is sent once."""

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="mails", null=True, blank=True
    )
    session = models.ForeignKey(
        "courses.Session",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
    )
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text=_("For messages written by staff."))

    class Meta(OutboxMessage.Meta):
        pass


class PriorLearning(models.Model):
    """Training done elsewhere, added by the person to their record."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="prior_learning",
    )
    title = models.CharField(_("title"), max_length=200)
    provider_name = models.CharField(_("provider"), max_length=200, blank=True)
    completed_on = models.DateField(_("date completed"))
    cpd_hours = models.DecimalField(_("CPD hours"), max_digits=5, decimal_places=1)
    notes = models.TextField(_("notes"), blank=True)
    # Stored in private storage; served only to the owner through a view.
    evidence = models.FileField(_("evidence"), upload_to="evidence/%Y/%m/", blank=True)
    import_source = models.CharField(_("imported from"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on"]

    def __str__(self) -> str:
        return self.title


class Evaluation(models.Model):
    """A learner's short evaluation of a session they attended."""

    booking = models.OneToOneField(
        Booking, on_delete=models.CASCADE, related_name="evaluation"
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), choices=[(n, str(n)) for n in range(1, 6)]
    )
    comments = models.TextField(_("comments"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.booking.session}"


class StaffLog(models.Model):
    """Who did what, when, to which booking or session (staff actions)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=50)
    booking = models.ForeignKey(
        Booking,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_log",
    )
    session = models.ForeignKey(
        "courses.Session",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor}: {self.action}"
