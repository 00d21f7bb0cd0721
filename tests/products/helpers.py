from decimal import Decimal

from django.db.models import Sum

from bookings.models import Transaction
from tests.accounts.factories import OrganisationFactory, member_of, verified_person


def own_balance(person) -> Decimal:
    """What the person owes on their own account (not their organisations')."""
    rows = Transaction.objects.filter(person=person, organisation__isnull=True)
    return rows.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def org_balance(organisation) -> Decimal:
    rows = Transaction.objects.filter(organisation=organisation)
    return rows.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def buyer_for_org(*, role="is_booker", pays_on_account=True, **fields):
    """A verified person holding `role` in an organisation (on account unless
    told). Returns (person, organisation)."""
    org = OrganisationFactory.create(pays_on_account=pays_on_account, **fields)
    person = verified_person()
    member_of(person, org, **({role: True} if role else {}))
    return person, org
