"""Invoices and credit notes raised on organisations' accounts.

The organisation's ledger itself is `bookings.Transaction` (rows with
`organisation` set). An invoice is a document over some of those rows: each
ledger row is on at most one document (`InvoiceLine.transaction` is unique),
and a document is never edited once issued; a place cancelled after it was
invoiced is put right by a credit note that names the invoice.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InvoiceSequence(models.Model):
    """One counter per numbering series ("invoice", "credit_note"). It is read
    and advanced under a row lock in the transaction that issues the document,
    so a rolled-back run gives its number back and numbers never have gaps (a
    database sequence would keep the number a failed run took)."""

    name = models.CharField(max_length=20, unique=True)
    next_number = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.name}: next {self.next_number}"


class InvoiceQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("Invoices are never edited; issue a credit note.")

    def delete(self):
        raise ValueError("Invoices are kept; issue a credit note.")


class Invoice(models.Model):
    """A consolidated invoice, or a credit note, for one organisation."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    PREFIX = {Kind.INVOICE: "INV", Kind.CREDIT_NOTE: "CN"}

    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("organisation"),
    )
    # What the document was addressed to when issued (a later rename of the
    # organisation must not change an issued invoice).
    organisation_name = models.CharField(_("billed to"), max_length=200)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    purchase_order = models.CharField(
        _("purchase-order number"), max_length=50, blank=True
    )
    credits_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("credits invoice"),
    )
    vat_rate = models.DecimalField(
        _("VAT rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # Signed like the ledger: an invoice's net total is its charges less the
    # credits netted on it; a credit note's is negative.
    net_total = models.DecimalField(_("net total"), max_digits=12, decimal_places=2)
    vat_amount = models.DecimalField(
        _("VAT"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        permissions = [
            ("raise_invoices", "Can raise invoices and credit notes for organisations"),
            ("record_payment", "Can record a payment on an organisation's account"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="invoice_period_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credits_invoice__isnull=True)
                | Q(kind="credit_note"),
                name="only_credit_notes_credit_an_invoice",
            ),
            models.CheckConstraint(
                condition=Q(total=models.F("net_total") + models.F("vat_amount")),
                name="invoice_total_is_net_plus_vat",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.organisation_name})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Invoices are never edited; issue a credit note.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Invoices are kept; issue a credit note.")

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def amount_shown(self) -> Decimal:
        """The total as printed: a credit note shows what it credits."""
        return abs(self.total)

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"


class InvoiceLine(models.Model):
    """One ledger row on one document. What the line says is copied when the
    document is issued, so the document reads the same for as long as it is
    kept; only the attendee's name is removed if they ask to be erased."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    transaction = models.OneToOneField(
        "bookings.Transaction",
        on_delete=models.PROTECT,
        related_name="invoice_line",
    )
    description = models.CharField(_("description"), max_length=300)
    attendee_name = models.CharField(_("attendee"), max_length=300, blank=True)
    purchase_order = models.CharField(
        _("purchase-order number"), max_length=50, blank=True
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["invoice", "pk"]

    def __str__(self) -> str:
        return f"{self.invoice.number}: {self.description} £{self.amount}"
