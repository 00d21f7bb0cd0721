"""Request size: a body over MAX_REQUEST_BYTES is a 413 page before a byte of
it is read; Django's own parsing limits give the same page; nothing is saved."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bookings.models import PriorLearning
from config.uploads import MB
from funding.models import FundingDocument
from tests import sample_files as s
from tests.funding.factories import FundingRequestFactory

pytestmark = pytest.mark.django_db

TOO_LARGE = "What you sent is too large"


@pytest.fixture(autouse=True)
def _private_storage(settings, private_media):
    """Uploaded files go to a folder of this test's own."""
    settings.MEDIA_ROOT = str(private_media)


def evidence_form(upload):
    return {
        "title": "Safeguarding",
        "completed_on": "2025-05-01",
        "cpd_hours": "2",
        "evidence": upload,
    }


def test_a_13_mb_post_is_refused_with_the_page_and_nothing_saved(learner_client):
    big = SimpleUploadedFile("evidence.pdf", s.pdf() + b"0" * (13 * MB))
    response = learner_client.post("/training-record/", evidence_form(big))
    assert response.status_code == 413
    html = response.content.decode()
    assert TOO_LARGE in html
    assert "A form can be up to 12 MB in total, and a file up to 10 MB" in html
    assert "Nothing you sent has been saved." in html
    assert not PriorLearning.objects.exists()


class UnreadableBody(io.RawIOBase):
    """A request body that records any read: there must be none."""

    def __init__(self):
        self.bytes_read = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        self.bytes_read += len(buffer)
        buffer[:1] = b"x"
        return 1


def test_the_body_is_not_read_nor_the_session_opened(
    learner_client, django_assert_num_queries
):
    body = UnreadableBody()
    with django_assert_num_queries(0):
        response = learner_client.generic(
            "POST",
            "/training-record/",
            content_type="multipart/form-data; boundary=xyz",
            **{"wsgi.input": body, "CONTENT_LENGTH": str(60 * MB)},
        )
    assert response.status_code == 413
    assert TOO_LARGE in response.content.decode()
    assert body.bytes_read == 0


def test_a_body_with_no_length_is_refused_not_read(learner_client):
    body = UnreadableBody()
    response = learner_client.generic(
        "POST",
        "/training-record/",
        content_type="application/x-www-form-urlencoded",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": body, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 411
    assert "What you sent could not be read" in response.content.decode()
    assert body.bytes_read == 0


def test_the_limit_follows_the_setting(learner_client, settings):
    settings.MAX_REQUEST_BYTES = 20 * MB
    settings.MAX_UPLOAD_BYTES = 15 * MB
    big = SimpleUploadedFile("evidence.pdf", s.pdf() + b"0" * (13 * MB))
    response = learner_client.post("/training-record/", evidence_form(big))
    # Through the door; the evidence field's own 5 MB limit refuses it.
    assert response.status_code == 200
    assert "The selected file must be smaller than 5 MB" in response.content.decode()
    assert not PriorLearning.objects.exists()


def test_a_file_at_the_upload_limit_still_gets_through(learner_client):
    draft = FundingRequestFactory.create(person=learner_client.user)
    largest = s.pdf() + b"0" * (10 * MB - len(s.pdf()))
    response = learner_client.post(
        f"/funding/{draft.pk}/documents/new/",
        {"file": SimpleUploadedFile("offer.pdf", largest)},
    )
    assert response.status_code == 302
    assert FundingDocument.objects.get().file.size == 10 * MB


def test_form_fields_over_djangos_limit_get_the_same_page(learner_client):
    response = learner_client.post(
        "/training-record/",
        {"title": "x", "notes": "n" * (3 * MB), "completed_on": "2025-05-01"},
    )
    assert response.status_code == 413
    html = response.content.decode()
    assert "The form has more in it than any of our forms needs." in html
    assert not PriorLearning.objects.exists()


def test_too_many_fields_get_the_same_page(learner_client):
    fields = {f"field{i}": "1" for i in range(1200)}
    response = learner_client.post("/training-record/", fields)
    assert response.status_code == 413
    assert TOO_LARGE in response.content.decode()
