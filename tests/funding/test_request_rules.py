"""A request from the learner's and the manager's side: what a draft stores,
what submission checks and sends, the manager's one-time link (its mail, its
expiry, resending, a new manager) and the manager's answer, with the messages
each refusal shows."""

import datetime as dt
import hashlib
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from funding import services
from funding.models import (
    FundingDocument,
    FundingEvent,
    FundingMail,
    FundingRequest,
    ManagerSupport,
)
from funding.services.common import hash_token
from tests.accounts.factories import OrganisationFactory, ProfileFactory, UserFactory
from tests.courses.factories import ProviderFactory

from .factories import PDF, PNG, FundingRequestFactory, FundingRoundFactory
from .refusals import refusal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_storage(private_media):
    """Uploaded files go to a folder of this test's own."""


Status = FundingRequest.Status


def stored(funding_request) -> dict:
    return FundingRequest.objects.values().get(pk=funding_request.pk)


# --- drafts ------------------------------------------------------------------------


def test_a_new_draft_stores_the_fields_trimmed():
    person = UserFactory.create()
    funding_round = FundingRoundFactory.create()
    draft = services.save_funding_request(
        person,
        round=funding_round,
        course_name="  Non-Medical Prescribing ",
        provider_name=" University of Westmoor ",
        cost=Decimal("1800"),
        start_date=timezone.localdate(),
        reason=" Prescribing in clinic. ",
        manager_name=" Maria ",
        manager_email=" maria@practice.example ",
    )
    row = stored(draft)
    assert (
        row["person_id"],
        row["round_id"],
        row["course_name"],
        row["provider_name"],
        row["cost"],
        row["start_date"],
        row["reason"],
        row["manager_name"],
        row["manager_email"],
        row["status"],
    ) == (
        person.pk,
        funding_round.pk,
        "Non-Medical Prescribing",
        "University of Westmoor",
        Decimal("1800.00"),
        timezone.localdate(),
        "Prescribing in clinic.",
        "Maria",
        "maria@practice.example",
        "draft",
    )


def test_a_new_draft_needs_a_course_name():
    person = UserFactory.create()
    for name in ({}, {"course_name": "   "}, {"course_name": None}):
        assert (
            refusal(services.save_funding_request, person, **name)
            == "Enter the name of the course"
        )
    assert not FundingRequest.objects.exists()


def test_a_draft_can_be_changed_without_repeating_the_course_name():
    draft = FundingRequestFactory.create(course_name="ACP")
    services.save_funding_request(
        draft.person, funding_request=draft, reason="  Leads clinics. "
    )
    row = stored(draft)
    assert (row["course_name"], row["reason"]) == ("ACP", "Leads clinics.")


def test_a_field_the_learner_may_not_edit_is_a_programming_error():
    draft = FundingRequestFactory.create()
    with pytest.raises(ValueError, match=re.escape("Not editable: ['status']")):
        services.save_funding_request(
            draft.person, funding_request=draft, status="approved"
        )
    assert stored(draft)["status"] == "draft"


def test_a_chosen_provider_names_the_request():
    provider = ProviderFactory.create(name="Westmoor College")
    draft = FundingRequestFactory.create(provider_name="Something else")
    services.save_funding_request(
        draft.person, funding_request=draft, provider=provider
    )
    row = stored(draft)
    assert (row["provider_id"], row["provider_name"]) == (
        provider.pk,
        "Westmoor College",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cost": Decimal("0")}, "Enter a cost more than £0"),
        (
            {"start_date": dt.date(2001, 1, 1)},
            "The start date must be no more than 90 days ago. We cannot fund a "
            "course that started long ago.",
        ),
        (
            {"manager_email": "OWNER@practice.example"},
            "Enter your manager's email address, not your own",
        ),
    ],
)
def test_a_draft_with_a_bad_field_is_refused_unchanged(fields, message):
    person = UserFactory.create(email="owner@practice.example")
    assert (
        refusal(services.save_funding_request, person, course_name="ACP", **fields)
        == message
    )
    assert not FundingRequest.objects.exists()


def test_only_the_learner_changes_their_request():
    draft = FundingRequestFactory.create()
    before = stored(draft)
    assert (
        refusal(
            services.save_funding_request,
            UserFactory.create(),
            funding_request=draft,
            reason="Mine now",
        )
        == "You can only change your own requests."
    )
    assert stored(draft) == before


@pytest.mark.parametrize("status", ["awaiting_manager", "under_review", "approved"])
def test_a_submitted_request_cannot_be_changed(status):
    draft = FundingRequestFactory.create(status=status)
    before = stored(draft)
    assert (
        refusal(
            services.save_funding_request,
            draft.person,
            funding_request=draft,
            reason="Changed",
        )
        == "This request has been submitted and can no longer be changed."
    )
    assert stored(draft) == before


def test_a_request_reopened_for_more_information_can_be_changed():
    reopened = FundingRequestFactory.create(status="more_info")
    services.save_funding_request(
        reopened.person, funding_request=reopened, cost=Decimal("999")
    )
    assert stored(reopened)["cost"] == Decimal("999.00")


# --- submission ----------------------------------------------------------------------


def manager_mail(funding_request) -> FundingMail:
    return FundingMail.objects.get(kind="manager_request", request=funding_request)


def test_submission_sends_the_manager_a_one_time_link(settings):
    settings.SITE_URL = "https://cpd.example"
    person = UserFactory.create(first_name="Ann", last_name="Lee")
    draft = FundingRequestFactory.create(
        person=person,
        course_name="Minor Illness",
        manager_name="Maria Manager",
        manager_email="maria@practice.example",
    )
    before = timezone.now()
    services.submit_funding_request(draft, by=person)
    link = ManagerSupport.objects.get(request=draft)
    assert (link.manager_name, link.manager_email) == (
        "Maria Manager",
        "maria@practice.example",
    )
    assert (link.used_at, link.revoked_at, link.supported) == (None, None, None)
    assert (
        before + dt.timedelta(days=14)
        <= link.expires_at
        <= timezone.now() + dt.timedelta(days=14)
    )
    sent = manager_mail(draft)
    assert (sent.to, sent.subject, sent.key) == (
        "maria@practice.example",
        "Ann Lee asks for your support: funding for Minor Illness",
        f"funding:support:{link.pk}",
    )
    token = re.search(r"https://cpd\.example/funding/support/([\w-]+)/\n", sent.body)
    assert token is not None
    assert len(token.group(1)) >= 43
    assert hashlib.sha256(token.group(1).encode()).hexdigest() == link.token_hash
    assert "The link works once and expires in 14 days." in sent.body
    assert "Course: Minor Illness" in sent.body
    # The link in the mail works.
    services.record_manager_support(token.group(1), supported=True, statement="Yes")
    assert stored(draft)["status"] == "under_review"


def test_a_learner_without_a_name_is_named_by_email_to_the_manager():
    person = UserFactory.create(first_name="", last_name="", email="ann@example.org")
    draft = FundingRequestFactory.create(person=person, course_name="ACP")
    services.submit_funding_request(draft, by=person)
    assert (
        manager_mail(draft).subject
        == "ann@example.org asks for your support: funding for ACP"
    )


def test_link_expiry_in_the_mail_follows_the_setting(settings):
    settings.FUNDING_SUPPORT_LINK_DAYS = 3
    draft = FundingRequestFactory.create()
    before = timezone.now()
    services.submit_funding_request(draft, by=draft.person)
    link = ManagerSupport.objects.get()
    assert (
        before + dt.timedelta(days=3)
        <= link.expires_at
        <= timezone.now() + dt.timedelta(days=3)
    )
    assert "expires in 3 days." in manager_mail(draft).body


def test_submission_is_recorded_with_the_workplace_and_time():
    person = UserFactory.create()
    workplace = OrganisationFactory.create(kind="practice")
    ProfileFactory.create(user=person, organisation=workplace)
    draft = FundingRequestFactory.create(person=person, manager_name="Maria Manager")
    before = timezone.now()
    services.submit_funding_request(draft, by=person)
    row = stored(draft)
    assert row["status"] == "awaiting_manager"
    assert row["organisation_id"] == workplace.pk
    assert before <= row["submitted_at"] <= timezone.now()
    event = FundingEvent.objects.get(request=draft)
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        person,
        "draft",
        "awaiting_manager",
        "Sent to Maria Manager for a statement of support.",
    )


def test_a_learner_without_a_profile_submits_without_a_workplace():
    draft = FundingRequestFactory.create(
        organisation=OrganisationFactory.create()  # left from an earlier save
    )
    services.submit_funding_request(draft, by=draft.person)
    assert stored(draft)["organisation_id"] is None


def test_only_the_learner_submits_their_request():
    draft = FundingRequestFactory.create()
    assert (
        refusal(services.submit_funding_request, draft, by=UserFactory.create())
        == "You can only submit your own requests."
    )
    assert stored(draft)["status"] == "draft"
    assert not FundingMail.objects.exists()


@pytest.mark.parametrize("status", ["awaiting_manager", "under_review", "declined"])
def test_a_submitted_request_is_not_submitted_again(status):
    draft = FundingRequestFactory.create(status=status)
    assert (
        refusal(services.submit_funding_request, draft, by=draft.person)
        == "This request has already been submitted."
    )
    assert not FundingMail.objects.exists()


def test_submission_names_everything_still_missing():
    draft = FundingRequestFactory.create(cost=None, manager_email="")
    assert (
        refusal(services.submit_funding_request, draft, by=draft.person)
        == "Before you submit, add the cost, manager's work email."
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cost": Decimal("60000")}, "The cost must be £50,000 or less"),
        (
            {"start_date": dt.date(2001, 1, 1)},
            "The start date must be no more than 90 days ago. We cannot fund a "
            "course that started long ago.",
        ),
    ],
)
def test_a_draft_gone_stale_is_checked_again_on_submission(fields, message):
    draft = FundingRequestFactory.create()
    FundingRequest.objects.filter(pk=draft.pk).update(**fields)
    assert refusal(services.submit_funding_request, draft, by=draft.person) == message
    assert stored(draft)["status"] == "draft"


def test_a_request_without_a_round_goes_ahead_when_no_round_is_open():
    FundingRoundFactory.create(
        opens_on=timezone.localdate() - dt.timedelta(days=30),
        closes_on=timezone.localdate() - dt.timedelta(days=1),
    )
    draft = FundingRequestFactory.create(round=None)
    services.submit_funding_request(draft, by=draft.person)
    assert stored(draft)["status"] == "awaiting_manager"


def test_a_request_without_a_round_must_choose_one_while_one_is_open():
    FundingRoundFactory.create()
    draft = FundingRequestFactory.create(round=None)
    assert (
        refusal(services.submit_funding_request, draft, by=draft.person)
        == "Choose the funding round you are applying to."
    )


def test_the_round_must_be_open_to_the_learner():
    funding_round = FundingRoundFactory.create(
        stream__name="Nursing CPD", stream__eligible_job_roles="Nurse"
    )
    draft = FundingRequestFactory.create(round=funding_round)
    assert refusal(services.submit_funding_request, draft, by=draft.person) == (
        "Nursing CPD is for these roles: Nurse. Add your job title to your profile "
        "so we can check."
    )
    assert stored(draft)["status"] == "draft"


def test_the_allowance_is_checked_on_submission():
    funding_round = FundingRoundFactory.create(
        stream__name="CPD fund", stream__annual_allowance=Decimal("1000")
    )
    draft = FundingRequestFactory.create(round=funding_round, cost=Decimal("1000.01"))
    assert refusal(services.submit_funding_request, draft, by=draft.person) == (
        "You can ask CPD fund for up to £1,000.00 more this financial year "
        "(£1,000.00 a year). Lower the cost to £1,000.00 or less."
    )
    FundingRequest.objects.filter(pk=draft.pk).update(cost=Decimal("1000"))
    services.submit_funding_request(draft, by=draft.person)
    assert stored(draft)["status"] == "awaiting_manager"


def test_the_allowance_counts_the_learners_other_requests_this_year():
    funding_round = FundingRoundFactory.create(
        stream__name="CPD fund", stream__annual_allowance=Decimal("1000")
    )
    person = UserFactory.create()
    FundingRequestFactory.create(
        person=person, round=funding_round, cost=Decimal("700"), status="under_review"
    )
    draft = FundingRequestFactory.create(
        person=person, round=funding_round, cost=Decimal("300.01")
    )
    assert refusal(services.submit_funding_request, draft, by=person) == (
        "You can ask CPD fund for up to £300.00 more this financial year "
        "(£1,000.00 a year). Lower the cost to £300.00 or less."
    )


def test_a_course_starting_next_financial_year_uses_next_years_allowance():
    today = timezone.localdate()
    april = dt.date(today.year + (today.month >= 4), 4, 1)
    funding_round = FundingRoundFactory.create(stream__annual_allowance=Decimal("500"))
    person = UserFactory.create()
    FundingRequestFactory.create(
        person=person,
        round=funding_round,
        cost=Decimal("500"),
        start_date=today,
        status="approved",
        amount_approved=Decimal("500"),
    )
    draft = FundingRequestFactory.create(
        person=person,
        round=funding_round,
        cost=Decimal("500"),
        start_date=april + dt.timedelta(days=10),
    )
    services.submit_funding_request(draft, by=person)
    assert stored(draft)["status"] == "awaiting_manager"


def test_an_eligible_learner_submits_to_a_round_for_their_role():
    funding_round = FundingRoundFactory.create(
        stream__eligible_job_roles="Nurse",
        stream__eligible_workplace_kinds=["practice"],
    )
    person = UserFactory.create()
    ProfileFactory.create(
        user=person,
        job_title="Practice Nurse",
        organisation=OrganisationFactory.create(kind="practice"),
    )
    draft = FundingRequestFactory.create(
        person=person, round=funding_round, cost=Decimal("300")
    )
    services.submit_funding_request(draft, by=person)
    assert stored(draft)["status"] == "awaiting_manager"


def test_a_managers_email_changed_to_the_learners_own_is_refused_on_submission():
    draft = FundingRequestFactory.create()
    FundingRequest.objects.filter(pk=draft.pk).update(
        manager_email=draft.person.email.upper()
    )
    assert (
        refusal(services.submit_funding_request, draft, by=draft.person)
        == "Enter your manager's email address, not your own"
    )
    assert not FundingMail.objects.exists()


def supported_then_reopened(manager_email="maria@practice.example", **support):
    draft = FundingRequestFactory.create(manager_email=manager_email)
    services.submit_funding_request(draft, by=draft.person)
    link = ManagerSupport.objects.get(request=draft)
    link.used_at = timezone.now()
    link.supported = support.get("supported", True)
    link.save()
    FundingRequest.objects.filter(pk=draft.pk).update(status="more_info")
    FundingMail.objects.all().delete()
    return draft


def test_a_resubmission_keeps_the_managers_support():
    draft = supported_then_reopened()
    FundingRequest.objects.filter(pk=draft.pk).update(
        manager_email="MARIA@practice.example"
    )
    services.submit_funding_request(draft, by=draft.person)
    assert stored(draft)["status"] == "under_review"
    event = FundingEvent.objects.filter(request=draft).last()
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        draft.person,
        "more_info",
        "under_review",
        "Sent back with more information. Your manager's support stands.",
    )
    assert not FundingMail.objects.filter(kind="manager_request").exists()
    assert ManagerSupport.objects.filter(request=draft).count() == 1


def test_a_resubmission_to_a_new_manager_asks_them_afresh():
    draft = supported_then_reopened()
    FundingRequest.objects.filter(pk=draft.pk).update(
        manager_email="nadia@practice.example"
    )
    services.submit_funding_request(draft, by=draft.person)
    assert stored(draft)["status"] == "awaiting_manager"
    assert manager_mail(draft).to == "nadia@practice.example"


def test_a_resubmission_after_the_manager_said_no_asks_again():
    draft = supported_then_reopened(supported=False)
    services.submit_funding_request(draft, by=draft.person)
    assert stored(draft)["status"] == "awaiting_manager"
    assert manager_mail(draft).to == "maria@practice.example"


# --- the link: resending and a new manager -----------------------------------------


def waiting(status="awaiting_manager", minutes_ago=10):
    draft = FundingRequestFactory.create(manager_name="Maria Manager")
    services.submit_funding_request(draft, by=draft.person)
    ManagerSupport.objects.filter(request=draft).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )
    FundingRequest.objects.filter(pk=draft.pk).update(status=status)
    FundingMail.objects.all().delete()
    return draft


@pytest.mark.parametrize("status", ["awaiting_manager", "not_supported"])
def test_resending_sends_a_new_link_and_retires_the_old(status):
    draft = waiting(status)
    old = ManagerSupport.objects.get(request=draft)
    before = timezone.now()
    new = services.resend_to_manager(draft, by=draft.person)
    old.refresh_from_db()
    assert before <= old.revoked_at <= timezone.now()
    assert new.revoked_at is None
    assert new.pk != old.pk
    assert manager_mail(draft).key == f"funding:support:{new.pk}"
    assert stored(draft)["status"] == "awaiting_manager"
    event = FundingEvent.objects.filter(request=draft).last()
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        draft.person,
        status,
        "awaiting_manager",
        "Sent again to Maria Manager.",
    )


def test_a_used_link_is_not_revoked_by_a_new_one():
    draft = waiting("not_supported")
    ManagerSupport.objects.update(used_at=timezone.now(), supported=False)
    services.resend_to_manager(draft, by=draft.person)
    assert ManagerSupport.objects.filter(revoked_at__isnull=False).count() == 0


@pytest.mark.parametrize("status", ["draft", "under_review", "approved"])
def test_resending_is_only_for_a_request_waiting_for_the_manager(status):
    draft = waiting(status)
    assert (
        refusal(services.resend_to_manager, draft, by=draft.person)
        == "This request is not waiting for your manager."
    )
    assert ManagerSupport.objects.count() == 1


def test_resending_waits_five_minutes_after_the_last_link():
    draft = waiting(minutes_ago=4)
    assert (
        refusal(services.resend_to_manager, draft, by=draft.person)
        == "We sent the request a few minutes ago. Try again in 5 minutes."
    )
    assert not FundingMail.objects.exists()
    ManagerSupport.objects.update(created_at=timezone.now() - dt.timedelta(minutes=6))
    services.resend_to_manager(draft, by=draft.person)
    assert ManagerSupport.objects.count() == 2


def test_the_resend_wait_follows_the_setting(settings):
    settings.FUNDING_RESEND_MINUTES = 30
    draft = waiting(minutes_ago=20)
    assert (
        refusal(services.resend_to_manager, draft, by=draft.person)
        == "We sent the request a few minutes ago. Try again in 30 minutes."
    )


def test_a_new_manager_of_a_waiting_request_gets_the_link():
    draft = waiting("not_supported")
    services.change_manager(
        draft,
        manager_name=" Nadia Lead ",
        manager_email=" nadia@practice.example ",
        by=draft.person,
    )
    row = stored(draft)
    assert (row["manager_name"], row["manager_email"], row["status"]) == (
        "Nadia Lead",
        "nadia@practice.example",
        "awaiting_manager",
    )
    event = FundingEvent.objects.filter(request=draft).last()
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        draft.person,
        "not_supported",
        "awaiting_manager",
        "Manager changed to Nadia Lead; the request was sent to them.",
    )
    sent = manager_mail(draft)
    assert sent.to == "nadia@practice.example"
    assert "Hello Nadia Lead," in sent.body
    link = ManagerSupport.objects.get(revoked_at__isnull=True)
    assert (link.manager_name, link.manager_email) == (
        "Nadia Lead",
        "nadia@practice.example",
    )


@pytest.mark.parametrize("status", ["draft", "more_info"])
def test_a_new_manager_of_an_unsent_request_is_only_stored(status):
    draft = FundingRequestFactory.create(status=status)
    services.change_manager(
        draft, manager_name="Nadia", manager_email="nadia@x.example", by=draft.person
    )
    row = stored(draft)
    assert (row["manager_name"], row["manager_email"], row["status"]) == (
        "Nadia",
        "nadia@x.example",
        status,
    )
    assert not FundingEvent.objects.exists()
    assert not ManagerSupport.objects.exists()
    assert not FundingMail.objects.exists()


@pytest.mark.parametrize(
    ("name", "email", "message"),
    [
        (
            "Nadia",
            "OWNER@x.example",
            "Enter your manager's email address, not your own",
        ),
        ("  ", "nadia@x.example", "Enter your manager's name and work email"),
        ("Nadia", "  ", "Enter your manager's name and work email"),
    ],
)
def test_a_new_manager_needs_a_name_and_another_email(name, email, message):
    person = UserFactory.create(email="owner@x.example")
    draft = FundingRequestFactory.create(person=person)
    before = stored(draft)
    assert (
        refusal(
            services.change_manager,
            draft,
            manager_name=name,
            manager_email=email,
            by=person,
        )
        == message
    )
    assert stored(draft) == before


@pytest.mark.parametrize("status", ["under_review", "approved", "declined"])
def test_the_manager_cannot_change_after_they_answered(status):
    draft = FundingRequestFactory.create(status=status)
    before = stored(draft)
    assert (
        refusal(
            services.change_manager,
            draft,
            manager_name="Nadia",
            manager_email="nadia@x.example",
            by=draft.person,
        )
        == "The manager can no longer be changed."
    )
    assert stored(draft) == before


# --- the manager's answer --------------------------------------------------------------


def sent_for_support(**fields):
    draft = FundingRequestFactory.create(**fields)
    services.submit_funding_request(draft, by=draft.person)
    token = re.search(r"/funding/support/([\w-]+)/", manager_mail(draft).body)
    return draft, token.group(1)


def test_the_managers_answer_is_kept_on_the_link_and_the_timeline():
    draft, token = sent_for_support(manager_name="Maria Manager")
    before = timezone.now()
    link = services.record_manager_support(
        token, supported=False, statement="  Not this year.  "
    )
    link.refresh_from_db()
    assert (link.supported, link.statement) == (False, "Not this year.")
    assert before <= link.used_at <= timezone.now()
    assert stored(draft)["status"] == "not_supported"
    event = FundingEvent.objects.filter(request=draft).last()
    assert (
        event.actor,
        event.actor_label,
        event.from_status,
        event.to_status,
        event.note,
    ) == (
        None,
        "Maria Manager (your manager)",
        "awaiting_manager",
        "not_supported",
        "Not this year.",
    )


def test_a_manager_without_a_name_is_named_by_email():
    draft, token = sent_for_support(manager_email="m@x.example")
    ManagerSupport.objects.update(manager_name="")
    services.record_manager_support(token, supported=True, statement="Yes")
    event = FundingEvent.objects.filter(request=draft).last()
    assert (event.actor_label, event.to_status) == (
        "m@x.example (your manager)",
        "under_review",
    )


def test_the_manager_must_write_a_statement():
    draft, token = sent_for_support()
    assert (
        refusal(services.record_manager_support, token, supported=True, statement=" ")
        == "Enter your statement"
    )
    assert ManagerSupport.objects.get().used_at is None
    assert stored(draft)["status"] == "awaiting_manager"


def test_a_link_no_longer_usable_is_refused_with_the_reason():
    draft, token = sent_for_support()
    FundingRequest.objects.filter(pk=draft.pk).update(status="declined")
    assert (
        refusal(services.record_manager_support, token, supported=True, statement="Y")
        == "This request is no longer waiting for your support."
    )
    assert ManagerSupport.objects.get().used_at is None


def test_a_managers_letter_is_kept_with_the_request():
    draft, token = sent_for_support()
    services.record_manager_support(
        token,
        supported=True,
        statement="Yes",
        letter=SimpleUploadedFile("C:\\letters\\support letter.PDF", PDF),
    )
    document = FundingDocument.objects.get(request=draft)
    assert (
        document.kind,
        document.original_name,
        document.content_type,
        document.size,
        document.uploaded_by,
    ) == ("manager_letter", "support letter.pdf", "application/pdf", len(PDF), None)
    assert document.file.name.endswith(".pdf")
    with document.file.open("rb") as stored_file:
        assert stored_file.read() == PDF


def test_a_managers_letter_that_is_not_a_document_is_refused():
    draft, token = sent_for_support()
    assert (
        refusal(
            services.record_manager_support,
            token,
            supported=True,
            statement="Yes",
            letter=SimpleUploadedFile("letter.pdf", b"MZ" + b"\0" * 40),
        )
        == "The selected file must be a PDF, PNG or JPG"
    )
    assert ManagerSupport.objects.get().used_at is None
    assert stored(draft)["status"] == "awaiting_manager"
    assert not FundingDocument.objects.exists()


# --- supporting documents -------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "more_info", "awaiting_manager"])
def test_the_learner_adds_documents_before_a_decision(status):
    draft = FundingRequestFactory.create(status=status)
    document = services.add_supporting_document(
        draft, upload=SimpleUploadedFile("fees/schedule.png", PNG), by=draft.person
    )
    document.refresh_from_db()
    assert (
        document.request_id,
        document.kind,
        document.original_name,
        document.content_type,
        document.size,
        document.uploaded_by,
    ) == (draft.pk, "supporting", "schedule.png", "image/png", len(PNG), draft.person)


@pytest.mark.parametrize("status", ["approved", "declined", "closed"])
def test_documents_cannot_be_added_after_a_decision(status):
    draft = FundingRequestFactory.create(status=status)
    assert (
        refusal(
            services.add_supporting_document,
            draft,
            upload=SimpleUploadedFile("a.pdf", PDF),
            by=draft.person,
        )
        == "Documents can be added only before a decision."
    )
    assert not FundingDocument.objects.exists()


def test_resending_is_allowed_the_moment_the_wait_is_over(monkeypatch):
    draft = waiting(minutes_ago=10)
    last = ManagerSupport.objects.get(request=draft)
    frozen = last.created_at + dt.timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    services.resend_to_manager(draft, by=draft.person)
    assert ManagerSupport.objects.filter(request=draft).count() == 2


def test_the_managers_link_carries_a_256_bit_token():
    draft = waiting(minutes_ago=10)
    link = services.resend_to_manager(draft, by=draft.person)
    token = re.search(r"/funding/support/([^/]+)/", manager_mail(draft).body)[1]
    assert len(token) == 43  # 32 random bytes, URL-safe base64
    assert link.token_hash == hash_token(token)


def test_a_link_revoked_earlier_keeps_the_time_it_was_revoked():
    draft = waiting(minutes_ago=10)
    first = ManagerSupport.objects.get(request=draft)
    services.resend_to_manager(draft, by=draft.person)
    first.refresh_from_db()
    revoked_at = first.revoked_at
    ManagerSupport.objects.update(created_at=timezone.now() - dt.timedelta(minutes=6))
    services.resend_to_manager(draft, by=draft.person)
    first.refresh_from_db()
    assert first.revoked_at == revoked_at
    assert ManagerSupport.objects.filter(revoked_at__isnull=True).count() == 1
