"""Services sold besides course places (a subscription, a consultancy day, a
resource pack) and the purchases of them.

A purchase is charged on the one ledger (`bookings.Transaction`): to the
buyer's own balance, or to an organisation's account. The purchase points at
the charge it produced, and at the credit that undid it if staff cancelled it.
Stock, when a product has any, is taken under a lock on the product row
(`products.services.buy_product`), so it is never oversold.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The most of one product bought in one go: a number nobody types by accident.
MAX_QUANTITY = 50


class ProductQuerySet(models.QuerySet):
    def on_sale(self):
        return self.filter(active=True)


class Product(models.Model):
    class Buyers(models.TextChoices):
        PEOPLE = "people", _("People, for themselves")
        ORGANISATIONS = "organisations", _("Organisations, on account")
        BOTH = "both", _("People and organisations")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(
        _("price (£)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text=_("For one. Free products are bought without a charge."),
    )
    stock = models.PositiveIntegerField(
        _("stock"),
        null=True,
        blank=True,
        help_text=_("How many are left to sell. Leave empty for unlimited."),
    )
    buyers = models.CharField(
        _("who may buy it"),
        max_length=20,
        choices=Buyers.choices,
        default=Buyers.PEOPLE,
        help_text=_(
            "Organisations buy through their bookers and finance contacts, "
            "charged to an organisation that pays on account."
        ),
    )
    active = models.BooleanField(
        _("on sale"),
        default=True,
        help_text=_("Untick to stop selling it; purchases already made stay."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0), name="product_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("products:detail", args=[self.slug])

    @property
    def sold_out(self) -> bool:
        return self.stock is not None and self.stock <= 0

    @property
    def for_people(self) -> bool:
        return self.buyers in (self.Buyers.PEOPLE, self.Buyers.BOTH)

    @property
    def for_organisations(self) -> bool:
        return self.buyers in (self.Buyers.ORGANISATIONS, self.Buyers.BOTH)


class Purchase(models.Model):
    class Status(models.TextChoices):
        BOUGHT = "bought", _("Bought")
        CANCELLED = "cancelled", _("Cancelled and credited")

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="purchases"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="purchases",
        help_text=_("Who bought it."),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchases",
        help_text=_("Set when it was charged to the organisation's account."),
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(
        _("price each (£)"), max_digits=10, decimal_places=2
    )
    total = models.DecimalField(_("total (£)"), max_digits=12, decimal_places=2)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.BOUGHT, db_index=True
    )
    charge = models.OneToOneField(
        "bookings.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchase_charged",
        help_text=_("The ledger row it produced (none for a free product)."),
    )
    credit = models.OneToOneField(
        "bookings.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchase_credited",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("cancel_purchase", "Can cancel a purchase and credit what was charged"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="purchase_quantity_at_least_one"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(total__gte=0),
                name="purchase_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(status="bought") | Q(cancelled_at__isnull=False),
                name="a_cancelled_purchase_says_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.quantity} at £{self.unit_price}"
