"""Four eyes on erasure as the services state it: what asking for a second
approver, approving, rejecting or cancelling stores on the request, the exact
refusal each wrong step meets (with nothing changed), the audit rows, and the
mail the person gets before their account is erased."""

import pytest
from django.core import mail

from accounts.models import User
from privacy import services
from privacy.models import AuditEvent, DataSubjectRequest
from tests.accounts.factories import UserFactory
from tests.privacy.test_four_eyes import dp_lead, staff_account, superuser

pytestmark = pytest.mark.django_db


def erasure_request(person: User | None, **extra) -> DataSubjectRequest:
    return DataSubjectRequest.objects.create(
        person=person, kind="erasure", identity_verified=True, **extra
    )


def trail(dsr: DataSubjectRequest) -> list[tuple]:
    return [
        (e.action, e.actor, e.subject, e.detail)
        for e in AuditEvent.objects.filter(request=dsr).order_by("pk")
    ]


def pending(dsr: DataSubjectRequest) -> tuple:
    dsr.refresh_from_db()
    return (
        dsr.approval_requested_by,
        dsr.approval_requested_at is not None,
        dsr.approval_refusal_reason,
        dsr.status,
    )


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(services.PrivacyError) as refused:
        call(*args, **kwargs)
    return str(refused.value)


# --- asking for a second approver -----------------------------------------------


def test_asking_records_who_asked_and_when_and_clears_an_earlier_refusal():
    lead, staff = dp_lead(), staff_account()
    dsr = erasure_request(staff, approval_refusal_reason="Earlier: wrong person")
    services.request_erasure_approval(dsr, by=lead)
    assert pending(dsr) == (lead, True, "", "received")
    assert trail(dsr) == [
        ("erasure requested", lead, f"user:{staff.pk}", "awaiting a second approver")
    ]
    staff.refresh_from_db()
    assert staff.erased_at is None


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            lambda staff: erasure_request(None),
            "This request names no account that can be erased.",
        ),
        (
            lambda staff: erasure_request(
                UserFactory.create(erased_at="2026-01-01T00:00Z")
            ),
            "This request names no account that can be erased.",
        ),
        (
            lambda staff: DataSubjectRequest.objects.create(
                person=staff, kind="access", identity_verified=True
            ),
            "Only an erasure request can erase data.",
        ),
        (
            lambda staff: DataSubjectRequest.objects.create(
                person=staff, kind="erasure"
            ),
            "Verify the person's identity first.",
        ),
        (
            lambda staff: erasure_request(staff, status="completed"),
            "This request is already closed.",
        ),
        (
            lambda staff: erasure_request(UserFactory.create()),
            "This is not a staff account: choose “Erase personal data”; no second "
            "approver is needed.",
        ),
    ],
)
def test_asking_is_refused_for_a_request_that_cannot_be_erased_by_two(setup, message):
    dsr = setup(staff_account())
    assert refusal(services.request_erasure_approval, dsr, by=dp_lead()) == message
    assert pending(dsr)[:3] == (None, False, "")
    assert trail(dsr) == []


def test_asking_twice_is_refused():
    first, second = dp_lead(), dp_lead()
    dsr = erasure_request(staff_account())
    services.request_erasure_approval(dsr, by=first)
    assert (
        refusal(services.request_erasure_approval, dsr, by=second)
        == "This erasure is already awaiting a second approver."
    )
    assert pending(dsr)[0] == first
    assert [row[0] for row in trail(dsr)] == ["erasure requested"]


def test_asking_needs_the_erasure_permission():
    dsr = erasure_request(staff_account())
    someone = UserFactory.create(is_staff=True)
    assert (
        refusal(services.request_erasure_approval, dsr, by=someone)
        == "You do not hold the permission to ask for this."
    )
    assert pending(dsr)[:2] == (None, False)


# --- approving -------------------------------------------------------------------


def test_a_second_lead_approves_and_the_person_is_told_then_erased():
    first, second = dp_lead(), dp_lead()
    staff = staff_account()
    dsr = erasure_request(staff)
    services.request_erasure_approval(dsr, by=first)
    mail.outbox.clear()
    assert services.approve_erasure(dsr, by=second) == first
    dsr.refresh_from_db()
    assert (dsr.status, dsr.completed_by) == ("completed", second)
    assert (dsr.approval_requested_by, dsr.approval_requested_at) == (None, None)
    [told] = mail.outbox
    assert told.to == ["booking.admin@example.org"]
    assert "We have erased your personal data." in told.body
    staff.refresh_from_db()
    assert staff.erased_at is not None
    assert trail(dsr) == [
        ("erasure requested", first, f"user:{staff.pk}", "awaiting a second approver"),
        (
            "erasure approved",
            second,
            f"user:{staff.pk}",
            f"asked for by user:{first.pk}",
        ),
        ("request completed", second, f"user:{staff.pk}", ""),
        ("erasure", second, f"user:{staff.pk}", ""),
    ]


def test_approving_what_nobody_asked_for_is_refused():
    staff = staff_account()
    dsr = erasure_request(staff)
    assert refusal(services.approve_erasure, dsr, by=dp_lead()) == (
        "Nobody has asked for a second approver on this request: choose “Ask a "
        "second approver to erase” first."
    )
    staff.refresh_from_db()
    assert staff.erased_at is None
    assert trail(dsr) == []


def test_the_one_who_asked_cannot_approve():
    lead, staff = dp_lead(), staff_account()
    dsr = erasure_request(staff)
    services.request_erasure_approval(dsr, by=lead)
    assert refusal(services.approve_erasure, dsr, by=lead) == (
        "You asked for this yourself: a different person must approve it."
    )
    assert pending(dsr)[:2] == (lead, True)
    staff.refresh_from_db()
    assert staff.erased_at is None


def test_approving_checks_the_request_again():
    lead, staff = dp_lead(), staff_account()
    dsr = erasure_request(staff)
    services.request_erasure_approval(dsr, by=lead)
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(identity_verified=False)
    assert (
        refusal(services.approve_erasure, dsr, by=dp_lead())
        == "Verify the person's identity first."
    )
    staff.refresh_from_db()
    assert staff.erased_at is None


# --- rejecting or cancelling -----------------------------------------------------


def test_a_second_lead_rejects_with_a_reason_kept_on_the_request():
    first, second = dp_lead(), dp_lead()
    staff = staff_account()
    dsr = erasure_request(staff)
    services.request_erasure_approval(dsr, by=first)
    reason = "  Still   employed:\n HR " + "x" * 600
    assert services.reject_erasure(dsr, by=second, reason=reason) == "rejected"
    assert pending(dsr) == (
        None,
        False,
        ("Still employed: HR " + "x" * 600)[:500],
        "received",
    )
    assert trail(dsr)[-1] == (
        "erasure rejected",
        second,
        f"user:{staff.pk}",
        f"asked for by user:{first.pk}",
    )
    staff.refresh_from_db()
    assert staff.erased_at is None


def test_the_one_who_asked_cancels():
    lead, staff = dp_lead(), staff_account()
    dsr = erasure_request(staff)
    services.request_erasure_approval(dsr, by=lead)
    assert services.reject_erasure(dsr, by=lead, reason="Wrong request") == "cancelled"
    assert pending(dsr) == (None, False, "Wrong request", "received")
    assert trail(dsr)[-1] == (
        "erasure cancelled",
        lead,
        f"user:{staff.pk}",
        f"asked for by user:{lead.pk}",
    )


def test_a_request_whose_asker_is_gone_is_rejected_without_naming_them():
    first, second = dp_lead(), dp_lead()
    staff = staff_account()
    dsr = erasure_request(staff)
    services.request_erasure_approval(dsr, by=first)
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(approval_requested_by=None)
    assert services.reject_erasure(dsr, by=second, reason="Asker left") == "rejected"
    assert trail(dsr)[-1] == ("erasure rejected", second, f"user:{staff.pk}", "")


def test_rejecting_needs_a_reason():
    lead = dp_lead()
    dsr = erasure_request(staff_account())
    services.request_erasure_approval(dsr, by=lead)
    assert (
        refusal(services.reject_erasure, dsr, by=dp_lead(), reason=" \n ")
        == "Give the reason for rejecting or cancelling it."
    )
    assert pending(dsr)[:3] == (lead, True, "")


def test_rejecting_what_is_not_awaiting_approval_is_refused():
    dsr = erasure_request(staff_account())
    assert (
        refusal(services.reject_erasure, dsr, by=dp_lead(), reason="No")
        == "This request is not awaiting a second approver."
    )
    assert pending(dsr)[2] == ""
    assert trail(dsr) == []


def test_rejecting_needs_the_erasure_permission():
    lead = dp_lead()
    dsr = erasure_request(staff_account())
    services.request_erasure_approval(dsr, by=lead)
    someone = UserFactory.create(is_staff=True)
    assert (
        refusal(services.reject_erasure, dsr, by=someone, reason="No")
        == "You do not hold the permission to reject this."
    )
    assert pending(dsr)[:3] == (lead, True, "")


# --- one person alone ------------------------------------------------------------


def test_one_lead_erases_a_learner_and_the_learner_is_told_first():
    lead = dp_lead()
    learner = UserFactory.create(email="learner@example.org")
    dsr = erasure_request(learner)
    mail.outbox.clear()
    services.erase_on_request(dsr, by=lead)
    [told] = mail.outbox
    assert told.to == ["learner@example.org"]
    assert "We have erased your personal data." in told.body
    learner.refresh_from_db()
    assert learner.erased_at is not None
    dsr.refresh_from_db()
    assert (dsr.status, dsr.completed_by) == ("completed", lead)
    assert trail(dsr) == [
        ("request completed", lead, f"user:{learner.pk}", ""),
        ("erasure", lead, f"user:{learner.pk}", ""),
    ]


def test_a_superuser_alone_erases_a_staff_account_and_settles_a_pending_request():
    lead, boss, staff = dp_lead(), superuser(), staff_account()
    dsr = erasure_request(staff)
    services.request_erasure_approval(dsr, by=lead)
    services.erase_on_request(dsr, by=boss)
    dsr.refresh_from_db()
    assert (dsr.approval_requested_by, dsr.approval_requested_at) == (None, None)
    assert (dsr.status, dsr.completed_by) == ("completed", boss)
    staff.refresh_from_db()
    assert staff.erased_at is not None


@pytest.mark.parametrize(
    ("whose", "message"),
    [
        (
            "staff",
            "This is a staff account: one person alone cannot erase it. Nothing was "
            "erased. Choose “Ask a second approver to erase” to record the "
            "request; another data-protection lead or a superuser must then "
            "approve it.",
        ),
        (
            "superuser",
            "This is a superuser's account: one person alone cannot erase it. "
            "Nothing was erased. Choose “Ask a second approver to erase” to record "
            "the request; a superuser must then approve it.",
        ),
        (
            "own",
            "This is your own account: another person must approve its erasure. "
            "Nothing was erased. Choose “Ask a second approver to erase” to record "
            "the request.",
        ),
    ],
)
def test_one_lead_alone_cannot_erase_a_privileged_account(whose, message):
    lead = dp_lead()
    person = {"staff": staff_account, "superuser": superuser, "own": lambda: lead}[
        whose
    ]()
    dsr = erasure_request(person)
    mail.outbox.clear()
    assert refusal(services.erase_on_request, dsr, by=lead) == message
    person.refresh_from_db()
    assert person.erased_at is None
    dsr.refresh_from_db()
    assert dsr.status == "received"
    assert mail.outbox == []
    assert trail(dsr) == []


def test_erasing_alone_checks_the_request_first():
    dsr = DataSubjectRequest.objects.create(person=UserFactory.create(), kind="erasure")
    assert (
        refusal(services.erase_on_request, dsr, by=dp_lead())
        == "Verify the person's identity first."
    )
    dsr.person.refresh_from_db()
    assert dsr.person.erased_at is None
