"""The rules of creating and extending a data-subject request as the person
and the data-protection lead meet them: what is stored, what the audit trail
says, and the message for an extension that is refused."""

import pytest

from consent.models import ConsentRecord
from privacy import services
from privacy.models import AuditEvent, DataSubjectRequest
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_request_logged_by_staff_keeps_channel_details_and_who_logged_it():
    person, staff = UserFactory.create(), UserFactory.create(is_staff=True)
    dsr = services.create_request(
        person,
        DataSubjectRequest.Kind.ACCESS,
        channel=DataSubjectRequest.Channel.PHONE,
        details="  " + "d" * 2100,
        by=staff,
    )
    dsr.refresh_from_db()
    assert (dsr.person, dsr.kind, dsr.channel, dsr.logged_by) == (
        person,
        "access",
        "phone",
        staff,
    )
    assert dsr.details == "d" * 2000
    assert dsr.status == DataSubjectRequest.Status.RECEIVED
    event = AuditEvent.objects.get(action="request received")
    assert (event.actor, event.subject, event.request, event.detail) == (
        staff,
        f"user:{person.pk}",
        dsr,
        "access",
    )


def test_a_request_from_the_web_has_no_details_unless_given():
    person = UserFactory.create()
    dsr = services.create_request(person, DataSubjectRequest.Kind.ERASURE)
    dsr.refresh_from_db()
    assert (dsr.channel, dsr.details, dsr.logged_by) == ("web", "", None)


def test_an_objection_is_completed_at_once_and_recorded_against_the_request(
    first_policies,
):
    person, staff = UserFactory.create(), UserFactory.create(is_staff=True)
    dsr = services.create_request(
        person, DataSubjectRequest.Kind.OBJECT_PROFILING, by=staff
    )
    dsr.refresh_from_db()
    assert dsr.status == DataSubjectRequest.Status.COMPLETED
    assert dsr.completed_at is not None
    objection = AuditEvent.objects.get(action="objection to profiling")
    assert (objection.actor, objection.request) == (staff, dsr)
    assert ConsentRecord.objects.filter(
        person=person, purpose="profiling", granted=False, source="objection"
    ).exists()


@pytest.mark.parametrize("months", [0, 3])
def test_an_extension_is_one_or_two_months(months):
    dsr = services.create_request(UserFactory.create(), "access")
    with pytest.raises(services.PrivacyError) as refused:
        services.extend_request(dsr, months=months, reason="Complex", by=dsr.person)
    assert str(refused.value) == "A request can be extended by one or two months."


def test_an_extension_needs_a_reason():
    dsr = services.create_request(UserFactory.create(), "access")
    with pytest.raises(services.PrivacyError) as refused:
        services.extend_request(dsr, months=1, reason="  ", by=dsr.person)
    assert str(refused.value) == "Give the reason for the extension."


@pytest.mark.parametrize("months", [1, 2])
def test_an_extension_is_stored_and_audited(months):
    person, lead = UserFactory.create(), UserFactory.create(is_staff=True)
    dsr = services.create_request(person, "access")
    services.extend_request(dsr, months=months, reason=" " + "r" * 600, by=lead)
    dsr.refresh_from_db()
    assert (dsr.extension_months, dsr.extension_reason) == (months, "r" * 500)
    event = AuditEvent.objects.get(action="request extended")
    assert (event.actor, event.subject, event.request, event.detail) == (
        lead,
        f"user:{person.pk}",
        dsr,
        f"{months} months",
    )
