"""buy_product and cancel_purchase: who may buy what for whom, stock, the one
ledger row each purchase produces, and the credit that undoes it."""

from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import StaffLog, Transaction
from products import services
from products.models import MAX_QUANTITY, Product, Purchase
from tests.accounts.factories import UserFactory, member_of, verified_person

from .factories import ProductFactory
from .helpers import buyer_for_org, org_balance, own_balance

pytestmark = pytest.mark.django_db


def test_buying_for_oneself_charges_ones_own_balance_once():
    person = verified_person()
    pack = ProductFactory.create(name="Resource pack", price=Decimal("35.00"))

    purchase = services.buy_product(person, pack, quantity=2)

    assert purchase.status == Purchase.Status.BOUGHT
    assert (purchase.quantity, purchase.unit_price, purchase.total) == (
        2,
        Decimal("35.00"),
        Decimal("70.00"),
    )
    charge = purchase.charge
    assert (charge.kind, charge.amount, charge.person, charge.organisation) == (
        Transaction.Kind.CHARGE,
        Decimal("70.00"),
        person,
        None,
    )
    assert charge.description == "Resource pack: 2 at £35.00"
    assert charge.created_by is None
    assert own_balance(person) == Decimal("70.00")
    # Buying for oneself is not an action for others.
    assert not StaffLog.objects.exists()


def test_the_price_is_kept_as_it_was_when_bought():
    person = verified_person()
    pack = ProductFactory.create(price=Decimal("35.00"))
    purchase = services.buy_product(person, pack)
    Product.objects.filter(pk=pack.pk).update(price=Decimal("50.00"))
    purchase.refresh_from_db()
    assert purchase.unit_price == Decimal("35.00")
    assert purchase.charge.amount == Decimal("35.00")


@pytest.mark.parametrize("role", ["is_booker", "is_finance_contact"])
def test_a_booker_or_finance_contact_charges_the_organisations_account(role):
    person, org = buyer_for_org(role=role, purchase_order="PO-77")
    day = ProductFactory.create(
        name="Consultancy day", price=Decimal("395"), buyers=Product.Buyers.BOTH
    )

    purchase = services.buy_product(person, day, quantity=2, organisation=org)

    assert purchase.organisation == org
    assert purchase.person == person
    charge = purchase.charge
    # The account's row alone: never in the buyer's own balance.
    assert (charge.person, charge.organisation, charge.amount) == (
        None,
        org,
        Decimal("790.00"),
    )
    assert charge.reference == "PO-77"
    assert charge.created_by == person
    assert org_balance(org) == Decimal("790.00")
    assert own_balance(person) == Decimal("0")
    assert StaffLog.objects.filter(actor=person, action="recorded charge").exists()


def test_an_organisations_only_product_is_not_sold_to_a_person_for_themself():
    person, org = buyer_for_org()
    subscription = ProductFactory.create(buyers=Product.Buyers.ORGANISATIONS)
    with pytest.raises(services.ProductsError, match="organisations only"):
        services.buy_product(person, subscription)
    services.buy_product(person, subscription, organisation=org)
    assert Purchase.objects.count() == 1


def test_a_people_only_product_is_not_charged_to_an_organisation():
    person, org = buyer_for_org()
    pack = ProductFactory.create(buyers=Product.Buyers.PEOPLE)
    with pytest.raises(services.ProductsError, match="for themselves only"):
        services.buy_product(person, pack, organisation=org)
    assert not Purchase.objects.exists()
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("role", "pays_on_account", "confirmed"),
    [
        (None, True, True),  # a member without a role
        ("is_approver", True, True),  # approving is not spending
        ("is_booker", False, True),  # the organisation does not pay on account
        ("is_booker", True, False),  # asked to join, not confirmed
    ],
)
def test_only_a_confirmed_booker_or_finance_contact_of_an_account_may_buy_for_it(
    role, pays_on_account, confirmed
):
    person, org = buyer_for_org(role=None, pays_on_account=pays_on_account)
    member_of(person, org, confirmed=confirmed, **({role: True} if role else {}))
    day = ProductFactory.create(buyers=Product.Buyers.BOTH)
    with pytest.raises(services.ProductsError, match="You cannot buy for"):
        services.buy_product(person, day, organisation=org)
    assert not Purchase.objects.exists()
    assert org_balance(org) == 0


def test_a_role_in_one_organisation_does_not_let_one_buy_for_another():
    person, _mine = buyer_for_org()
    _other_person, theirs = buyer_for_org()
    day = ProductFactory.create(buyers=Product.Buyers.BOTH)
    with pytest.raises(services.ProductsError, match="You cannot buy for"):
        services.buy_product(person, day, organisation=theirs)


def test_stock_goes_down_and_the_last_ones_cannot_be_oversold():
    person = verified_person()
    pack = ProductFactory.create(name="Pack", stock=3)
    services.buy_product(person, pack, quantity=2)
    pack.refresh_from_db()
    assert pack.stock == 1
    with pytest.raises(services.ProductsError, match="Only 1 of Pack left"):
        services.buy_product(person, pack, quantity=2)
    services.buy_product(person, pack)
    pack.refresh_from_db()
    assert pack.stock == 0
    assert pack.sold_out
    with pytest.raises(services.ProductsError, match="sold out"):
        services.buy_product(person, pack)
    assert Purchase.objects.count() == 2


def test_unlimited_stock_stays_unlimited():
    pack = ProductFactory.create(stock=None)
    services.buy_product(verified_person(), pack, quantity=MAX_QUANTITY)
    pack.refresh_from_db()
    assert pack.stock is None


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1])
def test_a_quantity_out_of_bounds_is_refused(quantity):
    with pytest.raises(services.ProductsError, match="quantity from 1"):
        services.buy_product(
            verified_person(), ProductFactory.create(), quantity=quantity
        )


def test_a_product_taken_off_sale_is_not_sold():
    pack = ProductFactory.create(active=False)
    with pytest.raises(services.ProductsError, match="no longer on sale"):
        services.buy_product(verified_person(), pack)


def test_a_free_product_is_bought_without_a_ledger_row():
    purchase = services.buy_product(
        verified_person(), ProductFactory.create(price=Decimal("0"))
    )
    assert purchase.total == 0
    assert purchase.charge is None
    assert not Transaction.objects.exists()


def test_an_unverified_email_cannot_buy():
    with pytest.raises(services.ProductsError, match="Confirm your email"):
        services.buy_product(UserFactory.create(), ProductFactory.create())


def test_a_restricted_person_cannot_buy_for_themself_or_an_organisation():
    person, org = buyer_for_org()
    person.processing_restricted = True
    person.save()
    day = ProductFactory.create(buyers=Product.Buyers.BOTH)
    for organisation in (None, org):
        with pytest.raises(services.ProductsError, match="restricted"):
            services.buy_product(person, day, organisation=organisation)
    assert not Purchase.objects.exists()


def test_an_erased_account_cannot_buy():
    person = verified_person()
    person.erased_at = timezone.now()
    person.save()
    with pytest.raises(services.ProductsError, match="cannot buy"):
        services.buy_product(person, ProductFactory.create())


def test_cancelling_credits_the_charge_and_puts_the_stock_back():
    person, org = buyer_for_org()
    staff = UserFactory.create(is_staff=True)
    day = ProductFactory.create(price=Decimal("100"), stock=5, buyers="both")
    mine = services.buy_product(person, day, quantity=2)
    theirs = services.buy_product(person, day, organisation=org)

    services.cancel_purchase(mine, by=staff)
    services.cancel_purchase(theirs, by=staff)

    for purchase, owner in ((mine, own_balance(person)), (theirs, org_balance(org))):
        purchase.refresh_from_db()
        assert purchase.status == Purchase.Status.CANCELLED
        assert purchase.cancelled_by == staff
        assert purchase.credit.kind == Transaction.Kind.CREDIT
        assert purchase.credit.amount == -purchase.total
        assert (purchase.credit.person, purchase.credit.organisation) == (
            purchase.charge.person,
            purchase.charge.organisation,
        )
        assert owner == 0
    day.refresh_from_db()
    assert day.stock == 5
    # The charges themselves are untouched: a correction is a new row.
    assert Transaction.objects.filter(kind="charge").count() == 2


def test_a_purchase_is_cancelled_and_credited_once():
    purchase = services.buy_product(verified_person(), ProductFactory.create())
    staff = UserFactory.create(is_staff=True)
    services.cancel_purchase(purchase, by=staff)
    with pytest.raises(services.ProductsError, match="already been cancelled"):
        services.cancel_purchase(purchase, by=staff)
    assert Transaction.objects.filter(kind="credit").count() == 1
