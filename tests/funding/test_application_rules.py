"""Apprenticeship applications as the applicant and officers meet them: what a
draft stores, who may change or submit it, review, offer and decline, with the
timeline event and the message for each refusal."""

import re

import pytest
from django.utils import timezone

from funding import services
from funding.models import Application, FundingEvent, FundingMail
from tests.accounts.factories import OrganisationFactory, ProfileFactory, UserFactory

from .factories import ApplicationFactory, ApplicationTypeFactory
from .refusals import refusal

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(db):
    return UserFactory.create(is_staff=True)


def stored(application) -> dict:
    return Application.objects.values().get(pk=application.pk)


def last_event(application) -> tuple:
    event = FundingEvent.objects.filter(application=application).last()
    return (event.actor, event.from_status, event.to_status, event.note)


def test_a_new_application_stores_the_fields_trimmed():
    person = UserFactory.create()
    application = services.save_application(
        person,
        application_type=ApplicationTypeFactory.create(),
        programme=" Nursing Associate ",
        employer_name=" Westmoor Surgery ",
        manager_name=" Maria ",
        manager_email=" maria@practice.example ",
        statement=" I want to grow. ",
    )
    row = stored(application)
    assert (
        row["person_id"],
        row["programme"],
        row["employer_name"],
        row["manager_name"],
        row["manager_email"],
        row["statement"],
        row["status"],
    ) == (
        person.pk,
        "Nursing Associate",
        "Westmoor Surgery",
        "Maria",
        "maria@practice.example",
        "I want to grow.",
        "draft",
    )


def test_a_draft_application_is_changed_by_its_applicant():
    application = ApplicationFactory.create()
    services.save_application(
        application.person, application=application, statement=" Better. "
    )
    assert stored(application)["statement"] == "Better."


def test_a_field_the_applicant_may_not_edit_is_a_programming_error():
    application = ApplicationFactory.create()
    with pytest.raises(ValueError, match=re.escape("Not editable: ['status']")):
        services.save_application(
            application.person, application=application, status="offered"
        )
    assert stored(application)["status"] == "draft"


def test_the_managers_email_is_not_the_applicants_own():
    person = UserFactory.create(email="bo@example.org")
    assert (
        refusal(
            services.save_application,
            person,
            application_type=ApplicationTypeFactory.create(),
            programme="NA",
            manager_email="BO@example.org",
        )
        == "Enter your manager's email address, not your own"
    )
    assert not Application.objects.exists()


def test_only_the_applicant_changes_their_application():
    application = ApplicationFactory.create()
    before = stored(application)
    assert (
        refusal(
            services.save_application,
            UserFactory.create(),
            application=application,
            statement="Mine",
        )
        == "You can only change your own applications."
    )
    assert stored(application) == before


def test_a_submitted_application_cannot_be_changed():
    application = ApplicationFactory.create(status="submitted")
    before = stored(application)
    assert (
        refusal(
            services.save_application,
            application.person,
            application=application,
            statement="Changed",
        )
        == "This application has been submitted."
    )
    assert stored(application) == before


def test_submission_keeps_the_workplace_and_time_and_tells_the_applicant():
    person = UserFactory.create()
    workplace = OrganisationFactory.create()
    ProfileFactory.create(user=person, organisation=workplace)
    application = ApplicationFactory.create(person=person, programme="NA")
    before = timezone.now()
    services.submit_application(application, by=person)
    row = stored(application)
    assert (row["status"], row["organisation_id"]) == ("submitted", workplace.pk)
    assert before <= row["submitted_at"] <= timezone.now()
    assert last_event(application) == (person, "draft", "submitted", "")
    assert FundingMail.objects.get().subject == "NA: Submitted"


def test_an_applicant_without_a_profile_submits_without_a_workplace():
    application = ApplicationFactory.create(organisation=OrganisationFactory.create())
    services.submit_application(application, by=application.person)
    assert stored(application)["organisation_id"] is None


def test_only_the_applicant_submits():
    application = ApplicationFactory.create()
    assert (
        refusal(services.submit_application, application, by=UserFactory.create())
        == "You can only submit your own applications."
    )
    assert stored(application)["status"] == "draft"


def test_an_application_is_submitted_once():
    application = ApplicationFactory.create(status="submitted")
    assert (
        refusal(services.submit_application, application, by=application.person)
        == "This application has already been submitted."
    )
    assert not FundingEvent.objects.exists()


def test_an_officer_starts_the_review_of_a_submitted_application(officer):
    application = ApplicationFactory.create(status="submitted")
    services.start_application_review(application, by=officer)
    assert stored(application)["status"] == "under_review"
    assert last_event(application) == (officer, "submitted", "under_review", "")


@pytest.mark.parametrize("status", ["draft", "under_review", "offered"])
def test_only_a_submitted_application_is_reviewed(status, officer):
    application = ApplicationFactory.create(status=status)
    assert (
        refusal(services.start_application_review, application, by=officer)
        == "Only a submitted application can be reviewed."
    )
    assert stored(application)["status"] == status


@pytest.mark.parametrize("status", ["submitted", "under_review"])
def test_an_offer_is_stored_with_its_note_and_officer(status, officer):
    application = ApplicationFactory.create(status=status)
    before = timezone.now()
    services.decide_application(
        application, offer=True, note="  Start in September. ", by=officer
    )
    row = stored(application)
    assert (row["status"], row["decision_note"], row["decided_by_id"]) == (
        "offered",
        "Start in September.",
        officer.pk,
    )
    assert before <= row["decided_at"] <= timezone.now()
    assert last_event(application) == (
        officer,
        status,
        "offered",
        "Start in September.",
    )


def test_an_offer_needs_no_note(officer):
    application = ApplicationFactory.create(status="under_review")
    services.decide_application(application, offer=True, note="", by=officer)
    assert stored(application)["status"] == "offered"


def test_a_decline_gives_the_reason(officer):
    application = ApplicationFactory.create(status="under_review")
    assert (
        refusal(
            services.decide_application, application, offer=False, note=" ", by=officer
        )
        == "Give the reason, which the applicant will see"
    )
    assert stored(application)["status"] == "under_review"
    services.decide_application(application, offer=False, note="Full.", by=officer)
    row = stored(application)
    assert (row["status"], row["decision_note"]) == ("declined", "Full.")
    assert last_event(application) == (officer, "under_review", "declined", "Full.")


@pytest.mark.parametrize("status", ["draft", "offered", "declined"])
def test_an_application_is_decided_once_and_only_after_submission(status, officer):
    application = ApplicationFactory.create(status=status)
    assert (
        refusal(
            services.decide_application, application, offer=True, note="", by=officer
        )
        == "This application has already been decided."
    )
    assert stored(application)["status"] == status
