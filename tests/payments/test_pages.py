"""The pages: the bank-transfer box with the payer's own reference, receipts
only for their owner (or the organisation's finance contacts), the
organisation's account and invoice with its reference, the admin upload and
decide pages, and the personal-data export and erasure."""

import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import roles
from bookings import services as booking_services
from bookings.models import Transaction
from organisations import services as org_services
from payments import services
from payments.models import PaymentReference, StatementLine
from privacy import services as privacy_services
from tests.accounts.factories import UserFactory, member_of
from tests.conftest import give_totp
from tests.organisations.helpers import charged_place, on_account, today

from .helpers import line, owes, reference, statement

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent / "files"


@pytest.fixture
def bank(settings):
    settings.BANK_ACCOUNT_NAME = "Westmoor Learning Trust"
    settings.BANK_SORT_CODE = "20-00-00"
    settings.BANK_ACCOUNT_NUMBER = "12345678"


def _signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _paid(person, amount="25.00") -> Transaction:
    return booking_services.record_ledger_entry(
        person=person,
        organisation=None,
        kind=Transaction.Kind.PAYMENT,
        amount=Decimal(amount),
        description="Bank transfer received",
        reference="CPD-4K7QM-D",
        by=None,
        means=Transaction.Means.BANK_TRANSFER,
        provider_reference=f"line-{person.pk}-{amount}",
    )


def test_the_transactions_page_shows_bank_details_and_the_persons_own_reference(
    bank,
):
    person = UserFactory.create()
    other = UserFactory.create()
    theirs = services.reference_for(person=other)
    client = _signed_in(person)
    page = client.get("/transactions/").content.decode()
    mine = PaymentReference.objects.get(person=person)
    assert "Pay by bank transfer" in page
    assert "20-00-00" in page
    assert "12345678" in page
    assert mine.code in page
    assert theirs.code not in page
    client.get("/transactions/")
    assert PaymentReference.objects.filter(person=person).count() == 1


def test_without_bank_details_there_is_no_box_and_no_reference(settings):
    settings.BANK_SORT_CODE = ""
    person = UserFactory.create()
    page = _signed_in(person).get("/transactions/").content.decode()
    assert "Pay by bank transfer" not in page
    assert not PaymentReference.objects.exists()


def test_a_receipt_is_the_owners_alone():
    owner = UserFactory.create(first_name="Jo", last_name="Smith")
    owes(owner, "25")
    payment = _paid(owner)
    client = _signed_in(owner)
    assert (
        f"/transactions/{payment.pk}/receipt/"
        in client.get("/transactions/").content.decode()
    )
    page = client.get(f"/transactions/{payment.pk}/receipt/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    text = page.content.decode()
    assert "Jo Smith" in text
    assert "25.00" in text
    assert "Bank transfer" in text
    pdf = client.get(f"/transactions/{payment.pk}/receipt.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert client.post(f"/transactions/{payment.pk}/receipt/").status_code == 405

    stranger = _signed_in(UserFactory.create())
    for url in (
        f"/transactions/{payment.pk}/receipt/",
        f"/transactions/{payment.pk}/receipt.pdf",
    ):
        assert stranger.get(url).status_code == 404
        assert stranger.post(url).status_code == 404
        assert Client().get(url).status_code == 302  # to sign in
    charge = Transaction.objects.get(person=owner, kind="charge")
    assert client.get(f"/transactions/{charge.pk}/receipt/").status_code == 404


@pytest.fixture
def org_account(bank):
    org = on_account(name="Westmoor Academy")
    charged_place(org, price="150.00")
    [invoice] = org_services.raise_invoices(today(), today(), by=None)
    payment = org_services.record_payment(
        org, amount=Decimal("100"), reference="BACS 1", by=None
    )
    contact = UserFactory.create()
    member_of(contact, org, workplace=False, is_finance_contact=True)
    return org, invoice, payment, _signed_in(contact)


def test_the_organisation_account_and_invoice_show_its_own_reference(org_account):
    org, invoice, payment, client = org_account
    page = client.get(f"/organisation/{org.pk}/account/").content.decode()
    code = PaymentReference.objects.get(organisation=org).code
    assert code in page
    assert f"/organisation/{org.pk}/account/receipts/{payment.pk}/" in page
    page = client.get(f"/organisation/{org.pk}/invoices/{invoice.number}/")
    assert code in page.content.decode()
    pdf = client.get(f"/organisation/{org.pk}/invoices/{invoice.number}.pdf")
    assert code.encode() in pdf.content


def test_organisation_receipts_are_for_its_finance_contacts_only(org_account):
    org, _invoice, payment, client = org_account
    url = f"/organisation/{org.pk}/account/receipts/{payment.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Westmoor Academy" in page.content.decode()
    assert client.get(url[:-1] + ".pdf").content.startswith(b"%PDF-")
    assert _signed_in(UserFactory.create()).get(url).status_code == 404
    # A person's own payment is not the organisation's receipt.
    someone = UserFactory.create()
    mine = _paid(someone)
    assert (
        client.get(f"/organisation/{org.pk}/account/receipts/{mine.pk}/").status_code
        == 404
    )


def _officer() -> Client:
    user = UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.FUNDING_OFFICERS))
    give_totp(user)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def _token(html: str) -> str:
    return re.search(r'name="idempotency_token" value="([^"]+)"', html)[1]


UPLOAD = "/admin/payments/bankstatement/upload/"


def test_an_officer_uploads_a_statement_and_decides_a_waiting_line():
    smith = reference("4K7QM")
    owes(smith.person, "40.00")
    officer = _officer()
    assert (
        "Upload a bank statement"
        in officer.get("/admin/payments/bankstatement/").content.decode()
    )
    form = officer.get(UPLOAD).content.decode()
    data = {
        "format": "mt940",
        "idempotency_token": _token(form),
        "file": SimpleUploadedFile(
            "statement.sta", (FILES / "statement.mt940").read_bytes()
        ),
    }
    done = officer.post(UPLOAD, data, follow=True).content.decode()
    assert "Read 6 lines: 2 matched, 3 waiting for a person" in done

    waiting = StatementLine.objects.get(bank_id="BT0005")
    url = f"/admin/payments/statementline/{waiting.pk}/resolve/"
    form = officer.get(url).content.decode()
    assert "A PATEL TRAINING" in form
    # The organisation is searched for (the admin's search box), not listed.
    assert re.search(r'<select name="organisation"[^>]*admin-autocomplete', form)
    wrong = officer.post(
        url,
        {
            "decision": "pay",
            "reference": "CPD-4K7QM-E",
            "idempotency_token": _token(form),
        },
    )
    assert "not a valid reference" in wrong.content.decode()
    form = officer.get(url).content.decode()
    officer.post(
        url,
        {
            "decision": "pay",
            "reference": "cpd 4k7qm d",
            "reason": "Phoned",
            "idempotency_token": _token(form),
        },
    )
    waiting.refresh_from_db()
    assert waiting.status == StatementLine.Status.RESOLVED
    assert waiting.transaction.person == smith.person
    assert waiting.decided_by == officer.user


def test_a_bad_csv_column_is_shown_on_the_form_not_a_500():
    officer = _officer()
    form = officer.get(UPLOAD).content.decode()
    page = officer.post(
        UPLOAD,
        {
            "format": "csv",
            "date_column": "Date",
            "amount_column": "Amount",
            "description_column": "Details",
            "idempotency_token": _token(form),
            "file": SimpleUploadedFile(
                "s.csv", b"Date,Paid in,Details\n27/11/2026,25,X\n"
            ),
        },
    )
    assert page.status_code == 200
    assert "Its columns are" in page.content.decode()
    assert not StatementLine.objects.exists()


def test_others_cannot_upload_or_decide():
    booking_admin = UserFactory.create(is_staff=True)
    booking_admin.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    give_totp(booking_admin)
    client = _signed_in(booking_admin)
    assert client.get(UPLOAD).status_code == 403
    services.upload_statement(
        statement(line("NO REF")), filename="s", format="csv", by=booking_admin
    )
    waiting = StatementLine.objects.get()
    url = f"/admin/payments/statementline/{waiting.pk}/resolve/"
    assert client.post(url, {"decision": "ignore", "reason": "x"}).status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == StatementLine.Status.WAITING


def _export(person) -> dict:
    archive = zipfile.ZipFile(io.BytesIO(privacy_services.export_person(person)))
    return {
        name: archive.read(name).decode()
        for name in archive.namelist()
        if name.endswith(".json")
    }


def test_export_has_payments_and_references_and_erasure_keeps_payments_without_name():
    smith = reference("4K7QM")
    owes(smith.person, "25")
    staff = UserFactory.create(is_staff=True)
    services.upload_statement(
        statement(line("JOSEPHINE SMITH CPD-4K7QM-D")),
        filename="s",
        format="mt940",
        by=staff,
    )
    exported = json.dumps(_export(smith.person))
    assert "CPD-4K7QM-D" in exported
    assert "JOSEPHINE SMITH" in exported
    assert "bank_transfer" in exported

    privacy_services.erase_person(smith.person)

    payment = Transaction.objects.get(kind="payment")
    assert payment.amount == Decimal("-25.00")
    assert payment.person_id == smith.person.pk
    matched = StatementLine.objects.get()
    assert matched.amount == Decimal("25.00")
    assert "SMITH" not in matched.description
    assert matched.transaction == payment


def test_a_receipt_pdf_prints_a_name_outside_windows_1252_as_latin_letters():
    from payments.pdf import render_receipt_pdf

    owner = UserFactory.create(first_name="Łucja", last_name="Żak")
    owes(owner, "25")
    payment = _paid(owner)
    body = render_receipt_pdf(payment, payer="Łucja Żak")
    # The receipt uses the invoices' rule (config.pdf): Ł is L, not "?".
    assert b"Lucja Zak" in body
