"""The reads the services pages share, with their exact query counts."""

import pytest
from django.contrib.auth.models import AnonymousUser

from products import selectors
from products.models import Product
from tests.accounts.factories import member_of, verified_person

from .factories import ProductFactory
from .helpers import buyer_for_org

pytestmark = pytest.mark.django_db


def test_organisations_buying_for_lists_only_spending_roles_on_account(
    django_assert_num_queries,
):
    person, booker_of = buyer_for_org(role="is_booker", name="B")
    _, finance_of = buyer_for_org(role="is_finance_contact", name="A")
    member_of(person, finance_of, workplace=False, is_finance_contact=True)
    _, approver_of = buyer_for_org(role="is_approver")
    member_of(person, approver_of, workplace=False, is_approver=True)
    _, not_on_account = buyer_for_org(pays_on_account=False)
    member_of(person, not_on_account, workplace=False, is_booker=True)

    with django_assert_num_queries(1):
        found = list(selectors.organisations_buying_for(person))

    assert found == [finance_of, booker_of]


def test_a_restricted_or_erased_person_buys_for_no_organisation(
    django_assert_num_queries,
):
    person, _org = buyer_for_org()
    person.processing_restricted = True
    with django_assert_num_queries(0):
        assert list(selectors.organisations_buying_for(person)) == []


def test_products_for_a_visitor_a_person_and_a_buyer(django_assert_num_queries):
    pack = ProductFactory.create(name="A pack")
    day = ProductFactory.create(name="B day", buyers=Product.Buyers.BOTH)
    subscription = ProductFactory.create(
        name="C subscription", buyers=Product.Buyers.ORGANISATIONS
    )
    ProductFactory.create(name="D gone", active=False)
    booker, _org = buyer_for_org()
    person = verified_person()

    with django_assert_num_queries(1):
        assert list(selectors.products_for(AnonymousUser())) == [
            pack,
            day,
            subscription,
        ]
    with django_assert_num_queries(2):
        assert list(selectors.products_for(person)) == [pack, day]
    with django_assert_num_queries(2):
        assert list(selectors.products_for(booker)) == [pack, day, subscription]
