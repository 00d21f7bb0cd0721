"""The account pages of an organisation (transaction history, invoices, the
printable invoice and its PDF): for that organisation's confirmed finance
contacts only, never cached, and nobody else learns or changes anything."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client

from config.paging import PER_PAGE
from organisations import services
from tests.accounts.factories import OrganisationFactory, UserFactory, member_of

from .helpers import cancel, charged_place, on_account, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    """An organisation with an invoice, a credit note and a payment, and its
    finance contact signed in."""
    org = on_account(name="Westmoor Academy", purchase_order="WA-2026")
    person = UserFactory.create(first_name="Priya", last_name="Raman")
    kept = charged_place(org, person=person, price="150.00", purchase_order="PO-1")
    refunded = charged_place(org, price="40.00")
    [invoice] = services.raise_invoices(today(), today(), by=None)
    cancel(refunded)
    [note] = services.raise_invoices(today(), today(), by=None)
    services.record_payment(
        org,
        amount=Decimal("100.00"),
        reference="BACS 123",
        by=UserFactory.create(is_staff=True),
    )
    contact = UserFactory.create()
    member_of(contact, org, workplace=False, is_finance_contact=True)
    client = Client()
    client.force_login(contact)
    return {
        "org": org,
        "invoice": invoice,
        "note": note,
        "kept": kept,
        "client": client,
    }


def _urls(org_id, number):
    return [
        f"/organisation/{org_id}/account/",
        f"/organisation/{org_id}/invoices/{number}/",
        f"/organisation/{org_id}/invoices/{number}.pdf",
    ]


def test_the_account_shows_the_ledger_with_a_running_balance_and_the_documents(
    account, django_assert_max_num_queries
):
    org = account["org"]
    with django_assert_max_num_queries(12):
        response = account["client"].get(f"/organisation/{org.pk}/account/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert "Balance owed: £50.00" in html  # 150 + 40 - 40 - 100
    for text in (
        "Invoice INV-000001",
        "Credit note CN-000001",
        "credits INV-000001",
        "Credit £40.00",
        "BACS 123",
        "Priya Raman",
        "£150.00",
        "£190.00",  # the balance after the second charge
        f"/organisation/{org.pk}/invoices/INV-000001.pdf",
    ):
        assert text in html, text


def test_the_account_page_does_not_grow_in_queries_with_rows(
    account, django_assert_max_num_queries
):
    org = account["org"]
    for _ in range(5):
        charged_place(org, price="10.00")
    services.raise_invoices(today(), today(), by=None)
    with django_assert_max_num_queries(12):
        assert (
            account["client"].get(f"/organisation/{org.pk}/account/").status_code == 200
        )


def test_the_invoice_page_is_a_printable_a4_document(account):
    org, invoice = account["org"], account["invoice"]
    response = account["client"].get(
        f"/organisation/{org.pk}/invoices/{invoice.number}/"
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert 'class="govuk-template__body app-printable"' in html
    for text in (
        "INV-000001",
        "Westmoor Academy",
        "Priya Raman",
        "WA-2026",  # the yearly PO: the places' POs differ
        "PO-1",  # and the line's own
        "£190.00",
        "No VAT is charged.",
        "Download as PDF",
        "CN-000001",  # credited since by
    ):
        assert text in html, text


def test_the_pdf_is_downloaded_privately(account):
    org, note = account["org"], account["note"]
    response = account["client"].get(
        f"/organisation/{org.pk}/invoices/{note.number}.pdf"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="CN-000001.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert response.content.startswith(b"%PDF-")
    assert b"CN-000001" in response.content
    assert b"INV-000001" in response.content  # the invoice it credits


def test_the_organisation_page_links_finance_contacts_to_the_account(account):
    org = account["org"]
    html = account["client"].get(f"/organisation/{org.pk}/").content.decode()
    assert f"/organisation/{org.pk}/account/" in html


def test_a_number_that_is_not_an_invoice_number_is_not_found(account):
    org = account["org"]
    for path in ("INV-1", "inv-000001", "INV-000001x", "../admin", "INV-000099"):
        response = account["client"].get(f"/organisation/{org.pk}/invoices/{path}/")
        assert response.status_code == 404, path


def _counts() -> dict[str, int]:
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label in ("organisations", "bookings", "accounts")
    }


def _people(org):
    """Everyone who must not see the account, and what each must get."""
    other = OrganisationFactory.create(pays_on_account=True)
    other_contact = UserFactory.create()
    member_of(other_contact, other, is_finance_contact=True, is_booker=True)
    unconfirmed = UserFactory.create()
    member_of(unconfirmed, org, confirmed=False, is_finance_contact=True)
    learner = UserFactory.create()
    booker = UserFactory.create()
    member_of(booker, org, is_booker=True, is_approver=True)
    staff = UserFactory.create(is_staff=True, is_superuser=True)
    return [
        ("member of another organisation", other_contact, {404}),
        ("unconfirmed member", unconfirmed, {404}),
        ("plain learner", learner, {404}),
        ("booker and approver without the finance role", booker, {403}),
        ("staff (they use the back office)", staff, {404}),
    ]


@pytest.mark.parametrize("method", ["get", "head", "post", "put", "delete"])
def test_nobody_else_sees_or_changes_the_account(account, method):
    org, invoice = account["org"], account["invoice"]
    people = _people(org)
    before = _counts()
    for who, person, expected in people:
        client = Client()
        client.force_login(person)
        for url in _urls(org.pk, invoice.number):
            response = getattr(client, method)(url)
            assert response.status_code in expected, (who, method, url)
            for secret in (b"Priya", b"Westmoor", b"190.00", b"%PDF"):
                assert secret not in response.content, (who, method, url)
    anonymous = Client()
    for url in _urls(org.pk, invoice.number):
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    assert _counts() == before


def test_another_organisations_invoice_is_not_found_through_ours(account):
    org = account["org"]
    other = on_account()
    charged_place(other)
    [theirs] = services.raise_invoices(today(), today(), by=None, organisations=[other])
    contact = account["client"]
    for url in _urls(org.pk, theirs.number):
        if url.endswith("/account/"):
            continue
        assert contact.get(url).status_code == 404
    for url in _urls(other.pk, theirs.number):
        assert contact.get(url).status_code == 404


def test_a_finance_contact_cannot_post_to_the_account_pages(account):
    org, invoice = account["org"], account["invoice"]
    before = _counts()
    for url in _urls(org.pk, invoice.number):
        assert account["client"].post(url).status_code == 405
    assert _counts() == before


def test_the_page_of_an_erased_attendee_no_longer_names_them(account, private_media):
    from privacy import services as privacy_services

    org, invoice = account["org"], account["invoice"]
    privacy_services.erase_person(account["kept"].person)
    client = account["client"]
    for url in _urls(org.pk, invoice.number):
        response = client.get(url)
        assert response.status_code == 200
        assert b"Priya" not in response.content
        assert b"Raman" not in response.content
    html = client.get(f"/organisation/{org.pk}/invoices/{invoice.number}/").content
    assert b"\xc2\xa3190.00" in html  # the invoice itself is kept


def test_the_account_selectors_each_take_a_fixed_number_of_queries(
    account, django_assert_num_queries
):
    from organisations import selectors

    org = account["org"]
    with django_assert_num_queries(1):
        rows = list(selectors.account_ledger(org))
        assert [r.invoice_line.invoice.number for r in rows[-2:]] == [
            "INV-000001",
            "INV-000001",
        ]
        assert rows[0].balance == Decimal("50.00")
        assert [r.person.last_name for r in rows if r.kind == "charge"][-1] == "Raman"
    with django_assert_num_queries(1):
        assert selectors.account_balance(org) == Decimal("50.00")
    with django_assert_num_queries(1):
        documents = list(selectors.account_documents(org))
        assert documents[0].credits_invoice.number == "INV-000001"
    with django_assert_num_queries(3):
        invoice = selectors.account_document_get(org, "INV-000001")
        assert len(invoice.lines.all()) == 2
        assert [n.number for n in invoice.credit_notes.all()] == ["CN-000001"]


def test_the_ledger_and_the_invoices_come_twenty_at_a_time_newest_first(account):
    """Each list grows every period, so each pages on its own, newest first,
    and turning one keeps the page the other shows."""
    org, client = account["org"], account["client"]
    for _ in range(PER_PAGE - 1):  # with the fixture's invoice and credit note
        charged_place(org, price="10.00")
        services.raise_invoices(today(), today(), by=None)
    staff = UserFactory.create(is_staff=True)
    for n in range(PER_PAGE):
        services.record_payment(
            org, amount=Decimal("1.00"), reference=f"BACS {n:03d}", by=staff
        )
    url = f"/organisation/{org.pk}/account/"

    first = client.get(url)
    html = first.content.decode()
    # The newest twenty entries are the payments, the newest first.
    assert [t.reference for t in first.context["ledger"]] == [
        f"BACS {n:03d}" for n in range(PER_PAGE - 1, -1, -1)
    ]
    assert html.index("BACS 019") < html.index("BACS 018")
    numbers = [d.number for d in first.context["documents"]]
    assert len(numbers) == PER_PAGE
    assert numbers == sorted(numbers, reverse=True)
    assert account["invoice"].number not in numbers
    assert 'href="?invoices=2#invoices" rel="next"' in html
    assert 'href="?transactions=2#transactions" rel="next"' in html

    older = client.get(url, {"transactions": 3, "invoices": 2})
    html = older.content.decode()
    assert [d.number for d in older.context["documents"]] == [account["invoice"].number]
    # The oldest three: the fixture's first charges and refund.
    assert [t.reference for t in older.context["ledger"]][-1] == "PO-1"
    assert len(older.context["ledger"]) == 3
    assert 'href="?transactions=3&amp;invoices=1#invoices" rel="prev"' in html
    # The same balance on every page.
    balance = f"£{first.context['balance']}"
    assert balance in html
