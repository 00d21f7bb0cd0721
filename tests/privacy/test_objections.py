import pytest

from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import ConsentRecord
from privacy.models import DataSubjectRequest
from tests.accounts.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "purpose", "message"),
    [
        ("object_profiling", "profiling", "no longer choose offers from your bookings"),
        ("object_analytics", "analytics", "no longer use analytics"),
    ],
)
def test_objection_applies_at_once_and_is_in_the_consent_ledger(
    client, kind, purpose, message
):
    person = UserFactory.create()
    consent_services.record_consent(person, purpose, "web", True, "signup")
    assert consent_selectors.can_contact(person, "web", purpose)
    client.force_login(person)
    page = client.post("/my-data/", {"kind": kind}, follow=True).content.decode()
    assert message in page
    assert not consent_selectors.can_contact(person, "web", purpose)
    latest = ConsentRecord.objects.filter(person=person, purpose=purpose).latest("pk")
    assert (latest.granted, latest.source) == (False, "objection")
    assert DataSubjectRequest.objects.get(person=person, kind=kind).status == (
        "completed"
    )
