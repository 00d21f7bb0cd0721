"""The back office: invoices are read-only documents; "Raise invoices for a
period" and "Record a payment" go through the services, say clearly what is
wrong with bad input, and are only for staff holding their permission."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from accounts import roles
from bookings.models import Transaction
from organisations.models import Invoice
from tests.accounts.factories import UserFactory
from tests.conftest import staff_client

from .helpers import charged_place, on_account, today

pytestmark = pytest.mark.django_db

RAISE = "/admin/organisations/invoice/raise/"
PAYMENT = "/admin/organisations/invoice/payment/"
LIST = "/admin/organisations/invoice/"


def _staff(group: str | None) -> Client:
    return staff_client(group)


@pytest.fixture
def officer():
    return _staff(roles.FUNDING_OFFICERS)


def _token(html: str) -> str:
    return re.search(r'name="idempotency_token" value="([^"]+)"', html)[1]


def test_an_officer_raises_the_invoices_for_a_period(officer):
    orgs = [on_account(name=f"School {n}") for n in (1, 2)]
    for org in orgs:
        charged_place(org)
    page = officer.get(LIST).content.decode()
    assert "Raise invoices for a period" in page
    assert "Record a payment" in page
    day = today().strftime("%d/%m/%Y")
    response = officer.post(
        RAISE, {"period_start": day, "period_end": day, "vat_rate": "0"}, follow=True
    )
    assert "Issued 2: INV-000001, INV-000002." in response.content.decode()
    invoice = Invoice.objects.get(number="INV-000001")
    assert invoice.issued_by == officer.user
    again = officer.post(
        RAISE, {"period_start": day, "period_end": day, "vat_rate": "0"}, follow=True
    )
    assert "Nothing to invoice" in again.content.decode()
    assert Invoice.objects.count() == 2


def test_one_organisation_can_be_invoiced_alone(officer):
    chosen, other = on_account(), on_account()
    charged_place(chosen)
    charged_place(other)
    day = today().strftime("%d/%m/%Y")
    officer.post(
        RAISE,
        {
            "period_start": day,
            "period_end": day,
            "vat_rate": "0",
            "organisation": chosen.pk,
        },
    )
    assert list(Invoice.objects.values_list("organisation", flat=True)) == [chosen.pk]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"period_start": "", "period_end": ""}, "Enter the first day of the period"),
        ({"period_start": "31/13/2026"}, "Enter the first day as a date"),
        (
            {"period_start": "2/1/2026", "period_end": "1/1/2026"},
            "must be the same as or after",
        ),
        ({"period_end": "1/1/2999"}, "today or in the past"),
        ({"period_start": "1/1/1800"}, "in or after 1900"),
        ({"vat_rate": "150"}, "less than or equal to 100"),
        ({"vat_rate": "-1"}, "greater than or equal to 0"),
        ({"organisation": "999999"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(officer, data, message):
    charged_place(on_account())
    day = today().strftime("%d/%m/%Y")
    response = officer.post(
        RAISE, {"period_start": day, "period_end": day, "vat_rate": "0", **data}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Invoice.objects.count() == 0


def test_an_officer_records_a_payment_once_however_often_it_is_sent(officer):
    org = on_account()
    token = _token(officer.get(PAYMENT).content.decode())
    data = {
        "organisation": org.pk,
        "amount": "250.00",
        "reference": "BACS 42 for INV-000001",
        "idempotency_token": token,
    }
    first = officer.post(PAYMENT, data, follow=True)
    assert "Recorded £250.00" in first.content.decode()
    officer.post(PAYMENT, data)
    payment = Transaction.objects.get(organisation=org)
    assert (payment.kind, payment.amount, payment.reference) == (
        "payment",
        Decimal("-250.00"),
        "BACS 42 for INV-000001",
    )
    assert payment.created_by == officer.user


def test_a_payment_without_an_amount_or_reference_is_refused(officer):
    org = on_account()
    response = officer.post(PAYMENT, {"organisation": org.pk, "amount": "0"})
    html = response.content.decode()
    assert "Ensure this value is greater than or equal to 0.01" in html
    assert "Enter the payment&#x27;s reference" in html
    assert not Transaction.objects.exists()


def test_invoices_are_read_only_in_the_back_office(officer):
    charged_place(on_account())
    day = today()
    from organisations.services import raise_invoices

    [invoice] = raise_invoices(day, day, by=None)
    page = officer.get(f"{LIST}{invoice.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "INV-000001" in html
    assert 'name="_save"' not in html
    assert officer.get(f"{LIST}add/").status_code == 403
    assert officer.get(f"{LIST}{invoice.pk}/delete/").status_code == 403
    pdf = officer.get(f"{LIST}{invoice.pk}/pdf/")
    assert pdf.content.startswith(b"%PDF-")
    assert {"private", "no-store"} <= set(pdf["Cache-Control"].split(", "))


@pytest.mark.parametrize(
    "group",
    [None, roles.BOOKING_ADMINS, roles.COURSE_ADMINS, roles.DATA_PROTECTION_LEAD],
)
def test_staff_without_the_permission_cannot_raise_or_record(group):
    client = _staff(group)
    org = on_account()
    charged_place(org)
    day = today().strftime("%d/%m/%Y")
    assert client.get(RAISE).status_code == 403
    assert (
        client.post(
            RAISE, {"period_start": day, "period_end": day, "vat_rate": "0"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            PAYMENT, {"organisation": org.pk, "amount": "5", "reference": "x"}
        ).status_code
        == 403
    )
    assert not Invoice.objects.exists()
    assert not Transaction.objects.filter(kind="payment").exists()


def test_learners_are_sent_to_log_in():
    client = Client()
    client.force_login(UserFactory.create())
    for url in (RAISE, PAYMENT, LIST):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [RAISE, PAYMENT])
def test_organisations_are_searched_for_not_listed(officer, url):
    """The pages listed every organisation in a drop-down; they use the
    admin's search-as-you-type instead, which finds them by name for an
    officer (who may view organisations)."""
    hillside = on_account(name="Hillside Primary")
    on_account(name="Riverside Surgery")
    page = officer.get(url).content.decode()
    assert "Hillside Primary" not in page
    assert "Riverside Surgery" not in page
    ajax = re.search(r'data-ajax--url="([^"]+)"', page)[1]
    params = dict(re.findall(r'data-(app-label|model-name|field-name)="([^"]+)"', page))
    assert "admin/js/autocomplete.js" in page
    found = officer.get(
        ajax,
        {
            "term": "hill",
            "app_label": params["app-label"],
            "model_name": params["model-name"],
            "field_name": params["field-name"],
        },
    ).json()
    assert [r["text"] for r in found["results"]] == ["Hillside Primary"]
    assert found["results"][0]["id"] == str(hillside.pk)
