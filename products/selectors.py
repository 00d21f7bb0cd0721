"""Reads for the services pages: which products are on sale, which of them a
person may buy and for whom, and a person's own purchases. Each returns a
queryset (or a list built from one query), so pages do not grow in queries
with the number of products."""

from django.db.models import Q, QuerySet

from accounts.models import Membership, Organisation, User

from .models import Product, Purchase

# The roles that may spend an organisation's money on services.
BUYING_ROLES = Q(is_booker=True) | Q(is_finance_contact=True)


def organisations_buying_for(person: User) -> QuerySet[Organisation]:
    """The organisations a person may charge a service to: confirmed
    membership holding the booker or finance-contact role, in an organisation
    that pays on account. None for someone who may not act at all (signed
    out, inactive, erased, or restricted: acting for an organisation would
    use their data)."""
    if (
        person.pk is None
        or not person.is_active
        or person.erased_at is not None
        or person.processing_restricted
    ):
        return Organisation.objects.none()
    memberships = (
        Membership.objects.confirmed().filter(person=person).filter(BUYING_ROLES)
    )
    return Organisation.objects.filter(
        pays_on_account=True, memberships__in=memberships
    ).order_by("name", "pk")


def products_on_sale() -> QuerySet[Product]:
    return Product.objects.on_sale().order_by("name", "pk")


def products_for(person: User | None) -> QuerySet[Product]:
    """What the services list shows: to a visitor not signed in, everything on
    sale; to someone signed in, what they may buy (for themselves, or for an
    organisation they buy for)."""
    products = products_on_sale()
    if person is None or not person.is_authenticated:
        return products
    allowed = [Product.Buyers.PEOPLE, Product.Buyers.BOTH]
    if organisations_buying_for(person).exists():
        allowed.append(Product.Buyers.ORGANISATIONS)
    return products.filter(buyers__in=allowed)


def product_get(slug: str) -> Product | None:
    return products_on_sale().filter(slug=slug).first()


def purchases_for_person(*, person: User) -> QuerySet[Purchase]:
    return (
        Purchase.objects.filter(person=person)
        .select_related("product", "organisation", "charge")
        .order_by("-created_at", "-pk")
    )
