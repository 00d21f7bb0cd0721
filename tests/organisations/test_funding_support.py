"""A funding request whose named manager is a confirmed approver of the
person's organisation: the manager is sent to the organisation page (signed
in), not a one-time link, and answers there."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from funding import services
from funding.models import FundingRequest, ManagerSupport
from tests.accounts.factories import OrganisationFactory, member_of, verified_person
from tests.funding.factories import FundingRequestFactory

pytestmark = pytest.mark.django_db


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def submitted(person, manager):
    draft = FundingRequestFactory.create(
        person=person,
        manager_name=manager.get_full_name(),
        manager_email=manager.email.upper(),
        cost=Decimal("300"),
        start_date=timezone.localdate() + dt.timedelta(days=40),
    )
    return services.submit_funding_request(draft, by=person)


def test_an_approver_manager_answers_on_the_organisation_page(
    django_capture_on_commit_callbacks,
):
    org = OrganisationFactory.create(name="Riverside Practice")
    manager = verified_person(first_name="Mo", last_name="Manager")
    member_of(manager, org, is_approver=True)
    nurse = verified_person(first_name="Nia", last_name="Nurse")
    member_of(nurse, org)
    with django_capture_on_commit_callbacks(execute=True):
        request = submitted(nurse, manager)
    assert request.status == FundingRequest.Status.AWAITING_MANAGER
    (message,) = [m for m in mail.outbox if m.to == [manager.email.upper()]]
    assert "/funding/support/" not in message.body  # no bearer link
    url = re.search(r"http://testserver(/organisation/\S+)", message.body)[1]
    assert url == f"/organisation/{org.pk}/funding/{request.pk}/"

    client = client_for(manager)
    assert "Nia Nurse" in client.get(f"/organisation/{org.pk}/").content.decode()
    assert client.get(url).status_code == 200
    response = client.post(url, {"supported": "yes", "statement": "Needed for clinics"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == FundingRequest.Status.UNDER_REVIEW
    link = ManagerSupport.objects.get(request=request)
    assert (link.supported, link.statement) == (True, "Needed for clinics")
    assert request.events.last().actor_label == (
        "Mo Manager (your manager, approver at Riverside Practice)"
    )
    # Answered once: the page is gone and a second answer is refused.
    assert client.get(url).status_code == 404
    with pytest.raises(services.FundingError):
        services.record_approver_support(
            request, by=manager, supported=False, statement="Changed my mind"
        )


def test_another_approver_cannot_answer_for_the_named_manager():
    org = OrganisationFactory.create()
    manager = verified_person()
    member_of(manager, org, is_approver=True)
    colleague = verified_person()
    member_of(colleague, org, is_approver=True)
    nurse = verified_person()
    member_of(nurse, org)
    request = submitted(nurse, manager)
    response = client_for(colleague).post(
        f"/organisation/{org.pk}/funding/{request.pk}/",
        {"supported": "yes", "statement": "x"},
    )
    assert response.status_code == 404
    with pytest.raises(services.FundingError, match="Only the manager"):
        services.record_approver_support(
            request, by=colleague, supported=True, statement="x"
        )
    request.refresh_from_db()
    assert request.status == FundingRequest.Status.AWAITING_MANAGER


def test_a_manager_who_is_not_an_approver_still_gets_the_one_time_link(
    django_capture_on_commit_callbacks,
):
    org = OrganisationFactory.create()
    manager = verified_person()
    member_of(manager, org)  # a member, but not an approver
    nurse = verified_person()
    member_of(nurse, org)
    with django_capture_on_commit_callbacks(execute=True):
        submitted(nurse, manager)
    (message,) = [m for m in mail.outbox if m.to == [manager.email.upper()]]
    assert "http://testserver/funding/support/" in message.body
