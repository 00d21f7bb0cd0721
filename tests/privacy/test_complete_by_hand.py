"""'Mark completed and tell the person' never tells someone their data is
erased, or their processing restricted, while it is not."""

import pytest
from django.core import mail

from privacy.models import DataSubjectRequest
from tests.accounts.factories import UserFactory
from tests.privacy.test_four_eyes import REQUESTS, act, dp_lead, signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "refusal"),
    [
        ("erasure", "is an erasure that has not been carried out"),
        ("restriction", "asks for restriction, which is not in place"),
    ],
)
def test_an_erasure_or_restriction_not_carried_out_cannot_be_marked_done(kind, refusal):
    person = UserFactory.create()
    dsr = DataSubjectRequest.objects.create(
        person=person, kind=kind, identity_verified=True
    )
    mail.outbox.clear()
    page = act(signed_in(dp_lead()), REQUESTS, "complete", dsr)
    assert f"Request #{dsr.pk} {refusal}" in page
    dsr.refresh_from_db()
    assert dsr.status == "received"
    assert mail.outbox == []


def test_other_requests_are_completed_and_the_person_told():
    person = UserFactory.create()
    dsr = DataSubjectRequest.objects.create(person=person, kind="rectification")
    mail.outbox.clear()
    page = act(signed_in(dp_lead()), REQUESTS, "complete", dsr)
    assert "1 request completed; the person has been told." in page
    dsr.refresh_from_db()
    assert dsr.status == "completed"
    assert [m.to for m in mail.outbox] == [[person.email]]


def test_a_restriction_in_place_is_completed():
    person = UserFactory.create(processing_restricted=True)
    dsr = DataSubjectRequest.objects.create(person=person, kind="restriction")
    page = act(signed_in(dp_lead()), REQUESTS, "complete", dsr)
    assert "1 request completed" in page
