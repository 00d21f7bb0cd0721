"""An officer's decisions on a request, one by one or as a panel: what is
stored, what the learner's timeline and mail say, and the message for each
refusal."""

from decimal import Decimal

import pytest
from django.utils import timezone

from funding import services
from funding.models import FundingEvent, FundingMail, FundingRequest
from tests.accounts.factories import UserFactory

from .factories import FundingRequestFactory, FundingRoundFactory
from .refusals import refusal

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(db):
    return UserFactory.create(is_staff=True)


def under_review(**fields):
    return FundingRequestFactory.create(
        status="under_review", cost=Decimal("1200"), **fields
    )


def stored(funding_request) -> dict:
    return FundingRequest.objects.values().get(pk=funding_request.pk)


def last_event(funding_request) -> tuple:
    event = FundingEvent.objects.filter(request=funding_request).last()
    return (event.actor, event.from_status, event.to_status, event.note)


def learner_mail(funding_request) -> FundingMail:
    return FundingMail.objects.filter(
        request=funding_request, to=funding_request.person.email
    ).last()


# --- more information ---------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["awaiting_manager", "not_supported", "under_review"]
)
def test_an_officer_reopens_a_pending_request_for_more_information(status, officer):
    funding_request = FundingRequestFactory.create(
        status=status, course_name="ACP module"
    )
    services.ask_for_more_information(
        funding_request, note="  Attach the fee schedule. ", by=officer
    )
    assert stored(funding_request)["status"] == "more_info"
    assert last_event(funding_request) == (
        officer,
        status,
        "more_info",
        "Attach the fee schedule.",
    )
    sent = learner_mail(funding_request)
    assert sent.subject == "ACP module: More information needed"
    assert "Attach the fee schedule." in sent.body
    assert "Change your request and submit it again." in sent.body


@pytest.mark.parametrize("status", ["draft", "more_info", "approved", "declined"])
def test_only_a_pending_request_is_reopened(status, officer):
    funding_request = FundingRequestFactory.create(status=status)
    assert (
        refusal(
            services.ask_for_more_information,
            funding_request,
            note="Why?",
            by=officer,
        )
        == "Only a request waiting for a decision can be reopened."
    )
    assert stored(funding_request)["status"] == status
    assert not FundingEvent.objects.exists()


def test_reopening_says_what_is_needed(officer):
    funding_request = under_review()
    assert (
        refusal(
            services.ask_for_more_information, funding_request, note="  ", by=officer
        )
        == "Say what information you need"
    )
    assert stored(funding_request)["status"] == "under_review"


# --- approval -------------------------------------------------------------------------


def test_an_approval_stores_the_amount_and_conditions_and_tells_the_learner(officer):
    funding_request = under_review(course_name="ACP module")
    before = timezone.now()
    services.approve_funding_request(
        funding_request,
        amount=Decimal("900"),
        conditions="  Share what you learn. ",
        by=officer,
    )
    row = stored(funding_request)
    assert (
        row["status"],
        row["amount_approved"],
        row["decision_note"],
        row["decided_by_id"],
    ) == ("approved", Decimal("900.00"), "Share what you learn.", officer.pk)
    assert before <= row["decided_at"] <= timezone.now()
    assert last_event(funding_request) == (
        officer,
        "under_review",
        "approved",
        "£900.00 approved. Conditions: Share what you learn.",
    )
    sent = learner_mail(funding_request)
    assert sent.subject == "ACP module: Approved"
    assert "Amount approved: £900" in sent.body


def test_an_approval_without_conditions_says_only_the_amount(officer):
    funding_request = under_review()
    services.approve_funding_request(
        funding_request, amount=Decimal("1200"), by=officer
    )
    assert stored(funding_request)["decision_note"] == ""
    assert last_event(funding_request)[3] == "£1,200.00 approved."


def test_an_approval_may_be_for_a_few_pence(officer):
    funding_request = under_review()
    services.approve_funding_request(
        funding_request, amount=Decimal("0.50"), by=officer
    )
    assert stored(funding_request)["amount_approved"] == Decimal("0.50")


@pytest.mark.parametrize("status", ["awaiting_manager", "not_supported", "more_info"])
def test_only_a_request_the_manager_supports_is_approved(status, officer):
    funding_request = FundingRequestFactory.create(status=status)
    assert (
        refusal(
            services.approve_funding_request,
            funding_request,
            amount=Decimal("10"),
            by=officer,
        )
        == "Only a request with the manager's support can be approved."
    )
    assert stored(funding_request)["amount_approved"] is None


@pytest.mark.parametrize("amount", [None, Decimal("0"), Decimal("-1")])
def test_an_approval_needs_an_amount(amount, officer):
    funding_request = under_review()
    assert (
        refusal(
            services.approve_funding_request, funding_request, amount=amount, by=officer
        )
        == "Enter an amount more than £0"
    )
    assert stored(funding_request)["status"] == "under_review"


def test_an_approval_is_not_more_than_was_asked_for(officer):
    funding_request = under_review()
    assert (
        refusal(
            services.approve_funding_request,
            funding_request,
            amount=Decimal("1200.01"),
            by=officer,
        )
        == "The amount approved cannot be more than the £1200.00 asked for."
    )
    assert stored(funding_request)["status"] == "under_review"


# --- decline ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["awaiting_manager", "not_supported", "under_review"]
)
def test_a_decline_stores_the_reason_the_learner_sees(status, officer):
    funding_request = FundingRequestFactory.create(status=status, course_name="ACP")
    before = timezone.now()
    services.decline_funding_request(
        funding_request, reason="  Not accredited. ", by=officer
    )
    row = stored(funding_request)
    assert (row["status"], row["decision_note"], row["decided_by_id"]) == (
        "declined",
        "Not accredited.",
        officer.pk,
    )
    assert before <= row["decided_at"] <= timezone.now()
    assert last_event(funding_request) == (
        officer,
        status,
        "declined",
        "Not accredited.",
    )
    sent = learner_mail(funding_request)
    assert sent.subject == "ACP: Declined"
    assert "Not accredited." in sent.body


@pytest.mark.parametrize("status", ["draft", "more_info", "approved", "declined"])
def test_only_a_pending_request_is_declined(status, officer):
    funding_request = FundingRequestFactory.create(status=status)
    assert (
        refusal(
            services.decline_funding_request, funding_request, reason="No", by=officer
        )
        == "Only a request waiting for a decision can be declined."
    )
    assert stored(funding_request)["status"] == status


def test_a_decline_needs_a_reason(officer):
    funding_request = under_review()
    assert (
        refusal(
            services.decline_funding_request, funding_request, reason=" ", by=officer
        )
        == "Give the reason, which the learner will see"
    )
    assert stored(funding_request)["decision_note"] == ""


# --- panel ---------------------------------------------------------------------------------


@pytest.fixture
def panel_round(db):
    return FundingRoundFactory.create()


def in_round(funding_round, **fields):
    return under_review(round=funding_round, **fields)


def test_a_panel_approves_and_declines_and_counts_its_decisions(panel_round, officer):
    a, b, c, d = (in_round(panel_round) for _ in range(4))
    decided = services.decide_panel(
        panel_round,
        decisions=[
            {"request_id": c.pk, "decision": "", "amount": Decimal("1")},
            {"request_id": d.pk, "decision": "defer", "note": "Next time"},
            {"request_id": a.pk, "decision": "approve", "amount": Decimal("700")},
            {"request_id": b.pk, "decision": "decline", "note": "Over budget"},
        ],
        by=officer,
    )
    assert decided == 2
    rows = {
        r["id"]: (r["status"], r["amount_approved"], r["decision_note"])
        for r in FundingRequest.objects.values()
    }
    assert rows == {
        a.pk: ("approved", Decimal("700.00"), ""),
        b.pk: ("declined", None, "Over budget"),
        c.pk: ("under_review", None, ""),
        d.pk: ("under_review", None, ""),
    }
    assert last_event(a) == (officer, "under_review", "approved", "£700.00 approved.")
    assert last_event(b)[0] == officer


def test_a_panels_note_on_an_approval_is_its_conditions(panel_round, officer):
    a = in_round(panel_round)
    services.decide_panel(
        panel_round,
        decisions=[
            {
                "request_id": a.pk,
                "decision": "approve",
                "amount": Decimal("500"),
                "note": "Attend all modules.",
            }
        ],
        by=officer,
    )
    assert stored(a)["decision_note"] == "Attend all modules."


def test_a_panel_refusal_names_the_request_and_undoes_the_pass(panel_round, officer):
    person = UserFactory.create(first_name="Ann", last_name="Lee")
    a = in_round(panel_round)
    b = in_round(panel_round, person=person, course_name="Prescribing")
    message = refusal(
        services.decide_panel,
        panel_round,
        decisions=[
            {"request_id": a.pk, "decision": "approve", "amount": Decimal("10")},
            {"request_id": b.pk, "decision": "decline"},
        ],
        by=officer,
    )
    assert message == (
        "Prescribing (Ann Lee): Give the reason, which the learner will see"
    )
    assert stored(a)["status"] == "under_review"
    assert not FundingEvent.objects.exists()


def test_a_panel_approval_needs_an_amount(panel_round, officer):
    person = UserFactory.create(first_name="", last_name="")
    a = in_round(panel_round, person=person, course_name="ACP")
    assert (
        refusal(
            services.decide_panel,
            panel_round,
            decisions=[{"request_id": a.pk, "decision": "approve", "note": "x"}],
            by=officer,
        )
        == "ACP (): Enter an amount more than £0"
    )


def test_a_panel_decides_only_requests_in_its_round(panel_round, officer):
    mine = in_round(panel_round)
    other = in_round(FundingRoundFactory.create())
    assert (
        refusal(
            services.decide_panel,
            panel_round,
            decisions=[
                {"request_id": mine.pk, "decision": "decline", "note": "No"},
                {"request_id": other.pk, "decision": "decline", "note": "No"},
            ],
            by=officer,
        )
        == "A request is not in this round."
    )
    assert set(FundingRequest.objects.values_list("status", flat=True)) == {
        "under_review"
    }
