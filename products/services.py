"""Buying services other than course places, and staff cancelling a purchase.

- `buy_product` locks the product row (`select_for_update`) inside a
  transaction, so stock is never oversold however many people buy at once:
  the second buyer of the last one waits for the first and then finds it sold
  out. The purchase and its charge on the ledger (`bookings.Transaction`,
  through `bookings.services.record_ledger_entry`) are written in that same
  transaction, so there is never one without the other.
- A charge goes on the buyer's own balance, or on an organisation's account
  when bought for it (the ledger row then belongs to the organisation alone,
  so it is never in the buyer's own balance). Free products charge nothing.
- `cancel_purchase` (staff) adds a credit for what was charged (the charge is
  never changed) and puts the stock back. Cancelling twice is refused.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from bookings import services as booking_services
from bookings.models import Transaction

from .models import MAX_QUANTITY, Product, Purchase
from .selectors import organisations_buying_for


class ProductsError(Exception):
    """A refusal whose message is safe to show to the person."""


def _check_buyer(person: User, organisation: Organisation | None) -> None:
    if person.erased_at is not None or not person.is_active:
        raise ProductsError(_("This account cannot buy services."))
    if person.processing_restricted:
        # Restriction stops new processing: a new purchase would be one.
        raise ProductsError(
            _(
                "You cannot buy while the use of your data is restricted at your "
                "request. Contact our data protection lead to lift the restriction."
            )
        )
    if not booking_services.has_verified_email(person):
        raise ProductsError(_("Confirm your email address before you buy."))
    if (
        organisation is not None
        and not organisations_buying_for(person).filter(pk=organisation.pk).exists()
    ):
        raise ProductsError(
            _(
                "You cannot buy for %(org)s: only its confirmed bookers and finance "
                "contacts can, and only when it pays on account."
            )
            % {"org": organisation}
        )


def _check_product(product: Product, organisation: Organisation | None) -> None:
    if not product.active:
        raise ProductsError(
            _("%(product)s is no longer on sale.") % {"product": product}
        )
    if organisation is None and not product.for_people:
        raise ProductsError(
            _("%(product)s is sold to organisations only. Choose who to buy for.")
            % {"product": product}
        )
    if organisation is not None and not product.for_organisations:
        raise ProductsError(
            _("%(product)s is sold to people for themselves only.")
            % {"product": product}
        )


def buy_product(
    person: User,
    product: Product,
    *,
    quantity: int = 1,
    organisation: Organisation | None = None,
) -> Purchase:
    """Buy `quantity` of the product, for the person or charged to
    `organisation`'s account. Refused with a `ProductsError` when the person
    may not buy it, or there are not enough left."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ProductsError(
            _("Enter a quantity from 1 to %(max)s.") % {"max": MAX_QUANTITY}
        )
    _check_buyer(person, organisation)
    with transaction.atomic():
        # Lock the product row: two buyers of the last one take turns.
        product = Product.objects.select_for_update().get(pk=product.pk)
        _check_product(product, organisation)
        if product.stock is not None:
            if product.stock <= 0:
                raise ProductsError(
                    _("Sorry, %(product)s has sold out.") % {"product": product}
                )
            if quantity > product.stock:
                raise ProductsError(
                    _("Only %(left)s of %(product)s left. Buy %(left)s or fewer.")
                    % {"left": product.stock, "product": product}
                )
            product.stock -= quantity
            product.save(update_fields=["stock", "updated_at"])
        total = product.price * quantity
        charge = None
        if total > 0:
            charge = booking_services.record_ledger_entry(
                # Bought for an organisation: its account alone, never the
                # buyer's own balance (who bought it is on the purchase).
                person=None if organisation else person,
                organisation=organisation,
                kind=Transaction.Kind.CHARGE,
                amount=total,
                description=_("%(product)s: %(quantity)s at £%(price)s")
                % {
                    "product": product.name,
                    "quantity": quantity,
                    "price": product.price,
                },
                reference=organisation.purchase_order if organisation else "",
                # Acting for an organisation is logged as an action for others;
                # buying for oneself is not.
                by=person if organisation else None,
            )
        return Purchase.objects.create(
            product=product,
            person=person,
            organisation=organisation,
            quantity=quantity,
            unit_price=product.price,
            total=total,
            charge=charge,
        )


def cancel_purchase(purchase: Purchase, *, by: User) -> Purchase:
    """Cancel a purchase: credit what was charged (a new ledger row) and put
    the stock back. The lock on the purchase makes a second cancel wait and
    then be refused, so nothing is credited twice."""
    with transaction.atomic():
        purchase = (
            Purchase.objects.select_for_update(of=("self",))
            .select_related("product", "organisation", "charge")
            .get(pk=purchase.pk)
        )
        if purchase.status == Purchase.Status.CANCELLED:
            raise ProductsError(_("This purchase has already been cancelled."))
        product = Product.objects.select_for_update().get(pk=purchase.product_id)
        if product.stock is not None:
            product.stock += purchase.quantity
            product.save(update_fields=["stock", "updated_at"])
        if purchase.charge is not None and purchase.total > Decimal("0"):
            purchase.credit = booking_services.record_ledger_entry(
                person=purchase.charge.person,
                organisation=purchase.charge.organisation,
                kind=Transaction.Kind.CREDIT,
                amount=purchase.total,
                description=_("Cancelled: %(product)s: %(quantity)s at £%(price)s")
                % {
                    "product": product.name,
                    "quantity": purchase.quantity,
                    "price": purchase.unit_price,
                },
                reference=purchase.charge.reference,
                by=by,
            )
        purchase.status = Purchase.Status.CANCELLED
        purchase.cancelled_at = timezone.now()
        purchase.cancelled_by = by
        purchase.save(
            update_fields=["status", "cancelled_at", "cancelled_by", "credit"]
        )
        return purchase
