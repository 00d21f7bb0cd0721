"""Asking from "Your data" (correction, access to something not found) and the
staff's correction of a field, recorded with its old value only in the audit
trail."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts import roles
from accounts.models import User
from accounts.services import profile_for
from privacy import services
from privacy.models import AuditEvent, DataSubjectRequest
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

pytestmark = pytest.mark.django_db


def dp_lead() -> User:
    lead = UserFactory.create(is_staff=True)
    lead.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    give_totp(lead)
    return User.objects.get(pk=lead.pk)


def test_correction_from_the_page_to_the_queue_and_the_audit_record(learner_client):
    person = learner_client.user
    profile = profile_for(person)
    profile.job_title = "Practise nurse"
    profile.save()

    page = learner_client.get("/my-data/").content.decode()
    assert "/my-data/correct/" in page
    assert "/my-data/find/" in page
    response = learner_client.post(
        "/my-data/correct/",
        {
            "what_is_wrong": "My job title is misspelt",
            "should_say": "Practice nurse",
        },
    )
    assert response.status_code == 302
    dsr = DataSubjectRequest.objects.get(person=person)
    assert dsr.kind == DataSubjectRequest.Kind.RECTIFICATION
    assert dsr.status == DataSubjectRequest.Status.RECEIVED
    assert "Practice nurse" in dsr.details
    mine = learner_client.get("/my-data/").content.decode()
    assert "Correction" in mine
    assert timezone.localtime(dsr.due_at).strftime("%-d %b %Y") in mine

    # Staff see it in the same queue and correct the field.
    staff = Client()
    lead = dp_lead()
    staff.force_login(lead)
    queue = staff.get("/admin/privacy/datasubjectrequest/?due=open").content.decode()
    assert f"Correction #{dsr.pk}" in queue
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(identity_verified=True)
    base = {"action": "correct_field", "_selected_action": [str(dsr.pk)]}
    form = staff.post("/admin/privacy/datasubjectrequest/", base)
    assert "Field to correct" in form.content.decode()
    done = staff.post(
        "/admin/privacy/datasubjectrequest/",
        {**base, "confirm": "yes", "field": "job_title", "value": "Practice nurse"},
    )
    assert done.status_code == 302
    again = staff.post(
        "/admin/privacy/datasubjectrequest/",
        {**base, "confirm": "yes", "field": "job_title", "value": "Practice nurse"},
    )
    assert again.status_code == 302

    event = AuditEvent.objects.get(action="data corrected")
    assert event.actor == lead
    assert event.request_id == dsr.pk
    assert event.subject == f"user:{person.pk}"
    assert event.old_value == "Practise nurse"
    assert event.new_value == "Practice nurse"
    assert event.detail == "job_title"
    # The old value is in no other audit detail, nor on the request.
    dsr.refresh_from_db()
    assert "Practise" not in dsr.details
    assert dsr.status == DataSubjectRequest.Status.IN_PROGRESS
    assert not AuditEvent.objects.filter(detail__contains="Practise").exists()
    assert AuditEvent.objects.filter(old_value="Practise nurse").count() == 1
    # The profile shows the new value.
    assert "Practice nurse" in learner_client.get("/profile/").content.decode()


def test_a_correction_is_refused_with_a_message_when_the_value_is_invalid():
    person = UserFactory.create()
    dsr = services.ask_for_correction(
        person, what_is_wrong="Postcode", should_say="AB1 2CD"
    )
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(identity_verified=True)
    with pytest.raises(services.PrivacyError, match="postcode"):
        services.correct_personal_data(
            dsr, field="postcode", value="not one", by=dp_lead()
        )
    with pytest.raises(services.PrivacyError, match="cannot be corrected"):
        services.correct_personal_data(dsr, field="password", value="x", by=dp_lead())
    assert not AuditEvent.objects.filter(action="data corrected").exists()


def test_only_an_open_verified_correction_request_corrects():
    person = UserFactory.create(first_name="Ann")
    lead = dp_lead()
    access = services.ask_for_access(person, looking_for="Old certificates")
    assert access.kind == DataSubjectRequest.Kind.ACCESS
    assert "Old certificates" in access.details
    with pytest.raises(services.PrivacyError, match="Only a correction"):
        services.correct_personal_data(access, field="first_name", value="A", by=lead)
    dsr = services.ask_for_correction(person, what_is_wrong="Name", should_say="Anne")
    with pytest.raises(services.PrivacyError, match="identity"):
        services.correct_personal_data(dsr, field="first_name", value="Anne", by=lead)
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(identity_verified=True)
    services.correct_personal_data(dsr, field="first_name", value="Anne", by=lead)
    assert User.objects.get(pk=person.pk).first_name == "Anne"


def test_bad_input_is_shown_on_the_page_never_a_500(learner_client):
    empty = learner_client.post("/my-data/correct/", {})
    body = empty.content.decode()
    assert empty.status_code == 200
    assert "govuk-error-summary" in body
    assert 'href="#id_what_is_wrong"' in body
    huge = learner_client.post(
        "/my-data/find/", {"looking_for": "x" * 5000}
    ).content.decode()
    assert "govuk-error-summary" in huge
    nul = learner_client.post(
        "/my-data/correct/", {"what_is_wrong": "a\x00b", "should_say": "c"}
    )
    assert nul.status_code in (200, 400)  # refused, never a 500
    assert not DataSubjectRequest.objects.exists()


def test_erasure_and_retention_clear_the_corrected_values(settings):
    person = UserFactory.create(first_name="Ann")
    profile_for(person)
    dsr = services.ask_for_correction(person, what_is_wrong="Name", should_say="Anne")
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(identity_verified=True)
    event = services.correct_personal_data(
        dsr, field="first_name", value="Anne", by=dp_lead()
    )
    exported = next(
        r for r in services._collect(person)["audit"] if r["action"] == "data corrected"
    )
    assert exported["old_value"] == "Ann"
    # Not yet past the retention period: kept.
    assert services.clear_old_corrected_values() == 0
    AuditEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - dt.timedelta(days=400)
    )
    assert services.apply_retention()["corrected values in the audit trail"] == 1
    event.refresh_from_db()
    assert (event.old_value, event.new_value) == ("", "")
    assert AuditEvent.objects.filter(pk=event.pk).exists()  # the event stays

    other = UserFactory.create(first_name="Bob")
    dsr = services.ask_for_correction(other, what_is_wrong="Name", should_say="Rob")
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(identity_verified=True)
    services.correct_personal_data(dsr, field="first_name", value="Rob", by=dp_lead())
    services.erase_person(other)
    assert not AuditEvent.objects.filter(old_value="Bob").exists()
