"""The person's copy of their data as they open it: a compressed ZIP whose
data.json is readable (indented) and dated, one CSV per category whose cells
cannot run as spreadsheet formulas, an empty category still a readable table,
their files under files/<category>/<row id>-<name>, a README, and an audit row
saying who exported it for which request. A large export is prepared later:
the ZIP is stored under an unguessable token and the person is mailed a link
that expires."""

import csv
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.base import ContentFile
from django.utils import timezone

from courses.templatetags.govuk import when
from privacy import registry, services
from privacy.models import AuditEvent, DataSubjectRequest, ExportFile
from tests.accounts.factories import UserFactory
from tests.funding.factories import FundingRequestFactory

pytestmark = pytest.mark.django_db


def opened(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def table(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(archive.read(f"{name}.csv").decode())))


def test_the_zip_is_compressed_with_an_indented_dated_data_json(private_media):
    person = UserFactory.create(first_name="Ada")
    before = timezone.now()
    archive = opened(services.export_person(person))
    assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    text = archive.read("data.json").decode()
    assert text.startswith('{\n  "exported_at": "')
    data = json.loads(text)
    assert set(data) == {"exported_at", "categories"}
    exported_at = dt.datetime.fromisoformat(data["exported_at"])
    assert before <= exported_at <= timezone.now()
    assert set(data["categories"]) == {c.name for c in registry.categories()}
    assert data["categories"]["account"][0]["first_name"] == "Ada"
    names = set(archive.namelist())
    assert names == {"data.json", "README.txt"} | {
        f"{c.name}.csv" for c in registry.categories()
    }
    readme = archive.read("README.txt").decode()
    assert readme.startswith(f"Your data from {settings.SITE_NAME}\n")
    for category in registry.categories():
        assert f"- {category.name}: {category.note}" in readme


def test_each_csv_has_the_sorted_columns_and_no_cell_that_runs_as_a_formula(
    private_media,
):
    person = UserFactory.create(first_name="=HYPERLINK(1)", last_name="-3.50")
    archive = opened(services.export_person(person))
    [header, row] = table(archive, "account")
    account = json.loads(archive.read("data.json"))["categories"]["account"][0]
    assert header == sorted(account)
    cells = dict(zip(header, row, strict=True))
    assert cells["first_name"] == "'=HYPERLINK(1)"
    assert cells["last_name"] == "-3.50"
    assert account["first_name"] == "=HYPERLINK(1)"


def test_an_empty_category_is_still_a_readable_table(private_media):
    archive = opened(services.export_person(UserFactory.create()))
    empty = [
        c.name
        for c in registry.categories()
        if not json.loads(archive.read("data.json"))["categories"][c.name]
    ]
    assert empty
    for name in empty:
        assert table(archive, name) == [["(none)"]]


def test_what_was_already_gathered_is_exported_as_given(private_media):
    person = UserFactory.create()
    gathered = {"account": [{"email": "given@example.org", "note": None}]}
    archive = opened(services.export_person(person, data=gathered))
    assert json.loads(archive.read("data.json"))["categories"] == gathered
    assert table(archive, "account") == [["email", "note"], ["given@example.org", ""]]


def test_each_file_is_under_its_category_named_by_its_row(private_media):
    from funding.models import Invoice

    person = UserFactory.create()
    request = FundingRequestFactory.create(person=person)
    invoices = []
    for number in ("INV-1", "INV-2"):
        invoice = Invoice(
            request=request,
            supplier="University of Westmoor",
            number=number,
            amount=Decimal(100),
            invoice_date=dt.date(2026, 1, 5),
            original_name="invoice.pdf",
        )
        invoice.file.save("invoice.pdf", ContentFile(number.encode()), save=False)
        invoice.save()
        invoices.append(invoice)
    archive = opened(services.export_person(person))
    files = {
        name: archive.read(name)
        for name in archive.namelist()
        if name.startswith("files/")
    }
    assert files == {
        f"files/funding_invoices/{i.pk}-{i.file.name.rsplit('/', 1)[-1]}": (
            i.number.encode()
        )
        for i in invoices
    }


def test_a_row_whose_file_is_missing_is_exported_without_it(private_media):
    from funding.models import Invoice

    person = UserFactory.create()
    invoice = Invoice.objects.create(
        request=FundingRequestFactory.create(person=person),
        supplier="University of Westmoor",
        number="INV-9",
        amount=Decimal(100),
        invoice_date=dt.date(2026, 1, 5),
        original_name="invoice.pdf",
        file="funding/invoices/gone.pdf",
    )
    archive = opened(services.export_person(person))
    assert [n for n in archive.namelist() if n.startswith("files/")] == []
    rows = json.loads(archive.read("data.json"))["categories"]["funding_invoices"]
    assert [r["number"] for r in rows] == [invoice.number]


def test_an_export_is_audited_with_who_and_for_which_request(private_media):
    person, lead = UserFactory.create(), UserFactory.create(is_staff=True)
    dsr = DataSubjectRequest.objects.create(person=person, kind="access")
    services.export_person(person, by=lead, request=dsr)
    assert [
        (e.actor, e.subject, e.request, e.detail)
        for e in AuditEvent.objects.filter(action="export")
    ] == [(lead, f"user:{person.pk}", dsr, "")]


# --- prepared later and mailed ------------------------------------------------------


def test_a_prepared_export_is_stored_under_a_token_and_the_link_mailed(
    private_media, settings
):
    settings.PRIVACY_EXPORT_LINK_HOURS = 5
    person = UserFactory.create(first_name="Ada", email="ada@example.org")
    mail.outbox.clear()
    before = timezone.now()
    export = services.prepare_export(person)
    export = ExportFile.objects.get(pk=export.pk)
    assert export.person == person
    assert len(export.token) == 43  # 32 random bytes, URL-safe
    assert (
        before + dt.timedelta(hours=5)
        <= export.expires_at
        <= timezone.now() + dt.timedelta(hours=5)
    )
    assert export.file.name == f"exports/{export.token}.zip"
    with export.file.open("rb") as fh:
        archive = opened(fh.read())
    account = json.loads(archive.read("data.json"))["categories"]["account"]
    assert account[0]["email"] == "ada@example.org"
    [sent] = mail.outbox
    assert sent.to == ["ada@example.org"]
    assert sent.subject == "Your data is ready to download"
    expires = when(export.expires_at, "j F Y")
    assert sent.body == (
        "Hello Ada,\n\n"
        "The copy of your data you asked for is ready. Sign in and download it "
        f"here:\n{settings.SITE_URL}/my-data/exports/{export.token}/\n\n"
        f"The link only works when you are signed in, and it expires on {expires}."
        f"\n\n{settings.SITE_NAME}\n\n"
    )


def test_two_prepared_exports_have_different_tokens(private_media):
    person = UserFactory.create()
    first = services.prepare_export(person)
    second = services.prepare_export(person)
    assert first.token != second.token


def test_a_prepared_export_whose_mail_cannot_be_sent_fails_loudly(
    private_media, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens
    settings.EMAIL_TIMEOUT = 2
    with pytest.raises(ConnectionRefusedError):
        services.prepare_export(UserFactory.create())
