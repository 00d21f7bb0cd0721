"""What an objection changes, as the consent ledger and the audit trail show it:
every channel of each purpose objected to is recorded as withdrawn, with the
objection as its source, and one audit row names the person, who acted and the
request it answers."""

import pytest

from accounts.models import User
from consent.models import ConsentRecord
from privacy import services
from privacy.models import AuditEvent, DataSubjectRequest
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def ledger(person: User) -> list[tuple]:
    return sorted(
        (r.purpose, r.channel, r.granted, r.source, r.recorded_by)
        for r in ConsentRecord.objects.filter(person=person)
    )


def audit_trail(person: User) -> list[tuple]:
    return [
        (e.action, e.actor, e.request, e.detail)
        for e in AuditEvent.objects.filter(subject=f"user:{person.pk}").order_by("pk")
    ]


@pytest.mark.parametrize(
    ("kind", "purpose", "action"),
    [
        ("object_profiling", "profiling", "objection to profiling"),
        ("object_analytics", "analytics", "objection to analytics"),
    ],
)
def test_an_objection_withdraws_its_purpose_and_is_audited_against_the_request(
    first_policies, kind, purpose, action
):
    person, lead = UserFactory.create(), UserFactory.create(is_staff=True)
    dsr = DataSubjectRequest.objects.create(person=person, kind=kind)
    services.OBJECTIONS[kind](person, request=dsr, by=lead)
    assert ledger(person) == [(purpose, "web", False, "objection", None)]
    assert audit_trail(person) == [(action, lead, dsr, "")]


@pytest.mark.parametrize(
    ("objection", "purpose", "action"),
    [
        (services.object_to_profiling, "profiling", "objection to profiling"),
        (services.object_to_analytics, "analytics", "objection to analytics"),
    ],
)
def test_an_objection_made_by_the_person_outside_a_request_is_still_recorded(
    first_policies, objection, purpose, action
):
    person = UserFactory.create()
    objection(person)
    assert ledger(person) == [(purpose, "web", False, "objection", None)]
    assert audit_trail(person) == [(action, None, None, "")]


def test_an_objection_to_direct_marketing_stops_every_marketing_channel(
    first_policies,
):
    person, lead = UserFactory.create(), UserFactory.create(is_staff=True)
    dsr = DataSubjectRequest.objects.create(person=person, kind="object_marketing")
    services.object_to_direct_marketing(person, request=dsr, by=lead)
    assert person.objects_to_direct_marketing
    person.refresh_from_db()
    assert person.objects_to_direct_marketing
    assert ledger(person) == [
        ("marketing", channel, False, "objection", None)
        for channel in ("email", "phone", "post", "sms")
    ] + [
        ("partner_marketing", "email", False, "objection", None),
        ("partner_marketing", "post", False, "objection", None),
        ("profiling", "web", False, "objection", None),
        ("surveys", "email", False, "objection", None),
    ]
    assert audit_trail(person) == [("objection to direct marketing", lead, dsr, "")]


def test_an_objection_to_direct_marketing_touches_nobody_else(first_policies):
    person, other = UserFactory.create(), UserFactory.create()
    services.object_to_direct_marketing(person)
    other.refresh_from_db()
    assert not other.objects_to_direct_marketing
    assert ledger(other) == []
    assert audit_trail(person) == [("objection to direct marketing", None, None, "")]


@pytest.mark.parametrize(
    ("kind", "withdrawn"),
    [
        ("object_profiling", [("profiling", "web")]),
        ("object_analytics", [("analytics", "web")]),
        (
            "object_marketing",
            [
                ("marketing", "email"),
                ("marketing", "phone"),
                ("marketing", "post"),
                ("marketing", "sms"),
                ("partner_marketing", "email"),
                ("partner_marketing", "post"),
                ("profiling", "web"),
                ("surveys", "email"),
            ],
        ),
    ],
)
def test_an_objection_logged_by_staff_is_completed_at_once(
    first_policies, kind, withdrawn
):
    person, lead = UserFactory.create(), UserFactory.create(is_staff=True)
    dsr = services.create_request(person, kind, channel="email", by=lead)
    dsr.refresh_from_db()
    assert (dsr.status, dsr.channel, dsr.logged_by) == ("completed", "email", lead)
    assert dsr.completed_at is not None
    assert ledger(person) == [
        (purpose, channel, False, "objection", None) for purpose, channel in withdrawn
    ]
    assert [row[1:3] for row in audit_trail(person)] == [(lead, dsr), (lead, dsr)]
    assert audit_trail(person)[1] == ("request received", lead, dsr, kind)
