"""Stock under concurrency: the product row is locked while a purchase takes
from it, so two people buying the last one at once never both get it."""

import time
from unittest import mock

import pytest

from bookings import services as booking_services
from bookings.models import Transaction
from products import services
from products.models import Product, Purchase
from tests.accounts.factories import verified_person
from tests.concurrency import race

from .factories import ProductFactory


@pytest.mark.django_db(transaction=True)
def test_the_last_one_goes_to_exactly_one_of_two_buyers():
    pack = ProductFactory.create(stock=1)
    people = [verified_person(), verified_person()]

    errors = race(*[lambda p=p: services.buy_product(p, pack) for p in people])

    assert Purchase.objects.count() == 1
    assert Transaction.objects.filter(kind="charge").count() == 1
    assert [type(e) for e in errors] == [services.ProductsError]
    assert "sold out" in str(errors[0])
    assert Product.objects.get(pk=pack.pk).stock == 0


@pytest.mark.django_db(transaction=True)
def test_many_buyers_at_once_never_take_more_than_the_stock():
    pack = ProductFactory.create(stock=3)
    people = [verified_person() for _ in range(6)]

    errors = race(
        *[lambda p=p: services.buy_product(p, pack, quantity=2) for p in people]
    )

    # 3 left, 2 at a time: one buyer gets two, every other one is refused.
    assert Purchase.objects.count() == 1
    assert len(errors) == 5
    assert all(isinstance(e, services.ProductsError) for e in errors)
    assert Product.objects.get(pk=pack.pk).stock == 1


@pytest.mark.django_db(transaction=True)
def test_two_staff_cancelling_at_once_credit_once():
    purchase = services.buy_product(verified_person(), ProductFactory.create(stock=4))
    staff = [verified_person(), verified_person()]
    record = booking_services.record_ledger_entry

    def slow_record(**kwargs):
        # The first to credit is slow, so the other is surely waiting by then.
        time.sleep(0.3)
        return record(**kwargs)

    with mock.patch.object(booking_services, "record_ledger_entry", slow_record):
        errors = race(
            *[lambda s=s: services.cancel_purchase(purchase, by=s) for s in staff]
        )

    assert [type(e) for e in errors] == [services.ProductsError]
    assert Transaction.objects.filter(kind="credit").count() == 1
    assert Product.objects.get(pk=purchase.product_id).stock == 4
