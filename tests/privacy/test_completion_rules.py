"""Completing a data-subject request as the person and the data-protection lead
see it: what is stored on the request, the mail the person gets (to whom, its
subject and its words), when no mail can be sent, and the audit row; and which
requests "Mark completed" refuses while they are not carried out."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from privacy import services
from privacy.models import AuditEvent, DataSubjectRequest
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

RECEIVED = datetime.datetime(2026, 3, 4, 10, 0, tzinfo=datetime.UTC)


def request_from(person, kind="rectification", **extra) -> DataSubjectRequest:
    return DataSubjectRequest.objects.create(
        person=person, kind=kind, received_at=RECEIVED, **extra
    )


def completion_audit(dsr: DataSubjectRequest) -> list[tuple]:
    return [
        (e.actor, e.subject, e.request, e.detail)
        for e in AuditEvent.objects.filter(action="request completed")
    ]


def expected_body(first_name: str, kind: str, outcome: str = "") -> str:
    said = f"\n{outcome}\n" if outcome else ""
    return (
        f"Hello {first_name},\n\n"
        f"We have completed your request: {kind} (received 4 March 2026).\n"
        f"{said}\n"
        "If you have questions about how we handled it, reply to this email. You "
        "can also complain to the Information Commissioner's Office.\n\n"
        f"{settings.SITE_NAME}\n\n"
    )


def test_a_completed_request_records_when_and_by_whom_and_tells_the_person():
    person = UserFactory.create(first_name="Ada", email="ada@example.org")
    lead = UserFactory.create(is_staff=True)
    dsr = request_from(person)
    mail.outbox.clear()
    before = timezone.now()
    services.complete_request(dsr, by=lead)
    dsr.refresh_from_db()
    assert (dsr.status, dsr.completed_by) == ("completed", lead)
    assert before <= dsr.completed_at <= timezone.now()
    [sent] = mail.outbox
    assert sent.to == ["ada@example.org"]
    assert sent.subject == "Your request about your data: Correction"
    assert sent.body == expected_body("Ada", "Correction")
    assert completion_audit(dsr) == [(lead, f"user:{person.pk}", dsr, "")]


def test_the_outcome_is_in_the_mail():
    person = UserFactory.create(first_name="Ada")
    dsr = request_from(person, kind="access")
    mail.outbox.clear()
    services.complete_request(dsr, by=person, outcome="Your copy is attached.")
    [sent] = mail.outbox
    assert sent.subject == "Your request about your data: Access (a copy of my data)"
    assert sent.body == expected_body(
        "Ada", "Access (a copy of my data)", "Your copy is attached."
    )


def test_a_person_without_a_first_name_is_greeted_by_email():
    person = UserFactory.create(first_name="", email="no.name@example.org")
    mail.outbox.clear()
    services.complete_request(request_from(person), by=person)
    assert mail.outbox[0].body.startswith("Hello no.name@example.org,\n")


def test_a_person_already_erased_gets_no_mail_but_the_completion_is_audited():
    person = UserFactory.create(erased_at=timezone.now())
    lead = UserFactory.create(is_staff=True)
    dsr = request_from(person, kind="erasure")
    mail.outbox.clear()
    services.complete_request(dsr, by=lead)
    dsr.refresh_from_db()
    assert (dsr.status, dsr.completed_by) == ("completed", lead)
    assert mail.outbox == []
    assert completion_audit(dsr) == [(lead, f"user:{person.pk}", dsr, "")]


def test_a_request_whose_account_is_gone_is_completed_without_mail():
    lead = UserFactory.create(is_staff=True)
    dsr = request_from(None, kind="access")
    mail.outbox.clear()
    services.complete_request(dsr, by=lead)
    dsr.refresh_from_db()
    assert (dsr.status, dsr.completed_by) == ("completed", lead)
    assert mail.outbox == []
    assert completion_audit(dsr) == [(lead, "", dsr, "")]


def test_a_request_is_completed_even_when_the_mail_server_is_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens
    settings.EMAIL_TIMEOUT = 2
    person, lead = UserFactory.create(), UserFactory.create(is_staff=True)
    dsr = request_from(person)
    services.complete_request(dsr, by=lead)
    dsr.refresh_from_db()
    assert dsr.status == "completed"
    assert completion_audit(dsr) == [(lead, f"user:{person.pk}", dsr, "")]


# --- "Mark completed and tell the person" -----------------------------------------


@pytest.mark.parametrize(
    ("kind", "refusal"),
    [
        (
            "erasure",
            "is an erasure that has not been carried out: erase the data (or "
            "refuse the request) instead.",
        ),
        (
            "restriction",
            "asks for restriction, which is not in place: restrict processing first.",
        ),
    ],
)
def test_marking_done_what_is_not_carried_out_is_refused(kind, refusal):
    person, lead = UserFactory.create(), UserFactory.create(is_staff=True)
    dsr = request_from(person, kind=kind)
    mail.outbox.clear()
    with pytest.raises(services.PrivacyError) as refused:
        services.complete_by_hand(dsr, by=lead)
    assert str(refused.value) == f"Request #{dsr.pk} {refusal}"
    dsr.refresh_from_db()
    assert (dsr.status, dsr.completed_at, dsr.completed_by) == ("received", None, None)
    assert mail.outbox == []
    assert completion_audit(dsr) == []


@pytest.mark.parametrize(
    ("kind", "account"),
    [
        ("erasure", {"erased_at": RECEIVED}),
        ("restriction", {"processing_restricted": True}),
        ("rectification", {}),
        ("access", {}),
    ],
)
def test_marking_done_what_is_carried_out_completes_it(kind, account):
    person, lead = UserFactory.create(**account), UserFactory.create(is_staff=True)
    dsr = request_from(person, kind=kind)
    services.complete_by_hand(dsr, by=lead)
    dsr.refresh_from_db()
    assert (dsr.status, dsr.completed_by) == ("completed", lead)
    assert completion_audit(dsr) == [(lead, f"user:{person.pk}", dsr, "")]


@pytest.mark.parametrize("kind", ["erasure", "restriction"])
def test_marking_done_a_request_whose_account_is_gone_completes_it(kind):
    lead = UserFactory.create(is_staff=True)
    dsr = request_from(None, kind=kind)
    services.complete_by_hand(dsr, by=lead)
    dsr.refresh_from_db()
    assert (dsr.status, dsr.completed_by) == ("completed", lead)


def test_a_restricted_person_asking_for_erasure_is_not_told_it_is_done():
    person = UserFactory.create(processing_restricted=True)
    dsr = request_from(person, kind="erasure")
    with pytest.raises(services.PrivacyError):
        services.complete_by_hand(dsr, by=UserFactory.create(is_staff=True))


def test_an_erased_person_asking_for_restriction_is_not_told_it_is_done():
    person = UserFactory.create(erased_at=RECEIVED)
    dsr = request_from(person, kind="restriction")
    with pytest.raises(services.PrivacyError):
        services.complete_by_hand(dsr, by=UserFactory.create(is_staff=True))
