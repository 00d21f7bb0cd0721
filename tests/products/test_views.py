"""The services pages: browsing without signing in, buying for oneself or for
an organisation, what is refused and how, and where the purchase shows up."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from bookings.models import Transaction
from products.models import MAX_QUANTITY, Product, Purchase
from tests.accounts.factories import UserFactory, member_of, verified_person

from .factories import ProductFactory
from .helpers import buyer_for_org, org_balance

pytestmark = pytest.mark.django_db


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def catalogue():
    return {
        "pack": ProductFactory.create(
            name="Resource pack", slug="resource-pack", stock=50
        ),
        "day": ProductFactory.create(
            name="Consultancy day", price=Decimal("395"), buyers=Product.Buyers.BOTH
        ),
        "subscription": ProductFactory.create(
            name="Safeguarding subscription",
            price=Decimal("450"),
            buyers=Product.Buyers.ORGANISATIONS,
        ),
        "gone": ProductFactory.create(name="Old leaflet", active=False),
    }


def test_visitors_browse_everything_on_sale_and_are_asked_to_sign_in(client, catalogue):
    page = client.get("/services/").content.decode()
    for name in ("Resource pack", "Consultancy day", "Safeguarding subscription"):
        assert name in page
    assert "Old leaflet" not in page
    assert "50 left" in page
    detail = client.get("/services/resource-pack/").content.decode()
    assert "Sign in to buy" in detail
    assert 'name="quantity"' not in detail
    assert client.get(f"/services/{catalogue['gone'].slug}/").status_code == 404


def test_a_visitors_post_goes_to_sign_in_and_buys_nothing(client, catalogue):
    response = client.post("/services/resource-pack/", {"quantity": "1"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Purchase.objects.exists()


def test_the_catalogue_and_the_menu_lead_to_the_services(client, catalogue):
    page = client.get("/courses/").content.decode()
    assert 'href="/services/"' in page
    assert re.search(r'href="/services/"[^>]*>Other services<', page)


def test_a_person_sees_only_what_they_may_buy(catalogue):
    person = verified_person()
    page = signed_in(person).get("/services/").content.decode()
    assert "Resource pack" in page
    assert "Consultancy day" in page
    assert "Safeguarding subscription" not in page

    booker, _org = buyer_for_org()
    page = signed_in(booker).get("/services/").content.decode()
    assert "Safeguarding subscription" in page


def test_the_list_page_needs_the_same_queries_for_3_or_30_products(
    catalogue, django_assert_max_num_queries
):
    booker, _org = buyer_for_org()
    client = signed_in(booker)
    client.get("/services/")  # warm the session
    # The session, the user, the buyer's organisations, the products.
    with django_assert_max_num_queries(4):
        client.get("/services/")
    ProductFactory.create_batch(27, stock=5)
    with django_assert_max_num_queries(4):
        response = client.get("/services/")
    assert response.content.decode().count('class="app-card"') == 30


def test_buying_for_oneself_shows_in_the_transaction_history(catalogue):
    person = verified_person()
    client = signed_in(person)
    page = client.get("/services/resource-pack/").content.decode()
    assert 'name="quantity"' in page
    assert "Who are you buying for?" not in page  # only oneself to buy for

    response = client.post("/services/resource-pack/", {"quantity": "2"})

    purchase = Purchase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/services/purchases/{purchase.pk}/"
    confirmation = client.get(response["Location"])
    assert messages_of(confirmation) == [
        "You have bought Resource pack, quantity 2. £70.00 has been added to "
        "your balance."
    ]
    assert "Your own account" in confirmation.content.decode()
    history = client.get("/transactions/").content.decode()
    assert "Resource pack: 2 at £35.00" in history
    assert "Balance owed: £70.00" in history
    catalogue["pack"].refresh_from_db()
    assert catalogue["pack"].stock == 48


def test_buying_for_an_organisation_goes_on_its_account_not_the_persons(catalogue):
    booker, org = buyer_for_org(role="is_finance_contact", name="Oak Tree School")
    client = signed_in(booker)
    page = client.get(f"/services/{catalogue['day'].slug}/").content.decode()
    assert "Myself (charged to my own account)" in page
    assert "Oak Tree School (charged to its account)" in page

    response = client.post(
        f"/services/{catalogue['day'].slug}/",
        {"quantity": "1", "buy_for": str(org.pk)},
    )

    purchase = Purchase.objects.get()
    assert purchase.organisation == org
    confirmation = client.get(response["Location"])
    assert messages_of(confirmation) == [
        "You have bought Consultancy day, quantity 1. £395.00 has been charged "
        "to Oak Tree School's account."
    ]
    assert f"/organisation/{org.pk}/account/" in confirmation.content.decode()
    account = client.get(f"/organisation/{org.pk}/account/").content.decode()
    assert "Consultancy day: 1 at £395.00" in account
    history = client.get("/transactions/").content.decode()
    assert "Consultancy day" not in history
    assert "You have no transactions." in history


def test_a_booker_without_the_finance_role_is_not_offered_the_account_page():
    booker, org = buyer_for_org(role="is_booker")
    day = ProductFactory.create(buyers=Product.Buyers.BOTH)
    client = signed_in(booker)
    response = client.post(
        f"/services/{day.slug}/", {"quantity": "1", "buy_for": str(org.pk)}
    )
    page = client.get(response["Location"]).content.decode()
    assert f"{org.name}&#x27;s account" in page
    assert f"/organisation/{org.pk}/account/" not in page


def test_a_person_cannot_buy_an_organisations_only_product_for_themself(catalogue):
    client = signed_in(verified_person())
    url = f"/services/{catalogue['subscription'].slug}/"
    page = client.get(url).content.decode()
    assert "sold to organisations only" in page
    assert 'name="quantity"' not in page

    response = client.post(url, {"quantity": "1", "buy_for": "myself"})

    assert response.status_code == 302
    assert (
        "sold to organisations only" in messages_of(client.get(response["Location"]))[0]
    )
    assert not Purchase.objects.exists()


def test_a_non_role_holder_cannot_buy_for_an_organisation(catalogue):
    person = verified_person()
    _booker, org = buyer_for_org()
    member_of(person, org, is_approver=True)  # a role, but not one that spends
    client = signed_in(person)
    url = f"/services/{catalogue['day'].slug}/"
    assert str(org.name) not in client.get(url).content.decode()

    response = client.post(url, {"quantity": "1", "buy_for": str(org.pk)})

    # Never quietly charged to the person instead.
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert 'href="#form-non-field-error"' in page
    assert "You can buy this only for yourself" in page
    assert not Purchase.objects.exists()
    assert not Transaction.objects.exists()


def test_an_organisation_one_holds_no_spending_role_in_is_not_a_choice(catalogue):
    booker, mine = buyer_for_org()
    _other, theirs = buyer_for_org()
    client = signed_in(booker)
    url = f"/services/{catalogue['day'].slug}/"

    response = client.post(url, {"quantity": "1", "buy_for": str(theirs.pk)})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="#id_buy_for_0"' in page
    assert "Choose who you are buying for" in page
    assert not Purchase.objects.exists()
    assert org_balance(theirs) == 0
    assert org_balance(mine) == 0


@pytest.mark.parametrize(
    "quantity", ["", "0", "²", "٣", "-1", "1.5", "x" * 5000, str(MAX_QUANTITY + 1)]
)
def test_a_quantity_that_is_not_a_whole_number_in_range_is_shown_beside_the_field(
    catalogue, quantity
):
    client = signed_in(verified_person())
    response = client.post("/services/resource-pack/", {"quantity": quantity})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert 'href="#id_quantity"' in page
    assert 'id="id_quantity_error"' in page
    assert not Purchase.objects.exists()


def test_a_sold_out_product_says_so_and_refuses_with_a_message(catalogue):
    Product.objects.filter(pk=catalogue["pack"].pk).update(stock=0)
    client = signed_in(verified_person())
    assert "Sold out" in client.get("/services/").content.decode()
    page = client.get("/services/resource-pack/").content.decode()
    assert "Sold out" in page
    assert 'name="quantity"' not in page

    response = client.post("/services/resource-pack/", {"quantity": "1"})

    assert response.status_code == 302
    assert messages_of(client.get(response["Location"])) == [
        "Sold out. Check again later."
    ]
    assert not Purchase.objects.exists()


def test_asking_for_more_than_is_left_says_how_many_are(catalogue):
    Product.objects.filter(pk=catalogue["pack"].pk).update(stock=2)
    client = signed_in(verified_person())
    response = client.post("/services/resource-pack/", {"quantity": "3"})
    assert messages_of(client.get(response["Location"])) == [
        "Only 2 of Resource pack left. Buy 2 or fewer."
    ]
    assert not Purchase.objects.exists()


def test_an_unverified_email_is_asked_to_confirm_it_first(catalogue):
    client = signed_in(UserFactory.create())
    page = client.get("/services/resource-pack/").content.decode()
    assert "Confirm your email address before you buy." in page
    client.post("/services/resource-pack/", {"quantity": "1"})
    assert not Purchase.objects.exists()


def test_a_restricted_person_is_told_why_they_cannot_buy(catalogue):
    person = verified_person()
    person.processing_restricted = True
    person.save()
    client = signed_in(person)
    assert "restricted" in client.get("/services/resource-pack/").content.decode()
    response = client.post("/services/resource-pack/", {"quantity": "1"})
    assert "restricted" in messages_of(client.get(response["Location"]))[0]
    assert not Purchase.objects.exists()


def test_a_double_submit_buys_once(catalogue):
    client = signed_in(verified_person())
    page = client.get("/services/resource-pack/").content.decode()
    token = re.search(r'name="idempotency_token" value="([^"]+)"', page)[1]
    data = {"quantity": "1", "idempotency_token": token}
    first = client.post("/services/resource-pack/", data)
    second = client.post("/services/resource-pack/", data)
    assert first["Location"] == second["Location"]
    assert Purchase.objects.count() == 1
    assert Transaction.objects.count() == 1


def test_a_purchase_page_is_only_for_the_buyer(catalogue):
    person = verified_person()
    client = signed_in(person)
    response = client.post("/services/resource-pack/", {"quantity": "1"})
    url = response["Location"]
    assert client.get(url).status_code == 200
    assert signed_in(verified_person()).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
