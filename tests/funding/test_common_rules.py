"""What the funding services share, as people meet it: the file checks and the
name a file is kept under, the timeline event and the learner's mail on each
change of state, and the outbox that sends each mail once, later if the broker
is down."""

import datetime as dt
import logging
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from funding import services
from funding.models import FundingEvent, FundingMail
from funding.services import common
from tests.accounts.factories import UserFactory

from .factories import EXE, JPEG, PDF, PNG, ApplicationFactory, FundingRequestFactory
from .refusals import refusal

pytestmark = pytest.mark.django_db


MB = 1024 * 1024


# --- files ------------------------------------------------------------------------


def test_the_file_limit_is_ten_mb_or_the_setting_but_never_above_the_site_limit(
    settings,
):
    settings.MAX_UPLOAD_BYTES = 20 * MB
    assert services.max_file_bytes() == 10 * MB
    settings.FUNDING_MAX_FILE_MB = 3
    assert services.max_file_bytes() == 3 * MB
    settings.MAX_UPLOAD_BYTES = 2 * MB
    assert services.max_file_bytes() == 2 * MB


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PDF, ("application/pdf", "pdf")),
        (PNG, ("image/png", "png")),
        (JPEG, ("image/jpeg", "jpg")),
    ],
)
def test_a_file_is_known_by_its_content(content, kind):
    assert services.sniff_file(SimpleUploadedFile("x.bin", content)) == kind


def test_a_file_at_the_limit_is_accepted_and_above_it_refused_with_the_limit(
    settings,
):
    settings.FUNDING_MAX_FILE_MB = 1
    at_limit = SimpleUploadedFile("a.pdf", PDF + b"\0" * (MB - len(PDF)))
    assert services.sniff_file(at_limit) == ("application/pdf", "pdf")
    over = SimpleUploadedFile("a.pdf", PDF + b"\0" * (MB + 1 - len(PDF)))
    assert (
        refusal(services.sniff_file, over)
        == "The selected file must be smaller than 1 MB"
    )
    settings.MAX_UPLOAD_BYTES = int(1.5 * MB)
    settings.FUNDING_MAX_FILE_MB = 10
    over = SimpleUploadedFile("a.pdf", PDF + b"\0" * (2 * MB))
    assert (
        refusal(services.sniff_file, over)
        == "The selected file must be smaller than 1.5 MB"
    )


def test_an_empty_file_is_refused():
    assert (
        refusal(services.sniff_file, SimpleUploadedFile("a.pdf", b""))
        == "The selected file is empty"
    )


def test_a_file_of_another_kind_is_refused_naming_the_kinds_allowed():
    assert (
        refusal(services.sniff_file, SimpleUploadedFile("a.pdf", EXE))
        == "The selected file must be a PDF, PNG or JPG"
    )
    assert (
        refusal(
            services.sniff_file,
            SimpleUploadedFile("a.pdf", PNG),
            allowed=("application/pdf",),
        )
        == "The selected file must be a PDF"
    )
    assert services.sniff_file(
        SimpleUploadedFile("a.png", PNG), allowed=("image/png",)
    ) == ("image/png", "png")
    assert (
        refusal(
            services.sniff_file,
            SimpleUploadedFile("a.pdf", PDF),
            allowed=("image/png",),
        )
        == "The selected file must be a PDF, PNG or JPG"
    )


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("offer.PDF", "offer.pdf"),
        ("scans/2026/offer letter.png", "offer letter.pdf"),
        ("C:\\Users\\ann\\offer.jpg", "offer.pdf"),
        ("fees.2026.xlsx", "fees.2026.pdf"),
        ("README", "README.pdf"),
        (".pdf", "file.pdf"),
        ("", "file.pdf"),
        ("a" * 200 + ".pdf", "a" * 150 + ".pdf"),
    ],
)
def test_a_file_keeps_its_name_with_the_extension_of_its_content(name, kept):
    assert common.safe_name(SimpleNamespace(name=name), "pdf") == kept


def test_a_file_without_a_name_is_called_file():
    assert common.safe_name(SimpleNamespace(name=None), "png") == "file.png"


# --- events and the learner's mail ----------------------------------------------------


def test_a_change_of_state_is_saved_kept_as_an_event_and_mailed_to_the_learner(
    settings,
):
    settings.SITE_URL = "https://cpd.example"
    settings.SITE_NAME = "Westmoor CPD"
    person = UserFactory.create(first_name="Ann")
    funding_request = FundingRequestFactory.create(
        person=person, status="under_review", course_name="Minor Illness"
    )
    officer = UserFactory.create()
    event = common.record_event(
        funding_request,
        to_status="declined",
        by=officer,
        actor_label="Panel",
        note="  Not accredited.  ",
    )
    funding_request.refresh_from_db()
    assert funding_request.status == "declined"
    row = FundingEvent.objects.values().get(pk=event.pk)
    assert (
        row["request_id"],
        row["application_id"],
        row["actor_id"],
        row["actor_label"],
        row["from_status"],
        row["to_status"],
        row["note"],
    ) == (
        funding_request.pk,
        None,
        officer.pk,
        "Panel",
        "under_review",
        "declined",
        "Not accredited.",
    )
    sent = FundingMail.objects.get()
    assert (
        sent.kind,
        sent.key,
        sent.to,
        sent.subject,
        sent.request_id,
        sent.application_id,
    ) == (
        "status_changed",
        f"funding:event:{event.pk}",
        person.email,
        "Minor Illness: Declined",
        funding_request.pk,
        None,
    )
    assert sent.body.startswith("Hello Ann,\n")
    assert "Your funding request for Minor Illness is now: Declined." in sent.body
    assert "\nNot accredited.\n" in sent.body
    assert (
        f"See your request and its timeline: https://cpd.example/funding/"
        f"{funding_request.pk}/" in sent.body
    )
    assert sent.body.endswith("\n\nWestmoor CPD\n\n")


def test_an_event_without_a_change_of_state_is_kept_but_not_mailed():
    funding_request = FundingRequestFactory.create(status="approved")
    event = common.record_event(funding_request, to_status="approved", by=None)
    assert (event.from_status, event.to_status, event.note, event.actor_label) == (
        "approved",
        "approved",
        "",
        "",
    )
    assert FundingEvent.objects.count() == 1
    assert not FundingMail.objects.exists()


def test_a_return_to_draft_is_not_mailed():
    funding_request = FundingRequestFactory.create(status="more_info")
    common.record_event(funding_request, to_status="draft", by=None)
    funding_request.refresh_from_db()
    assert funding_request.status == "draft"
    assert not FundingMail.objects.exists()


def test_an_application_event_is_mailed_about_the_programme():
    person = UserFactory.create(first_name="", email="bo@example.org")
    application = ApplicationFactory.create(
        person=person, status="submitted", programme="Nursing Associate"
    )
    event = common.record_event(
        application, to_status="offered", by=None, note="Start in September."
    )
    assert (event.request_id, event.application_id) == (None, application.pk)
    sent = FundingMail.objects.get()
    assert (sent.kind, sent.to, sent.subject, sent.request_id, sent.application_id) == (
        "application_status_changed",
        "bo@example.org",
        "Nursing Associate: Offered a place",
        None,
        application.pk,
    )
    assert sent.body.startswith("Hello bo@example.org,\n")
    assert (
        "Your apprenticeship application for Nursing Associate is now: Offered a "
        "place." in sent.body
    )
    assert "Start in September." in sent.body


# --- the outbox --------------------------------------------------------------------------


def queue(key="k1", to="ann@example.org", subject="Hello"):
    return common.queue_mail(
        kind="status_changed",
        key=key,
        to=to,
        subject=subject,
        template="funding/email/status_changed.txt",
        context={
            "object": FundingRequestFactory.create(course_name="ACP"),
            "event": FundingEvent(to_status="approved"),
            "person": UserFactory.build(first_name="Ann"),
        },
    )


def test_a_mail_is_queued_once_per_key_and_sent_after_commit(
    django_capture_on_commit_callbacks, monkeypatch
):
    sent_ids = []
    from funding import tasks

    monkeypatch.setattr(tasks.send_funding_mail, "delay", sent_ids.append)
    with django_capture_on_commit_callbacks(execute=True):
        first = queue(subject="s" * 310)
        again = queue()
    assert again is None
    assert sent_ids == [first.pk]
    row = FundingMail.objects.get()
    assert (row.key, row.kind, row.to, row.subject, row.status) == (
        "k1",
        "status_changed",
        "ann@example.org",
        "s" * 300,
        "pending",
    )
    assert "Your funding request for ACP" in row.body


def test_nothing_is_queued_for_an_erased_address():
    erased = UserFactory.create(email="gone@example.org", erased_at=timezone.now())
    assert queue(to=erased.email) is None
    assert queue(key="k2", to="") is None
    assert not FundingMail.objects.exists()


def test_a_mail_stays_in_the_outbox_when_the_broker_is_down(
    django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from funding import tasks

    def down(record_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_funding_mail, "delay", down)
    with (
        caplog.at_level(logging.WARNING, logger="funding.services.common"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        record = queue()
    assert FundingMail.objects.get().status == "pending"
    assert caplog.messages == [
        f"Broker unavailable; funding mail {record.pk} left in the outbox"
    ]


def test_a_queued_mail_is_sent_once_with_its_key():
    record = queue(subject="ACP: Approved")
    mail.outbox.clear()
    assert services.send_mail_record(record.pk) is True
    assert services.send_mail_record(record.pk) is False
    [message] = mail.outbox
    assert (message.subject, message.to, message.body) == (
        "ACP: Approved",
        ["ann@example.org"],
        record.body,
    )
    assert message.extra_headers["X-CPD-Mail-Key"] == "k1"
    assert FundingMail.objects.get().status == "sent"


def test_the_sweep_sends_mail_left_pending_for_a_minute():
    old = queue(key="old")
    new = queue(key="new")
    FundingMail.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=60.2)
    )
    FundingMail.objects.filter(pk=new.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=50)
    )
    mail.outbox.clear()
    assert services.send_pending_mail() == 1
    assert [m.extra_headers["X-CPD-Mail-Key"] for m in mail.outbox] == ["old"]
    assert services.send_pending_mail(older_than_seconds=30) == 1
    assert set(FundingMail.objects.values_list("status", flat=True)) == {"sent"}


def test_an_amount_in_the_learners_mail_is_the_amount_approved():
    funding_request = FundingRequestFactory.create(
        status="under_review", amount_approved=Decimal("750.00")
    )
    common.record_event(funding_request, to_status="approved", by=None)
    assert "Amount approved: £750.00" in FundingMail.objects.get().body
