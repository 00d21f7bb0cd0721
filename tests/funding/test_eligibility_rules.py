"""The rules a learner meets before a request can go anywhere, each with the
exact message the form or the refusal shows: cost, start date, manager's
email, the round's dates, the stream's roles and workplaces, the yearly
allowance, what is still missing, and a manager's one-time link."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from funding import services
from funding.models import FundingRequest, ManagerSupport
from tests.accounts.factories import OrganisationFactory, ProfileFactory, UserFactory

from .factories import FundingRequestFactory, FundingRoundFactory

pytestmark = pytest.mark.django_db


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- cost -----------------------------------------------------------------------


def test_a_cost_must_be_more_than_nothing():
    assert services.cost_problem(Decimal("0")) == "Enter a cost more than £0"
    assert services.cost_problem(Decimal("-0.01")) == "Enter a cost more than £0"
    assert services.cost_problem(Decimal("0.01")) is None
    assert services.cost_problem(None) is None


def test_a_cost_is_at_most_fifty_thousand_pounds_unless_configured(settings):
    assert services.cost_problem(Decimal("50000")) is None
    assert (
        services.cost_problem(Decimal("50000.01")) == "The cost must be £50,000 or less"
    )
    settings.FUNDING_MAX_COST = 1234
    assert services.cost_problem(Decimal("1234")) is None
    assert services.cost_problem(Decimal("1235")) == "The cost must be £1,234 or less"


# --- start date ------------------------------------------------------------------


def test_a_start_date_may_be_up_to_ninety_days_ago():
    today = timezone.localdate()
    assert services.start_date_problem(today - dt.timedelta(days=90)) is None
    assert services.start_date_problem(today - dt.timedelta(days=91)) == (
        "The start date must be no more than 90 days ago. We cannot fund a course "
        "that started long ago."
    )
    assert services.start_date_problem(None) is None


def test_how_far_back_a_start_date_may_be_follows_the_setting(settings):
    settings.FUNDING_START_DATE_PAST_DAYS = 7
    today = timezone.localdate()
    assert services.start_date_problem(today - dt.timedelta(days=7)) is None
    assert services.start_date_problem(today - dt.timedelta(days=8)) == (
        "The start date must be no more than 7 days ago. We cannot fund a course "
        "that started long ago."
    )


def test_a_start_date_is_within_the_next_two_years():
    today = timezone.localdate()
    assert services.start_date_problem(today + dt.timedelta(days=732)) is None
    assert (
        services.start_date_problem(today + dt.timedelta(days=733))
        == "The start date must be within the next 2 years"
    )


# --- manager's email ---------------------------------------------------------------


def test_the_managers_email_is_not_the_learners_own_in_any_case_or_spacing():
    person = UserFactory.build(email="Ann.Lee@practice.example")
    message = "Enter your manager's email address, not your own"
    assert (
        services.manager_email_problem(person, " ann.lee@PRACTICE.example ") == message
    )
    assert services.manager_email_problem(person, "boss@practice.example") is None
    assert services.manager_email_problem(person, "") is None


# --- the round and the stream ------------------------------------------------------


def test_a_round_that_has_not_opened_says_when_it_opens():
    today = timezone.localdate()
    opens = today + dt.timedelta(days=1)
    funding_round = FundingRoundFactory.create(
        opens_on=opens, closes_on=today + dt.timedelta(days=30)
    )
    person = UserFactory.create()
    assert services.eligibility_problem(person, funding_round) == (
        f"This funding round opens on {long_date(opens)}."
    )
    funding_round.opens_on = today
    assert services.eligibility_problem(person, funding_round) is None


def test_a_round_that_has_closed_says_when_it_closed():
    today = timezone.localdate()
    closed = today - dt.timedelta(days=1)
    funding_round = FundingRoundFactory.create(
        opens_on=today - dt.timedelta(days=30), closes_on=closed
    )
    person = UserFactory.create()
    assert services.eligibility_problem(person, funding_round) == (
        f"This funding round closed on {long_date(closed)}."
    )
    funding_round.closes_on = today
    assert services.eligibility_problem(person, funding_round) is None


def role_round(**stream):
    return FundingRoundFactory.create(
        stream__name="Nursing CPD",
        stream__eligible_job_roles=" Nurse \n\nHealthcare assistant",
        **{f"stream__{k}": v for k, v in stream.items()},
    )


def test_a_stream_for_some_roles_asks_for_a_job_title():
    funding_round = role_round()
    message = (
        "Nursing CPD is for these roles: Nurse, Healthcare assistant. Add your job "
        "title to your profile so we can check."
    )
    assert services.eligibility_problem(UserFactory.create(), funding_round) == message
    blank = UserFactory.create()
    ProfileFactory.create(user=blank, job_title="   ")
    assert services.eligibility_problem(blank, funding_round) == message


def test_a_job_title_containing_a_role_in_any_case_is_eligible():
    funding_round = role_round()
    for title in ("Senior PRACTICE NURSE", "healthcare assistant (bank)"):
        person = UserFactory.create()
        ProfileFactory.create(user=person, job_title=title)
        assert services.eligibility_problem(person, funding_round) is None


def test_another_job_title_is_named_in_the_refusal():
    funding_round = role_round()
    person = UserFactory.create()
    ProfileFactory.create(user=person, job_title="  Receptionist ")
    assert services.eligibility_problem(person, funding_round) == (
        "Nursing CPD is for these roles: Nurse, Healthcare assistant. Your job "
        "title, Receptionist, is not one of them."
    )


def test_a_stream_without_roles_or_workplaces_is_open_to_anyone():
    funding_round = FundingRoundFactory.create()
    assert services.eligibility_problem(UserFactory.create(), funding_round) is None
    person = UserFactory.create()
    ProfileFactory.create(user=person, job_title="")
    assert services.eligibility_problem(person, funding_round) is None


def workplace_round(kinds):
    return FundingRoundFactory.create(
        stream__name="Primary care fund", stream__eligible_workplace_kinds=kinds
    )


def test_a_stream_for_some_workplaces_asks_for_the_workplace():
    funding_round = workplace_round(["practice", "hospice"])
    message = (
        "Primary care fund is for people working in a gp practice, hospice. Add "
        "your workplace to your profile so we can check."
    )
    assert services.eligibility_problem(UserFactory.create(), funding_round) == message
    person = UserFactory.create()
    ProfileFactory.create(user=person, job_title="Nurse", organisation=None)
    assert services.eligibility_problem(person, funding_round) == message


def test_a_workplace_of_another_kind_is_named_in_the_refusal():
    funding_round = workplace_round(["practice", "pcn"])
    person = UserFactory.create()
    ProfileFactory.create(
        user=person,
        organisation=OrganisationFactory.create(name="Westmoor Academy", kind="school"),
    )
    assert services.eligibility_problem(person, funding_round) == (
        "Primary care fund is for people working in a gp practice, primary care "
        "network; Westmoor Academy is not."
    )
    allowed = UserFactory.create()
    ProfileFactory.create(
        user=allowed, organisation=OrganisationFactory.create(kind="pcn")
    )
    assert services.eligibility_problem(allowed, funding_round) is None


def test_roles_are_checked_before_the_workplace():
    funding_round = role_round(
        eligible_workplace_kinds=["practice"],
    )
    person = UserFactory.create()
    ProfileFactory.create(
        user=person,
        job_title="Practice nurse",
        organisation=OrganisationFactory.create(name="Oak School", kind="school"),
    )
    assert services.eligibility_problem(person, funding_round) == (
        "Nursing CPD is for people working in a gp practice; Oak School is not."
    )


# --- allowance -----------------------------------------------------------------------


def test_the_allowance_left_this_year_caps_the_cost():
    funding_round = FundingRoundFactory.create(
        stream__name="CPD fund", stream__annual_allowance=Decimal("1500")
    )
    person = UserFactory.create()
    earlier = FundingRequestFactory.create(
        person=person,
        round=funding_round,
        cost=Decimal("1000"),
        status=FundingRequest.Status.UNDER_REVIEW,
    )
    day = earlier.start_date
    assert (
        services.allowance_problem(person, funding_round, Decimal("500"), day) is None
    )
    assert services.allowance_problem(
        person, funding_round, Decimal("500.01"), day
    ) == (
        "You can ask CPD fund for up to £500.00 more this financial year "
        "(£1,500.00 a year). Lower the cost to £500.00 or less."
    )
    # The request being checked does not count against itself.
    assert (
        services.allowance_problem(
            person, funding_round, Decimal("1500"), day, exclude_pk=earlier.pk
        )
        is None
    )
    assert services.allowance_problem(person, funding_round, None, day) is None


def test_without_a_start_date_the_allowance_of_this_year_applies():
    funding_round = FundingRoundFactory.create(
        stream__name="CPD fund", stream__annual_allowance=Decimal("300")
    )
    person = UserFactory.create()
    FundingRequestFactory.create(
        person=person,
        round=funding_round,
        cost=Decimal("200"),
        start_date=timezone.localdate(),
        status=FundingRequest.Status.APPROVED,
        amount_approved=Decimal("200"),
    )
    assert services.allowance_problem(person, funding_round, Decimal("101"), None) == (
        "You can ask CPD fund for up to £100.00 more this financial year "
        "(£300.00 a year). Lower the cost to £100.00 or less."
    )


# --- what a submission needs -----------------------------------------------------


def test_what_is_missing_is_listed_in_form_order_with_plain_names():
    empty = FundingRequest(
        course_name="", provider_name="", reason="", manager_name="", manager_email=""
    )
    assert services.missing_for_submission(empty) == [
        "course name",
        "course provider",
        "cost",
        "start date",
        "how the course helps your role",
        "manager's name",
        "manager's work email",
    ]
    assert services.missing_for_submission(FundingRequestFactory.build()) == []


def test_a_cost_or_date_left_out_is_missing():
    draft = FundingRequestFactory.build(cost=None, start_date=None, reason="")
    assert services.missing_for_submission(draft) == [
        "cost",
        "start date",
        "how the course helps your role",
    ]


# --- the manager's link -------------------------------------------------------------


def link(**fields):
    funding_request = FundingRequestFactory.create(
        status=FundingRequest.Status.AWAITING_MANAGER
    )
    return ManagerSupport.objects.create(
        request=funding_request,
        token_hash=str(funding_request.pk).ljust(64, "x"),
        manager_name="Maria",
        manager_email="maria@practice.example",
        expires_at=timezone.now() + dt.timedelta(days=1),
        **fields,
    )


def test_a_usable_link_has_no_problem():
    assert services.support_link_problem(link()) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"used_at": timezone.now()},
            "This link has already been used. Each link works once.",
        ),
        (
            {"revoked_at": timezone.now()},
            "This link has been replaced by a newer one. Use the latest email.",
        ),
    ],
)
def test_a_used_or_replaced_link_says_so(fields, message):
    assert services.support_link_problem(link(**fields)) == message


def test_a_link_stops_working_at_the_moment_it_expires():
    expired = link()
    moment = timezone.now()
    expired.expires_at = moment
    with mock.patch("django.utils.timezone.now", return_value=moment):
        assert services.support_link_problem(expired) == (
            "This link has expired. Ask the person to send the request to you again."
        )
    with mock.patch(
        "django.utils.timezone.now", return_value=moment - dt.timedelta(seconds=1)
    ):
        assert services.support_link_problem(expired) is None


def test_a_link_for_a_request_no_longer_waiting_says_so():
    answered = link()
    answered.request.status = FundingRequest.Status.UNDER_REVIEW
    assert (
        services.support_link_problem(answered)
        == "This request is no longer waiting for your support."
    )


def test_no_link_at_all_is_not_valid():
    assert (
        services.support_link_problem(None)
        == "This link is not valid. Check you copied the whole link."
    )
