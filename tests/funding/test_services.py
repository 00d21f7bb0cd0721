import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from funding import services
from funding.models import (
    FundingEvent,
    FundingMail,
    FundingRequest,
    ManagerSupport,
    ProgressUpdate,
)
from tests.accounts.factories import OrganisationFactory, ProfileFactory, UserFactory

from .factories import (
    ApplicationTypeFactory,
    FundingRequestFactory,
    FundingRoundFactory,
)

pytestmark = pytest.mark.django_db


def test_a_draft_is_saved_then_submitted_as_a_separate_step(
    django_capture_on_commit_callbacks,
):
    person = UserFactory.create()
    draft = services.save_funding_request(person, course_name="Non-Medical Prescribing")
    assert draft.status == "draft"
    with pytest.raises(services.FundingError, match="Before you submit, add the"):
        services.submit_funding_request(draft, by=person)
    services.save_funding_request(
        person,
        funding_request=draft,
        cost=Decimal("1800"),
        start_date=timezone.localdate() + dt.timedelta(days=40),
        provider_name="University of Westmoor",
        reason="Prescribing in clinic.",
        manager_name="Maria",
        manager_email="maria@practice.example",
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_funding_request(draft, by=person)
    draft.refresh_from_db()
    assert draft.status == "awaiting_manager"
    assert draft.submitted_at is not None
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([person.email, "maria@practice.example"])
    manager_mail = next(m for m in mail.outbox if m.to == ["maria@practice.example"])
    assert "/funding/support/" in manager_mail.body
    # Only a hash of the token is stored.
    link = ManagerSupport.objects.get(request=draft)
    assert link.token_hash not in manager_mail.body
    with pytest.raises(services.FundingError, match="already been submitted"):
        services.submit_funding_request(draft, by=person)


def test_manager_supports_through_the_link_once(
    submit, django_capture_on_commit_callbacks
):
    funding_request, token = submit()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.record_manager_support(
            token, supported=True, statement="A great fit for our clinic."
        )
    funding_request.refresh_from_db()
    assert funding_request.status == "under_review"
    event = funding_request.events.last()
    assert (event.from_status, event.to_status) == ("awaiting_manager", "under_review")
    assert event.note == "A great fit for our clinic."
    assert "your manager" in event.actor_label
    assert [m.to for m in mail.outbox] == [[funding_request.person.email]]
    with pytest.raises(services.FundingError, match="already been used"):
        services.record_manager_support(token, supported=False, statement="Changed")
    funding_request.refresh_from_db()
    assert funding_request.status == "under_review"
    assert funding_request.events.count() == 2


def test_an_expired_link_changes_nothing(submit):
    funding_request, token = submit()
    ManagerSupport.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(services.FundingError, match="expired"):
        services.record_manager_support(token, supported=True, statement="Yes")
    funding_request.refresh_from_db()
    assert funding_request.status == "awaiting_manager"
    assert ManagerSupport.objects.get().used_at is None


def test_link_expiry_follows_the_setting(submit, settings):
    settings.FUNDING_SUPPORT_LINK_DAYS = 3
    submit()
    link = ManagerSupport.objects.get()
    assert abs(
        (link.expires_at - link.created_at) - dt.timedelta(days=3)
    ) < dt.timedelta(seconds=5)


def test_an_unknown_token_is_refused():
    with pytest.raises(services.FundingError, match="not valid"):
        services.record_manager_support("nope", supported=True, statement="Yes")


def test_manager_declines_then_learner_changes_manager(
    submit, django_capture_on_commit_callbacks
):
    funding_request, token = submit()
    services.record_manager_support(token, supported=False, statement="Not now.")
    funding_request.refresh_from_db()
    assert funding_request.status == "not_supported"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_manager(
            funding_request,
            manager_name="Nadia Lead",
            manager_email="nadia@practice.example",
            by=funding_request.person,
        )
    funding_request.refresh_from_db()
    assert funding_request.status == "awaiting_manager"
    assert funding_request.manager_email == "nadia@practice.example"
    assert {m.to[0] for m in mail.outbox} == {
        "nadia@practice.example",
        funding_request.person.email,
    }


def test_resending_revokes_the_old_link(submit, settings):
    settings.FUNDING_RESEND_MINUTES = 0
    funding_request, old = submit()
    services.resend_to_manager(funding_request, by=funding_request.person)
    with pytest.raises(services.FundingError, match="replaced"):
        services.record_manager_support(old, supported=True, statement="Yes")
    assert ManagerSupport.objects.filter(revoked_at__isnull=True).count() == 1


def test_resending_is_limited_to_once_every_few_minutes(submit):
    funding_request, _ = submit()
    with pytest.raises(services.FundingError, match="few minutes ago"):
        services.resend_to_manager(funding_request, by=funding_request.person)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cost": Decimal("-5")}, "more than £0"),
        ({"cost": Decimal("0")}, "more than £0"),
        ({"cost": Decimal("9999999")}, "or less"),
        ({"start_date": dt.date(2001, 1, 1)}, "no more than 90 days ago"),
        (
            {"start_date": timezone.localdate() + dt.timedelta(days=3000)},
            "next 2 years",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(fields, message):
    draft = FundingRequestFactory.create()
    before = FundingRequest.objects.values().get(pk=draft.pk)
    with pytest.raises(services.FundingError, match=message):
        services.save_funding_request(draft.person, funding_request=draft, **fields)
    assert FundingRequest.objects.values().get(pk=draft.pk) == before


def test_the_manager_email_cannot_be_the_learners_own():
    person = UserFactory.create(email="ann@practice.example")
    with pytest.raises(services.FundingError, match="not your own"):
        services.save_funding_request(
            person, course_name="ACP", manager_email="ANN@practice.example"
        )
    assert not FundingRequest.objects.exists()
    draft = FundingRequestFactory.create(person=person)
    FundingRequest.objects.filter(pk=draft.pk).update(manager_email=person.email)
    with pytest.raises(services.FundingError, match="not your own"):
        services.submit_funding_request(draft, by=person)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_more_information_reopens_and_resubmission_keeps_support(
    submit, officer, django_capture_on_commit_callbacks
):
    funding_request, token = submit()
    services.record_manager_support(token, supported=True, statement="Yes")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_for_more_information(
            funding_request, note="Attach the fee schedule.", by=officer.user
        )
    funding_request.refresh_from_db()
    assert funding_request.status == "more_info"
    assert "Attach the fee schedule." in mail.outbox[0].body
    services.save_funding_request(
        funding_request.person, funding_request=funding_request, cost=Decimal("1100")
    )
    services.submit_funding_request(funding_request, by=funding_request.person)
    funding_request.refresh_from_db()
    assert funding_request.status == "under_review"
    assert ManagerSupport.objects.count() == 1


def test_approve_may_be_less_but_not_more_than_asked(submit, officer):
    funding_request, token = submit(cost=Decimal("1200"))
    with pytest.raises(services.FundingError, match="manager's support"):
        services.approve_funding_request(
            funding_request, amount=Decimal("100"), by=officer.user
        )
    services.record_manager_support(token, supported=True, statement="Yes")
    with pytest.raises(services.FundingError, match="cannot be more than"):
        services.approve_funding_request(
            funding_request, amount=Decimal("1200.01"), by=officer.user
        )
    services.approve_funding_request(
        funding_request,
        amount=Decimal("900"),
        conditions="Share what you learn at a team meeting.",
        by=officer.user,
    )
    funding_request.refresh_from_db()
    assert funding_request.status == "approved"
    assert funding_request.amount_approved == Decimal("900")
    assert funding_request.decision_note.startswith("Share what you learn")
    assert funding_request.decided_by == officer.user


def test_decline_needs_a_reason_shown_to_the_learner(
    submit, officer, django_capture_on_commit_callbacks
):
    funding_request, _ = submit()
    with pytest.raises(services.FundingError, match="reason"):
        services.decline_funding_request(funding_request, reason=" ", by=officer.user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.decline_funding_request(
            funding_request, reason="The course is not accredited.", by=officer.user
        )
    assert "The course is not accredited." in mail.outbox[0].body
    event = FundingEvent.objects.filter(request=funding_request).last()
    assert (event.actor, event.from_status, event.to_status) == (
        officer.user,
        "awaiting_manager",
        "declined",
    )


def test_every_change_of_state_is_an_event_and_a_mail(
    approved, django_capture_on_commit_callbacks
):
    states = list(approved.events.values_list("from_status", "to_status"))
    assert states == [
        ("draft", "awaiting_manager"),
        ("awaiting_manager", "under_review"),
        ("under_review", "approved"),
    ]
    learner_mails = FundingMail.objects.filter(to=approved.person.email)
    assert learner_mails.count() == 3
    assert set(learner_mails.values_list("status", flat=True)) == {"sent"}


def test_a_duplicate_mail_task_sends_once(approved):
    record = FundingMail.objects.filter(to=approved.person.email).first()
    mail.outbox.clear()
    FundingMail.objects.filter(pk=record.pk).update(status="pending")
    assert services.send_mail_record(record.pk) is True
    assert services.send_mail_record(record.pk) is False
    assert len(mail.outbox) == 1


def test_invoices_payments_and_completion_close_the_request(approved, officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .factories import PDF

    invoice = services.record_invoice(
        approved,
        supplier="University of Westmoor",
        number="INV-1",
        amount=Decimal("1000"),
        invoice_date=timezone.localdate(),
        upload=SimpleUploadedFile("inv.pdf", PDF),
        by=officer.user,
    )
    with pytest.raises(services.FundingError, match="already recorded"):
        services.record_invoice(
            approved,
            supplier="University of Westmoor",
            number="INV-1",
            amount=Decimal("10"),
            invoice_date=timezone.localdate(),
            by=officer.user,
        )
    with pytest.raises(services.FundingError, match=r"more than the £1,000\.00"):
        services.record_payment(
            approved,
            amount=Decimal("1000.01"),
            paid_on=timezone.localdate(),
            by=officer.user,
        )
    services.record_payment(
        approved,
        amount=Decimal("1000"),
        paid_on=timezone.localdate(),
        invoice=invoice,
        by=officer.user,
    )
    approved.refresh_from_db()
    assert approved.status == "approved"  # paid, but the course is not complete
    with pytest.raises(services.FundingError, match="Add a note"):
        services.record_progress(approved, stage="in_progress", by=approved.person)
    services.record_progress(
        approved, stage="in_progress", note="Module 1 done", by=approved.person
    )
    services.record_progress(approved, stage="completed", by=approved.person)
    approved.refresh_from_db()
    assert approved.status == "closed"
    assert approved.events.last().to_status == "closed"
    with pytest.raises(services.FundingError, match="closed"):
        services.record_progress(approved, stage="completed", by=approved.person)


def test_only_the_learner_records_progress(approved, officer):
    with pytest.raises(services.FundingError, match="Only the learner"):
        services.record_progress(approved, stage="started", by=officer.user)
    assert not ProgressUpdate.objects.exists()


def test_panel_decides_a_round_in_one_pass_or_not_at_all(
    submit, officer, django_capture_on_commit_callbacks
):
    funding_round = FundingRoundFactory.create(stream__annual_allowance=Decimal("5000"))
    requests = []
    for _ in range(3):
        r = FundingRequestFactory.create(round=funding_round)
        r, token = submit(r)
        services.record_manager_support(token, supported=True, statement="Yes")
        requests.append(r)
    a, b, c = requests
    bad = [
        {
            "request_id": a.pk,
            "decision": "approve",
            "amount": Decimal("500"),
            "note": "",
        },
        {"request_id": b.pk, "decision": "decline", "amount": None, "note": ""},
    ]
    with pytest.raises(services.FundingError, match="reason"):
        services.decide_panel(funding_round, decisions=bad, by=officer.user)
    a.refresh_from_db()
    assert a.status == "under_review"
    good = [
        {
            "request_id": a.pk,
            "decision": "approve",
            "amount": Decimal("500"),
            "note": "Attend all modules.",
        },
        {"request_id": b.pk, "decision": "decline", "amount": None, "note": "Budget"},
        {"request_id": c.pk, "decision": "", "amount": None, "note": ""},
    ]
    assert services.decide_panel(funding_round, decisions=good, by=officer.user) == 2
    statuses = dict(FundingRequest.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "approved", b.pk: "declined", c.pk: "under_review"}
    a.refresh_from_db()
    assert a.decision_note == "Attend all modules."


# --- rounds and rules ---------------------------------------------------------


def nurse(kind="practice"):
    person = UserFactory.create()
    ProfileFactory.create(
        user=person,
        job_title="Practice Nurse",
        organisation=OrganisationFactory.create(kind=kind),
    )
    return person


def test_an_ineligible_role_or_workplace_is_refused_with_the_reason():
    funding_round = FundingRoundFactory.create(
        stream__name="Nursing CPD",
        stream__eligible_job_roles="Nurse\nHealthcare assistant",
        stream__eligible_workplace_kinds=["practice", "pcn"],
    )
    assert services.eligibility_problem(nurse(), funding_round) is None
    problem = services.eligibility_problem(nurse(kind="school"), funding_round)
    assert problem.startswith("Nursing CPD is for people working in a gp practice")
    assert problem.endswith("is not.")
    receptionist = UserFactory.create()
    ProfileFactory.create(user=receptionist, job_title="Receptionist")
    problem = services.eligibility_problem(receptionist, funding_round)
    assert "Your job title, Receptionist, is not one of them" in problem
    draft = FundingRequestFactory.create(person=receptionist, round=funding_round)
    with pytest.raises(services.FundingError, match="Receptionist"):
        services.submit_funding_request(draft, by=receptionist)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_closed_round_refuses_submissions():
    funding_round = FundingRoundFactory.create(
        opens_on=timezone.localdate() - dt.timedelta(days=30),
        closes_on=timezone.localdate() - dt.timedelta(days=1),
    )
    draft = FundingRequestFactory.create(round=funding_round)
    with pytest.raises(services.FundingError, match="closed on"):
        services.submit_funding_request(draft, by=draft.person)


def test_the_allowance_per_person_per_year_is_enforced():
    from funding import selectors

    funding_round = FundingRoundFactory.create(stream__annual_allowance=Decimal("333"))
    person = nurse()
    first = FundingRequestFactory.create(
        person=person, round=funding_round, cost=Decimal("200")
    )
    services.submit_funding_request(first, by=person)
    left = selectors.allowance_remaining(
        person=person, stream=funding_round.stream, day=first.start_date
    )
    assert left == Decimal("133")
    second = FundingRequestFactory.create(
        person=person, round=funding_round, cost=Decimal("150")
    )
    with pytest.raises(services.FundingError, match=r"up to £133\.00 more"):
        services.submit_funding_request(second, by=person)
    [row] = selectors.allowances_for_person(person=person)
    assert row["remaining"] == Decimal("133")


def test_a_round_must_be_chosen_while_rounds_are_open():
    FundingRoundFactory.create()
    draft = FundingRequestFactory.create()
    with pytest.raises(services.FundingError, match="Choose the funding round"):
        services.submit_funding_request(draft, by=draft.person)


# --- applications ------------------------------------------------------------------


def test_application_is_submitted_reviewed_and_offered(
    officer, django_capture_on_commit_callbacks
):
    person = UserFactory.create()
    application = services.save_application(
        person,
        application_type=ApplicationTypeFactory.create(),
        programme="Nursing Associate",
        employer_name="Westmoor Surgery",
        manager_name="Maria",
        manager_email="maria@practice.example",
        statement="I want to grow.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_application(application, by=person)
        services.start_application_review(application, by=officer.user)
        services.decide_application(
            application, offer=True, note="Start in September.", by=officer.user
        )
    application.refresh_from_db()
    assert application.status == "offered"
    assert list(application.events.values_list("to_status", flat=True)) == [
        "submitted",
        "under_review",
        "offered",
    ]
    assert len([m for m in mail.outbox if m.to == [person.email]]) == 3
    with pytest.raises(services.FundingError, match="already been decided"):
        services.decide_application(application, offer=False, note="x", by=officer.user)
