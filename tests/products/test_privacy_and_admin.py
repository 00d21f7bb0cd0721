"""Purchases in the person's export, kept without their name on erasure (the
finance hold); products and purchases in the back office; the demo data."""

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from accounts import roles
from bookings.models import Transaction
from privacy import services as privacy_services
from products import services
from products.models import Product, Purchase
from tests.accounts.factories import UserFactory, verified_person
from tests.conftest import give_totp, staff_client

from .factories import ProductFactory
from .helpers import buyer_for_org, org_balance, own_balance

pytestmark = pytest.mark.django_db


def _export(person) -> dict:
    archive = zipfile.ZipFile(io.BytesIO(privacy_services.export_person(person)))
    return json.loads(archive.read("data.json"))["categories"]


def test_the_export_holds_the_purchases_for_oneself_and_for_an_organisation():
    person, org = buyer_for_org(name="Oak Tree School")
    pack = ProductFactory.create(name="Resource pack", price=Decimal("35"))
    day = ProductFactory.create(
        name="Consultancy day", price=Decimal("395"), buyers=Product.Buyers.BOTH
    )
    services.buy_product(person, pack, quantity=2)
    services.buy_product(person, day, organisation=org)
    services.buy_product(verified_person(), pack)  # someone else's

    rows = _export(person)["purchases"]

    assert [
        (r["product"], r["quantity"], r["total"], r["charged_to"]) for r in rows
    ] == [
        ("Resource pack", 2, "70.00", "your account"),
        ("Consultancy day", 1, "395.00", "Oak Tree School"),
    ]
    # The charge to the person's own account is in their transactions too.
    assert [t["description"] for t in _export(person)["transactions"]] == [
        "Resource pack: 2 at £35.00"
    ]


def test_erasure_keeps_the_purchases_and_charges_without_the_persons_name():
    person, org = buyer_for_org()
    person.first_name, person.last_name = "Josephine", "Smith"
    person.save()
    day = ProductFactory.create(price=Decimal("100"), buyers=Product.Buyers.BOTH)
    mine = services.buy_product(person, day)
    theirs = services.buy_product(person, day, organisation=org)

    privacy_services.erase_person(person)

    person.refresh_from_db()
    assert person.erased_at is not None
    assert "Smith" not in f"{person.first_name} {person.last_name} {person.email}"
    kept = {p.pk: p for p in Purchase.objects.select_related("person")}
    assert set(kept) == {mine.pk, theirs.pk}
    assert all(p.person == person and p.total == Decimal("100") for p in kept.values())
    assert own_balance(person) == Decimal("100")
    assert org_balance(org) == Decimal("100")
    assert Transaction.objects.filter(kind="charge").count() == 2
    assert "Smith" not in json.dumps(_export(person), default=str)


def _staff(group: str | None) -> Client:
    return staff_client(group)


def test_course_admins_list_search_and_add_products_with_stock_unlimited_shown():
    client = _staff(roles.COURSE_ADMINS)
    ProductFactory.create(name="Consultancy day", stock=None)
    ProductFactory.create(name="Resource pack", stock=50)
    page = client.get("/admin/products/product/").content.decode()
    assert "unlimited" in page
    assert ">50<" in page
    found = client.get("/admin/products/product/?q=pack").content.decode()
    assert "Resource pack" in found
    assert "Consultancy day" not in found
    response = client.post(
        "/admin/products/product/add/",
        {
            "name": "Audit visit",
            "slug": "audit-visit",
            "summary": "",
            "description": "",
            "price": "250",
            "stock": "",
            "buyers": "organisations",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert Product.objects.get(slug="audit-visit").stock is None


def test_a_product_someone_bought_cannot_be_deleted_even_by_a_superuser():
    pack = ProductFactory.create()
    services.buy_product(verified_person(), pack)
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(superuser)
    client = Client()
    client.force_login(superuser)
    assert client.get(f"/admin/products/product/{pack.pk}/delete/").status_code == 403


def test_booking_admins_cancel_a_purchase_with_a_credit_and_cannot_edit_it():
    purchase = services.buy_product(
        verified_person(), ProductFactory.create(price=Decimal("20"), stock=3)
    )
    client = _staff(roles.BOOKING_ADMINS)
    assert client.get("/admin/products/purchase/").status_code == 200
    assert client.get("/admin/products/purchase/add/").status_code == 403
    response = client.post(
        "/admin/products/purchase/",
        {"action": "cancel_selected", "_selected_action": [str(purchase.pk)]},
    )
    assert response.status_code == 302
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.CANCELLED
    assert purchase.credit.amount == Decimal("-20")
    assert own_balance(purchase.person) == 0


def test_course_admins_cannot_cancel_purchases():
    purchase = services.buy_product(verified_person(), ProductFactory.create())
    client = _staff(roles.COURSE_ADMINS)
    client.post(
        "/admin/products/purchase/",
        {"action": "cancel_selected", "_selected_action": [str(purchase.pk)]},
    )
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.BOUGHT


def test_the_demo_data_sells_a_subscription_consultancy_and_a_resource_pack():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    products = {p.slug: p for p in Product.objects.all()}
    assert len(products) == 3
    assert products["annual-safeguarding-subscription"].buyers == "organisations"
    assert products["consultancy-day"].buyers == "both"
    assert (products["resource-pack"].buyers, products["resource-pack"].stock) == (
        "people",
        50,
    )
