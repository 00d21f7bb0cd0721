import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from funding import services
from funding.models import FundingRequest, ManagerSupport
from tests.accounts.factories import UserFactory

from .factories import (
    ApplicationFactory,
    FundingRequestFactory,
    FundingRoundFactory,
    cheap_people,
)

pytestmark = pytest.mark.django_db

LEARNER_PAGES = [
    ("get", "/funding/{pk}/"),
    ("get", "/funding/{pk}/edit/"),
    ("get", "/funding/{pk}/course/"),
    ("get", "/funding/{pk}/reason/"),
    ("get", "/funding/{pk}/documents/"),
    ("get", "/funding/{pk}/check/"),
    ("get", "/funding/{pk}/delete/"),
    ("get", "/funding/{pk}/withdraw/"),
    ("post", "/funding/{pk}/delete/"),
    ("post", "/funding/{pk}/withdraw/"),
    ("post", "/funding/{pk}/submit/"),
    ("get", "/funding/{pk}/documents/new/"),
    ("get", "/funding/{pk}/manager/"),
    ("post", "/funding/{pk}/manager/resend/"),
    ("get", "/funding/{pk}/progress/"),
]
APPLICATION_PAGES = [
    ("get", "/applications/{pk}/"),
    ("get", "/applications/{pk}/edit/"),
    ("post", "/applications/{pk}/submit/"),
    ("get", "/funding/apprenticeships/{pk}/"),
    ("get", "/funding/apprenticeships/{pk}/edit/"),
]
OFFICER_PAGES = [
    ("get", "/staff/funding/"),
    ("get", "/staff/funding/{pk}/"),
    ("get", "/staff/funding/{pk}/invoices/new/"),
    ("get", "/staff/funding/{pk}/payments/new/"),
    ("get", "/staff/funding/rounds/{round}/panel/"),
    ("get", "/staff/funding/applications/"),
    ("get", "/staff/funding/applications/{app}/"),
]


def _fill(path, funding_request, application=None, funding_round=None):
    return path.format(
        pk=funding_request.pk,
        app=application.pk if application else 0,
        round=funding_round.pk if funding_round else 0,
    )


@pytest.mark.parametrize(("method", "path"), LEARNER_PAGES)
def test_request_pages_are_for_their_owner_only(learner_client, method, path):
    mine = FundingRequestFactory.create(person=learner_client.user)
    theirs = FundingRequestFactory.create()
    response = getattr(learner_client, method)(_fill(path, theirs))
    assert response.status_code == 404
    response = getattr(learner_client, method)(_fill(path, mine))
    assert response.status_code in (200, 302)
    anonymous = getattr(Client(), method)(_fill(path, mine))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    theirs.refresh_from_db()
    assert theirs.status == "draft"


@pytest.mark.parametrize(("method", "path"), APPLICATION_PAGES)
def test_application_pages_are_for_their_owner_only(learner_client, method, path):
    mine = ApplicationFactory.create(person=learner_client.user)
    theirs = ApplicationFactory.create()
    url = path.format(pk=theirs.pk)
    assert getattr(learner_client, method)(url).status_code == 404
    assert getattr(learner_client, method)(path.format(pk=mine.pk)).status_code in (
        200,
        302,
        307,
    )
    assert getattr(Client(), method)(url).status_code == 302
    theirs.refresh_from_db()
    assert theirs.status == "draft"


@pytest.mark.parametrize(("method", "path"), OFFICER_PAGES)
def test_officer_pages_need_the_funding_officer_role(
    officer, booking_admin, learner_client, method, path
):
    funding_request = FundingRequestFactory.create(status="approved")
    FundingRequest.objects.filter(pk=funding_request.pk).update(
        submitted_at=timezone.now(), amount_approved=Decimal("100")
    )
    application = ApplicationFactory.create(status="submitted")
    url = _fill(path, funding_request, application, FundingRoundFactory.create())
    assert getattr(officer, method)(url).status_code == 200
    assert getattr(booking_admin, method)(url).status_code == 403
    assert getattr(learner_client, method)(url).status_code == 403
    anonymous = getattr(Client(), method)(url)
    assert anonymous.status_code == 302


def test_officer_pages_need_two_factor_authentication():
    from accounts import roles

    from .conftest import staff_client

    client = staff_client(roles.FUNDING_OFFICERS, totp=False)
    response = client.get("/staff/funding/")
    assert response.status_code == 302
    assert "totp" in response["Location"] or "mfa" in response["Location"]


def test_new_request_saves_a_draft_and_shows_errors_beside_fields(learner_client):
    response = learner_client.post(
        "/funding/new/",
        {
            "course_name": "Advanced Clinical Practice",
            "cost": "-40",
            "start_date": "2001-01-01",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "<title>Error: " in html
    assert "Enter a cost more than £0" in html
    assert "no more than 90 days ago" in html
    assert not FundingRequest.objects.exists()
    response = learner_client.post(
        "/funding/new/", {"course_name": "Advanced Clinical Practice", "later": "1"}
    )
    draft = FundingRequest.objects.get()
    assert response["Location"] == "/funding/"
    assert draft.status == "draft"
    page = learner_client.get(f"/funding/{draft.pk}/").content.decode()
    assert "govuk-task-list" in page
    assert "You have completed 0 of 4 sections." in page


def test_new_request_form_shows_remaining_allowance_and_refuses_ineligible(
    learner_client,
):
    funding_round = FundingRoundFactory.create(
        stream__name="Nursing CPD", stream__eligible_job_roles="Nurse"
    )
    page = learner_client.get("/funding/new/").content.decode()
    assert "£333 of £333" in page
    response = learner_client.post(
        "/funding/new/",
        {
            "round": funding_round.pk,
            "course_name": "ACP",
            "cost": "300",
            "start_date": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
        },
    )
    assert "Nursing CPD is for these roles: Nurse" in response.content.decode()
    assert not FundingRequest.objects.exists()


def test_submit_and_the_manager_page_flow(
    learner_client, django_capture_on_commit_callbacks
):
    from .conftest import support_token

    draft = FundingRequestFactory.create(person=learner_client.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = learner_client.post(f"/funding/{draft.pk}/submit/")
    assert response.status_code == 302
    token = support_token(draft.manager_email)
    manager = Client()
    page = manager.get(f"/funding/support/{token}/")
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
    assert draft.course_name in page.content.decode()
    response = manager.post(f"/funding/support/{token}/", {"supported": "yes"})
    assert "Enter your statement" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            f"/funding/support/{token}/",
            {"supported": "yes", "statement": "Strongly support."},
        )
    assert "Thank you" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "under_review"
    again = manager.post(
        f"/funding/support/{token}/", {"supported": "no", "statement": "No"}
    )
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    draft.refresh_from_db()
    assert draft.status == "under_review"
    assert Client().get("/funding/support/not-a-token/").status_code == 404


def test_an_expired_link_page_says_so(submit):
    funding_request, token = submit()
    ManagerSupport.objects.update(expires_at=timezone.now() - dt.timedelta(hours=1))
    response = Client().post(
        f"/funding/support/{token}/", {"supported": "yes", "statement": "Yes"}
    )
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    funding_request.refresh_from_db()
    assert funding_request.status == "awaiting_manager"


def test_learner_sees_timeline_with_decline_reason(
    learner_client, submit, officer, django_capture_on_commit_callbacks
):
    funding_request, _ = submit(
        FundingRequestFactory.create(person=learner_client.user)
    )
    officer.post(
        f"/staff/funding/{funding_request.pk}/",
        {"decision": "decline", "note": "Not accredited for prescribing."},
    )
    html = learner_client.get(f"/funding/{funding_request.pk}/").content.decode()
    assert "Declined" in html
    assert "Not accredited for prescribing." in html
    assert "Timeline" in html


def test_officer_decision_form_maps_refusals_to_errors(submit, officer):
    funding_request, _ = submit()
    response = officer.post(
        f"/staff/funding/{funding_request.pk}/",
        {"decision": "approve", "amount": "100"},
    )
    assert "Only a request with the manager" in response.content.decode()
    response = officer.post(
        f"/staff/funding/{funding_request.pk}/", {"decision": "decline"}
    )
    assert "Give the reason" in response.content.decode()
    funding_request.refresh_from_db()
    assert funding_request.status == "awaiting_manager"


def test_panel_page_decides_in_one_pass(submit, officer):
    funding_round = FundingRoundFactory.create(stream__annual_allowance=Decimal("9000"))
    rows = []
    for _ in range(2):
        r, token = submit(FundingRequestFactory.create(round=funding_round))
        services.record_manager_support(token, supported=True, statement="Yes")
        rows.append(r)
    a, b = rows
    url = f"/staff/funding/rounds/{funding_round.pk}/panel/"
    bad = officer.post(url, {f"decision-{a.pk}": "approve", f"amount-{a.pk}": "abc"})
    assert bad.status_code == 400
    response = officer.post(
        url,
        {
            f"decision-{a.pk}": "approve",
            f"amount-{a.pk}": "750",
            f"note-{a.pk}": "Submit a reflection.",
            f"decision-{b.pk}": "decline",
            f"note-{b.pk}": "Over budget",
        },
    )
    assert response.status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.amount_approved, b.status) == ("approved", 750, "declined")


def test_queue_filters(officer):
    from tests.accounts.factories import OrganisationFactory

    org = OrganisationFactory.create(name="Riverside Surgery")
    for status, provider in [("under_review", "Uni A"), ("declined", "Uni B")]:
        r = FundingRequestFactory.create(provider_name=provider, organisation=org)
        FundingRequest.objects.filter(pk=r.pk).update(
            status=status, submitted_at=timezone.now()
        )
    FundingRequestFactory.create(course_name="Draft course")
    page = officer.get("/staff/funding/").content.decode()
    assert "2 requests" in page
    assert "Draft course" not in page
    assert (
        "1 request<" in officer.get("/staff/funding/?status=declined").content.decode()
    )
    assert (
        "1 request<" in officer.get("/staff/funding/?provider=Uni+A").content.decode()
    )
    # Typed, part of a name (no list of every name typed on a request).
    assert "2 requests" in officer.get("/staff/funding/?provider=uni").content.decode()
    page = officer.get("/staff/funding/").content.decode()
    assert '<input type="text" name="provider"' in page
    assert '<option value="Uni A"' not in page
    assert (
        "2 requests"
        in officer.get("/staff/funding/?workplace=riverside+surg").content.decode()
    )
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert (
        "0 requests"
        in officer.get(f"/staff/funding/?submitted_from={tomorrow}").content.decode()
    )


def five_submitted(monkeypatch, factory, name_field: str, status: str) -> None:
    """Five submitted a day apart ("Course 0 days ago" ... or "Programme ..."),
    with the queues' cap lowered to 3 and their pages to 2."""
    from funding import staff_views

    monkeypatch.setattr(staff_views, "QUEUE_COUNT_CAP", 3)
    monkeypatch.setattr(staff_views, "QUEUE_PER_PAGE", 2)
    now = timezone.now()
    word = "Course" if name_field == "course_name" else "Programme"
    model = factory._meta.model
    for days in range(5):
        made = factory.create(**{name_field: f"{word} {days} days ago"})
        model.objects.filter(pk=made.pk).update(
            status=status, submitted_at=now - dt.timedelta(days=days)
        )


def test_the_queue_is_counted_up_to_a_cap_and_paged_up_to_there(officer, monkeypatch):
    """Counting every request, and a deep page's OFFSET, grew with the
    requests: past QUEUE_COUNT_CAP the queue says "more than" and offers the
    pages up to the cap, newest first (lowered here: five requests will do)."""
    five_submitted(monkeypatch, FundingRequestFactory, "course_name", "under_review")
    page = officer.get("/staff/funding/").content.decode()
    assert "More than 3 requests. The newest 3 are shown" in page
    assert "Course 0 days ago" in page
    assert "Course 1 days ago" in page
    last = officer.get("/staff/funding/?page=9").content.decode()
    assert "Course 2 days ago" in last
    assert "Course 3 days ago" not in last
    assert "Course 0 days ago" not in last
    # Under the cap, the count is exact.
    filtered = officer.get("/staff/funding/?workplace=nowhere").content.decode()
    assert "0 requests" in filtered


def test_the_application_queue_pages_and_is_counted_up_to_a_cap(officer, monkeypatch):
    """It offered the first 50 applications and no way to the others."""
    five_submitted(monkeypatch, ApplicationFactory, "programme", "submitted")
    page = officer.get("/staff/funding/applications/?status=submitted")
    html = page.content.decode()
    assert "More than 3 applications. The newest 3 are shown" in html
    assert "Programme 1 days ago" in html
    assert "Programme 2 days ago" not in html
    assert 'href="?status=submitted&page=2" rel="next">Next page</a>' in html
    second = officer.get("/staff/funding/applications/?status=submitted&page=2")
    html = second.content.decode()
    assert "Programme 2 days ago" in html
    assert "Programme 3 days ago" not in html
    assert "Next page" not in html
    few = officer.get("/staff/funding/applications/?status=declined").content
    assert "0 applications" in few.decode()


def test_a_queue_page_walks_its_index_in_order(officer):
    from django.db import connection, transaction

    from funding import selectors

    for queue, index, table in [
        (
            selectors.funding_requests_for_officers(status="under_review"),
            "funding_request_queue",
            "funding_fundingrequest",
        ),
        (
            selectors.applications_for_officers(status="submitted"),
            "application_queue",
            "funding_apprenticeshipapplication",
        ),
    ]:
        sql, params = queue[50:100].query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan, plan
        # Read in the queue's order, not sorted (a request's latest progress
        # update is looked up, and ordered, for that row alone).
        assert f"Sort Key: {table}.submitted_at" not in plan, plan


def _requests(n, person=None):
    for someone in [person] * n if person else cheap_people(n):
        r = FundingRequestFactory.create(person=someone)
        FundingRequest.objects.filter(pk=r.pk).update(
            status="under_review", submitted_at=timezone.now()
        )


@pytest.mark.parametrize("n", [3, 30])
def test_my_funding_list_query_count_does_not_grow(
    learner_client, django_assert_max_num_queries, n
):
    FundingRoundFactory.create()
    _requests(n, learner_client.user)
    for _ in range(n):
        ApplicationFactory.create(person=learner_client.user)
    with django_assert_max_num_queries(10):
        response = learner_client.get("/funding/")
    html = response.content.decode()
    assert html.count('href="/applications/') == n + 1  # + "apply"
    assert html.count('<strong class="govuk-tag') == 2 * n


@pytest.mark.parametrize("n", [3, 30])
def test_officer_queue_query_count_does_not_grow(
    officer, django_assert_max_num_queries, n
):
    _requests(n)
    with django_assert_max_num_queries(16):
        response = officer.get("/staff/funding/")
    assert f"{n} requests" in response.content.decode()


@pytest.mark.parametrize("n", [3, 30])
def test_panel_query_count_does_not_grow(officer, django_assert_max_num_queries, n):
    funding_round = FundingRoundFactory.create()
    for someone in cheap_people(n):
        r = FundingRequestFactory.create(round=funding_round, person=someone)
        FundingRequest.objects.filter(pk=r.pk).update(status="under_review")
    with django_assert_max_num_queries(12):
        response = officer.get(f"/staff/funding/rounds/{funding_round.pk}/panel/")
    assert response.content.decode().count('name="decision-') == n


def test_detail_page_query_count_is_fixed(
    approved, django_assert_max_num_queries, client
):
    client.force_login(approved.person)
    for i in range(5):
        services.record_progress(
            approved, stage="in_progress", note=f"Week {i}", by=approved.person
        )
    with django_assert_max_num_queries(16):
        response = client.get(f"/funding/{approved.pk}/")
    assert "Week 4" in response.content.decode()


def test_a_learner_changes_manager_from_the_page(
    learner_client, submit, django_capture_on_commit_callbacks
):
    funding_request, _ = submit(
        FundingRequestFactory.create(person=learner_client.user)
    )
    response = learner_client.post(
        f"/funding/{funding_request.pk}/manager/",
        {"manager_name": "Me", "manager_email": learner_client.user.email},
    )
    assert "not your own" in response.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = learner_client.post(
            f"/funding/{funding_request.pk}/manager/",
            {"manager_name": "New Boss", "manager_email": "new@practice.example"},
        )
    assert response.status_code == 302
    assert any(m.to == ["new@practice.example"] for m in mail.outbox)


def test_other_people_cannot_see_a_request_in_the_list(learner_client):
    FundingRequestFactory.create(course_name="Somebody else's course")
    assert "Somebody else" not in learner_client.get("/funding/").content.decode()
    assert UserFactory  # the other person exists
