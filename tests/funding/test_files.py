from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts import roles
from funding import services
from funding.models import FundingDocument, FundingRequest, Invoice

from .conftest import staff_client
from .factories import EXE, JPEG, PDF, PNG, FundingRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_storage(settings, private_media):
    """Uploaded files go to a folder of this test's own."""
    settings.MEDIA_ROOT = str(private_media)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")],
)
def test_pdf_png_and_jpeg_are_accepted_by_content(content, content_type):
    draft = FundingRequestFactory.create()
    document = services.add_supporting_document(
        draft, upload=SimpleUploadedFile("scan.bin", content), by=draft.person
    )
    assert document.content_type == content_type
    assert document.original_name.startswith("scan.")
    assert "scan" not in document.file.name  # stored under a random name


def test_an_executable_renamed_pdf_is_refused_and_nothing_is_saved(learner_client):
    draft = FundingRequestFactory.create(person=learner_client.user)
    response = learner_client.post(
        f"/funding/{draft.pk}/documents/new/",
        {"file": SimpleUploadedFile("offer-letter.pdf", EXE)},
    )
    assert response.status_code == 200
    assert (
        "The selected file is not a PDF: it looks like a Windows program"
        in response.content.decode()
    )
    assert not FundingDocument.objects.exists()


def test_a_file_over_the_size_limit_is_refused_with_the_limit(learner_client, settings):
    settings.FUNDING_MAX_FILE_MB = 1
    draft = FundingRequestFactory.create(person=learner_client.user)
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024))
    response = learner_client.post(f"/funding/{draft.pk}/documents/new/", {"file": big})
    assert "The selected file must be smaller than 1 MB" in response.content.decode()
    assert not FundingDocument.objects.exists()


def test_invoices_must_be_pdf(approved, officer):
    response = officer.post(
        f"/staff/funding/{approved.pk}/invoices/new/",
        {
            "supplier": "Uni",
            "number": "1",
            "amount": "100",
            "invoice_date": timezone.localdate().isoformat(),
            "file": SimpleUploadedFile("invoice.pdf", PNG),
        },
    )
    assert (
        "The selected file is not a PDF: it looks like a PNG image"
        in response.content.decode()
    )
    assert not Invoice.objects.exists()


@pytest.fixture
def files(approved, officer):
    request = FundingRequestFactory.create(person=approved.person)
    document = services.add_supporting_document(
        request, upload=SimpleUploadedFile("offer.pdf", PDF), by=approved.person
    )
    FundingRequest.objects.filter(pk=request.pk).update(status="under_review")
    invoice = services.record_invoice(
        approved,
        supplier="Uni",
        number="INV-9",
        amount=Decimal("100"),
        invoice_date=timezone.localdate(),
        upload=SimpleUploadedFile("inv.pdf", PDF),
        by=officer.user,
    )
    return {
        "document": [f"/funding/documents/{document.pk}/"],
        "invoice": [f"/funding/invoices/{invoice.pk}/"],
        "staff": [
            f"/staff/funding/documents/{document.pk}/",
            f"/staff/funding/invoices/{invoice.pk}/",
        ],
        "owner": approved.person,
    }


def _urls(files):
    return files["document"] + files["invoice"] + files["staff"]


def test_the_owner_downloads_their_files(files):
    owner = Client()
    owner.force_login(files["owner"])
    for url in files["document"] + files["invoice"]:
        response = owner.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_funding_officers_download_files(files, officer):
    for url in _urls(files):
        assert officer.get(url).status_code == 200, url


def test_other_learners_get_nothing(files, learner_client):
    for url in _urls(files):
        assert learner_client.get(url).status_code == 404, url


def test_anonymous_users_are_sent_to_sign_in(files):
    for url in _urls(files):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "group",
    [roles.BOOKING_ADMINS, roles.COURSE_ADMINS, roles.DATA_PROTECTION_LEAD],
)
def test_other_staff_groups_get_nothing(files, group):
    client = staff_client(group)
    for url in files["document"] + files["invoice"]:
        assert client.get(url).status_code == 404, url


def test_an_officer_without_two_factor_gets_nothing(files):
    client = staff_client(roles.FUNDING_OFFICERS, totp=False)
    for url in files["document"] + files["invoice"]:
        assert client.get(url).status_code == 404, url


def test_the_manager_letter_is_checked_and_stored(submit):
    funding_request, token = submit()
    response = Client().post(
        f"/funding/support/{token}/",
        {
            "supported": "yes",
            "statement": "Yes",
            "letter": SimpleUploadedFile("letter.pdf", EXE),
        },
    )
    assert (
        "The selected file is not a PDF: it looks like a Windows program"
        in response.content.decode()
    )
    funding_request.refresh_from_db()
    assert funding_request.status == "awaiting_manager"
    Client().post(
        f"/funding/support/{token}/",
        {
            "supported": "yes",
            "statement": "Yes",
            "letter": SimpleUploadedFile("letter.png", PNG),
        },
    )
    letter = FundingDocument.objects.get(request=funding_request)
    assert letter.kind == "manager_letter"


def test_officers_see_no_files_of_an_unsubmitted_draft(officer):
    draft = FundingRequestFactory.create()
    document = services.add_supporting_document(
        draft, upload=SimpleUploadedFile("offer.pdf", PDF), by=draft.person
    )
    for url in (
        f"/staff/funding/documents/{document.pk}/",
        f"/funding/documents/{document.pk}/",
    ):
        assert officer.get(url).status_code == 404, url
    owner = Client()
    owner.force_login(draft.person)
    assert owner.get(f"/funding/documents/{document.pk}/").status_code == 200
