"""Every upload form checks that a file's content is what its name declares
(config.uploads): a ZIP archive named .pdf is refused on each, with the message
beside the field, and nothing is saved; real files of each accepted kind go
through. The last test walks every form of the project, admin included, so a
new file field without the check fails here."""

import importlib
import inspect

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.utils import timezone

from bookings.models import PriorLearning
from config.uploads import UploadValidator
from funding.models import FundingDocument, Invoice
from tests import sample_files as s
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp
from tests.funding.conftest import approved, officer, submit  # noqa: F401
from tests.funding.factories import FundingRequestFactory

pytestmark = pytest.mark.django_db

ZIP_AS_PDF = "The selected file is not a PDF: it looks like a ZIP archive"


@pytest.fixture(autouse=True)
def _private_storage(settings, private_media):
    """Uploaded files go to a folder of this test's own."""
    settings.MEDIA_ROOT = str(private_media)


@pytest.fixture
def superuser_client():
    user = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(user)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def training_record(learner_client, **_):
    def post(upload):
        return learner_client.post(
            "/training-record/",
            {
                "title": "Safeguarding level 2",
                "completed_on": "2025-05-01",
                "cpd_hours": "2",
                "evidence": upload,
            },
        )

    return post, lambda: PriorLearning.objects.count()


def supporting_document(learner_client, **_):
    draft = FundingRequestFactory.create(person=learner_client.user)

    def post(upload):
        return learner_client.post(
            f"/funding/{draft.pk}/documents/new/", {"file": upload}
        )

    return post, lambda: FundingDocument.objects.count()


def manager_letter(submit, **_):  # noqa: F811
    funding_request, token = submit()

    def post(upload):
        return Client().post(
            f"/funding/support/{token}/",
            {"supported": "yes", "statement": "I support it.", "letter": upload},
        )

    def saved():
        funding_request.refresh_from_db()
        return (
            FundingDocument.objects.count(),
            funding_request.status != "awaiting_manager",
        )

    return post, saved


def invoice(approved, officer, **_):  # noqa: F811
    def post(upload):
        return officer.post(
            f"/staff/funding/{approved.pk}/invoices/new/",
            {
                "supplier": "University of Westmoor",
                "number": "INV-1",
                "amount": "100",
                "invoice_date": timezone.localdate().isoformat(),
                "file": upload,
            },
        )

    return post, lambda: Invoice.objects.count()


def admin_evidence(superuser_client, **_):
    person = UserFactory.create()

    def post(upload):
        return superuser_client.post(
            "/admin/bookings/priorlearning/add/",
            {
                "person": person.pk,
                "title": "Added by staff",
                "completed_on": "2025-05-01",
                "cpd_hours": "2",
                "evidence": upload,
            },
        )

    return post, lambda: PriorLearning.objects.count()


FORMS = {
    "training evidence": (training_record, "evidence.pdf", s.pdf),
    "funding supporting document": (supporting_document, "offer.pdf", s.pdf),
    "manager's letter of support": (manager_letter, "letter.pdf", s.pdf),
    "invoice": (invoice, "invoice.pdf", s.pdf),
    "training evidence in admin": (admin_evidence, "evidence.pdf", s.pdf),
}


@pytest.fixture
def make_form(request):
    def make(name):
        factory = FORMS[name][0]
        wanted = inspect.signature(factory).parameters
        kwargs = {p: request.getfixturevalue(p) for p in wanted if p not in ("_",)}
        return factory(**kwargs)

    return make


@pytest.mark.parametrize("form", FORMS)
def test_a_zip_named_pdf_is_refused_on_every_upload_form(make_form, form):
    post, saved = make_form(form)
    before = saved()
    response = post(SimpleUploadedFile(FORMS[form][1], s.plain_zip()))
    assert response.status_code == 200
    html = response.content.decode()
    assert ZIP_AS_PDF in html
    # Tied to its field: the error summary links to it and the field is marked.
    assert 'class="govuk-error-summary' in html or "errornote" in html
    assert saved() == before


@pytest.mark.parametrize("form", FORMS)
def test_a_real_pdf_is_accepted_on_every_upload_form(make_form, form):
    post, saved = make_form(form)
    before = saved()
    response = post(SimpleUploadedFile(FORMS[form][1], FORMS[form][2]()))
    # Pages redirect once done; the manager's (no login) shows its thanks.
    assert response.status_code in (200, 302)
    assert "The selected file" not in response.content.decode()
    assert saved() != before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", s.png()),
        ("photo.jpg", s.jpeg()),
        ("letter.docx", s.docx()),
        ("letter.odt", s.odt()),
        ("letter.doc", s.doc()),
    ],
)
def test_training_evidence_takes_images_and_documents(learner_client, name, content):
    post, _count = training_record(learner_client)
    assert post(SimpleUploadedFile(name, content)).status_code == 302
    item = PriorLearning.objects.get()
    assert item.evidence.read() == content


def test_the_error_is_tied_to_the_evidence_field(learner_client):
    post, _ = training_record(learner_client)
    html = post(SimpleUploadedFile("evidence.pdf", s.plain_zip())).content.decode()
    assert f'<a href="#id_evidence">{ZIP_AS_PDF}</a>' in html  # the summary
    assert 'id="id_evidence_error"><span class="govuk-visually-hidden">Error:' in html
    assert "govuk-file-upload--error" in html


def test_an_import_file_must_be_text(superuser_client):
    page = superuser_client.get("/admin/bookings/priorlearning/import/")
    assert page.status_code == 200
    form = page.context["form"]
    csv_index = next(v for v, label in form.fields["format"].choices if label == "csv")
    response = superuser_client.post(
        "/admin/bookings/priorlearning/import/",
        {
            "resource": "0",
            "format": csv_index,
            "source": "University of Westmoor",
            "import_file": SimpleUploadedFile("training.csv", s.plain_zip()),
        },
    )
    assert response.status_code == 200
    assert "The selected file is not a CSV file: it looks like a ZIP archive" in (
        response.content.decode()
    )
    assert not PriorLearning.objects.exists()


def _project_forms():
    """Every form class defined in the project's own apps."""
    ours = {
        a.name
        for a in apps.get_app_configs()
        if not a.name.startswith(("django.", "allauth", "import_export"))
    } | {"config"}
    found = set()
    for app in ours:
        for module_name in ("forms", "admin", "imports", "staff_forms"):
            try:
                module = importlib.import_module(f"{app}.{module_name}")
            except ModuleNotFoundError:
                continue
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, forms.BaseForm) and obj.__module__.startswith(
                    tuple(ours)
                ):
                    found.add(obj)
    return found


def _admin_forms(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    for model_admin in admin.site._registry.values():
        yield model_admin, model_admin.get_form(request)
        for inline in model_admin.get_inline_instances(request):
            yield inline, inline.get_formset(request).form
        import_form = getattr(model_admin, "import_form_class", None)
        if import_form is not None:
            yield model_admin, import_form


def test_every_file_field_checks_its_content():
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    forms_to_check = [(cls.__qualname__, cls) for cls in _project_forms()] + [
        (f"{owner!r}", cls) for owner, cls in _admin_forms(superuser)
    ]
    file_fields = []
    for owner, form_class in forms_to_check:
        for name, field in form_class.base_fields.items():
            if isinstance(field, forms.FileField):
                file_fields.append(f"{owner}.{name}")
                assert any(isinstance(v, UploadValidator) for v in field.validators), (
                    f"{owner}.{name} takes a file without config.uploads' check"
                )
    # The walk really finds the upload fields (so it cannot pass on nothing).
    assert len(file_fields) >= 6, file_fields
