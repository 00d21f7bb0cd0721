"""Sending a person's data straight to another organisation (portability):
asked for on "Your data", sent from the request queue as a link that works
once and expires, the mail sent once through the outbox, the disclosure
recorded, and the collection shown to the person."""

import io
import json
import re
import zipfile

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone

from accounts import roles
from privacy import disclosures, services
from privacy.models import (
    AuditEvent,
    DataSubjectRequest,
    Disclosure,
    Transmission,
    TransmissionMail,
)
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

pytestmark = pytest.mark.django_db

REQUESTS = "/admin/privacy/datasubjectrequest/"
LINK = re.compile(r"http://testserver(/data-transfer/[^/\s]+/)")


def dp_lead():
    lead = UserFactory.create(is_staff=True)
    lead.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    return lead


def asked(person=None) -> Transmission:
    person = person or UserFactory.create(first_name="Ada", last_name="Lovelace")
    transmission = disclosures.ask_for_transmission(
        person, recipient_name="Records Ltd", recipient_email="records@example.org"
    )
    DataSubjectRequest.objects.filter(pk=transmission.request_id).update(
        identity_verified=True
    )
    transmission.request.refresh_from_db()
    return transmission


def sent_transmission(lead=None) -> tuple[Transmission, str]:
    """A transmission sent by a data-protection lead, and the link's token
    taken from the mail the recipient got."""
    transmission = asked()
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        disclosures.send_transmission(transmission.request, by=lead or dp_lead())
    to_recipient = [m for m in mail.outbox if m.to == ["records@example.org"]]
    assert len(to_recipient) == 1
    path = LINK.search(to_recipient[0].body)[1]
    transmission.refresh_from_db()
    return transmission, path.rstrip("/").rsplit("/", 1)[-1]


def test_the_person_asks_from_your_data_and_the_request_joins_the_queue(
    learner_client, verified_user
):
    page = learner_client.get("/my-data/")
    assert b"/my-data/send/" in page.content
    response = learner_client.post(
        "/my-data/send/",
        {"recipient_name": "Records Ltd", "recipient_email": "records@example.org"},
    )
    assert response.status_code == 302
    dsr = DataSubjectRequest.objects.get(person=verified_user)
    assert dsr.kind == DataSubjectRequest.Kind.PORTABILITY
    assert dsr.transmission.recipient_email == "records@example.org"
    page = learner_client.get("/my-data/").content.decode()
    assert "Records Ltd" in page
    assert "Not yet" in page


def test_bad_input_is_shown_beside_the_fields_with_a_summary(learner_client):
    response = learner_client.post(
        "/my-data/send/", {"recipient_name": "", "recipient_email": "not-an-address"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert 'href="#id_recipient_name"' in page
    assert 'href="#id_recipient_email"' in page
    assert not Transmission.objects.exists()


def test_a_huge_name_is_refused(learner_client):
    response = learner_client.post(
        "/my-data/send/",
        {"recipient_name": "x" * 5000, "recipient_email": "records@example.org"},
    )
    assert response.status_code == 200
    assert not Transmission.objects.exists()


def test_the_link_works_once_and_the_disclosure_is_logged(private_media):
    transmission, token = sent_transmission()
    disclosure = transmission.disclosure
    assert disclosure.recipient == "Records Ltd"
    assert disclosure.recipient_kind == Disclosure.RecipientKind.PERSONS_REQUEST
    assert disclosure.person == transmission.person
    assert transmission.token_hash == disclosures.hash_token(token)
    assert token not in json.dumps(
        list(Transmission.objects.values()), default=str
    ) + json.dumps(list(TransmissionMail.objects.values()), default=str)

    client = Client()
    shown = client.get(f"/data-transfer/{token}/")
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    assert "private" in shown["Cache-Control"]
    first = client.post(f"/data-transfer/{token}/")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/zip"
    assert "no-store" in first["Cache-Control"]
    assert "private" in first["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(first.content)) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["categories"]["account"]
    transmission.refresh_from_db()
    assert transmission.downloaded_at is not None

    again = client.post(f"/data-transfer/{token}/")
    assert again.status_code == 410
    assert "already been downloaded" in again.content.decode()
    assert client.get(f"/data-transfer/{token}/").status_code == 410
    assert AuditEvent.objects.filter(action="sent data collected").count() == 1


def test_the_link_expires(private_media, settings):
    transmission, token = sent_transmission()
    hours = (transmission.expires_at - transmission.sent_at).total_seconds() / 3600
    assert round(hours) == settings.TRANSMISSION_LINK_HOURS
    Transmission.objects.filter(pk=transmission.pk).update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    response = Client().post(f"/data-transfer/{token}/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    transmission.refresh_from_db()
    assert transmission.downloaded_at is None


def test_a_made_up_link_is_refused_without_an_error(private_media):
    sent_transmission()
    assert Client().get("/data-transfer/made-up/").status_code == 410
    assert Client().post("/data-transfer/made-up/").status_code == 410


def test_the_mail_is_sent_once_and_sending_twice_is_refused(private_media):
    lead = dp_lead()
    transmission, _token = sent_transmission(lead)
    record = TransmissionMail.objects.get()
    assert record.status == TransmissionMail.Status.SENT
    mail.outbox.clear()
    assert disclosures.send_transmission_mail(record.pk) is False
    assert disclosures.send_pending_transmission_mail(older_than_seconds=0) == 0
    with pytest.raises(services.PrivacyError, match="already been sent"):
        disclosures.send_transmission(transmission.request, by=lead)
    assert mail.outbox == []
    assert Disclosure.objects.count() == 1


def test_sending_needs_a_verified_identity(private_media):
    transmission = asked()
    DataSubjectRequest.objects.filter(pk=transmission.request_id).update(
        identity_verified=False
    )
    transmission.request.refresh_from_db()
    with pytest.raises(services.PrivacyError, match="identity"):
        disclosures.send_transmission(transmission.request, by=dp_lead())
    assert not Disclosure.objects.exists()
    assert not TransmissionMail.objects.exists()


def test_the_lead_sends_from_the_admin_queue_and_the_person_sees_it_collected(
    private_media, django_capture_on_commit_callbacks
):
    lead = dp_lead()
    give_totp(lead)
    staff = Client()
    staff.force_login(lead)
    transmission = asked()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            REQUESTS,
            {
                "action": "send_transmission",
                "_selected_action": [str(transmission.request_id)],
            },
            follow=True,
        )
    assert "A one-time link to the data is being emailed" in response.content.decode()
    transmission.refresh_from_db()
    assert transmission.sent_at is not None
    assert transmission.request.status == DataSubjectRequest.Status.COMPLETED
    told = [m for m in mail.outbox if m.to == [transmission.person.email]]
    assert told
    assert "Records Ltd" in told[0].body
    token = (
        LINK.search(
            next(m for m in mail.outbox if m.to == ["records@example.org"]).body
        )[1]
        .rstrip("/")
        .rsplit("/", 1)[-1]
    )
    Client().post(f"/data-transfer/{token}/")

    person = Client()
    person.force_login(transmission.person)
    page = person.get("/my-data/").content.decode()
    transmission.refresh_from_db()
    collected = timezone.localtime(transmission.downloaded_at).strftime("%-d %b %Y")
    assert collected in page
    assert "Sent at your request (data portability)" in page


def test_a_failed_send_keeps_no_working_link_and_the_retry_makes_a_new_one(
    private_media, settings
):
    transmission = asked()
    settings.EMAIL_BACKEND = "tests.privacy.test_transmission.RefusingBackend"
    with TestCase.captureOnCommitCallbacks(execute=True):
        disclosures.send_transmission(transmission.request, by=dp_lead())
    record = TransmissionMail.objects.get()
    assert record.status == TransmissionMail.Status.FAILED
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    TransmissionMail.objects.filter(pk=record.pk).update(retry_at=None)
    assert disclosures.send_transmission_mail(record.pk) is True
    token = LINK.search(mail.outbox[0].body)[1].rstrip("/").rsplit("/", 1)[-1]
    assert Client().post(f"/data-transfer/{token}/").status_code == 200


class RefusingBackend:
    def __init__(self, *args, fail_silently=False, **kwargs):
        self.fail_silently = fail_silently

    def send_messages(self, messages):
        if self.fail_silently:
            return 0
        raise OSError("refused")


def test_erasure_kills_the_link_deletes_the_file_and_keeps_the_disclosure(
    private_media,
):
    transmission, token = sent_transmission()
    name = transmission.file.name
    services.erase_person(transmission.person)
    transmission.refresh_from_db()
    assert not transmission.file
    assert not private_media.joinpath(name).exists()
    assert transmission.recipient_email == ""
    assert Client().post(f"/data-transfer/{token}/").status_code == 410
    assert Disclosure.objects.filter(pk=transmission.disclosure_id).exists()


def test_retention_deletes_the_file_once_collected(private_media):
    transmission, token = sent_transmission()
    Client().post(f"/data-transfer/{token}/")
    assert disclosures.remove_spent_transmission_files() == 1
    transmission.refresh_from_db()
    assert not transmission.file
    assert disclosures.remove_spent_transmission_files() == 0


def test_the_export_lists_what_was_sent(private_media):
    transmission, _token = sent_transmission()
    content = services.export_person(transmission.person)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        data = json.loads(archive.read("data.json"))
    sent = data["categories"]["data_transmissions"]
    assert sent[0]["organisation"] == "Records Ltd"
    assert sent[0]["sent_at"]
    assert "token_hash" not in sent[0]
