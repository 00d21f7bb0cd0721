"""The learner's request as a GOV.UK task list: sections and their statuses,
the draft made once, check your answers with its change links, withdrawing a
submitted request, deleting a draft, changing the manager and the manager's
single reminder."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from funding import services
from funding.models import FundingDocument, FundingEvent, FundingRequest, ManagerSupport

from .conftest import support_token
from .factories import PDF, FundingRequestFactory, FundingRoundFactory

pytestmark = pytest.mark.django_db


def statuses(client, funding_request) -> dict[str, str]:
    html = client.get(f"/funding/{funding_request.pk}/").content.decode()
    found = re.findall(
        r'id="task-(\w+)-status">(?:<strong class="govuk-tag[^"]*">)?([^<]+)<', html
    )
    return dict(found)


def token_of(html: str) -> str:
    return re.search(r'name="idempotency_token" value="([^"]+)"', html).group(1)


def test_a_new_draft_shows_each_section_not_started_and_check_cannot_start(
    learner_client,
):
    draft = FundingRequestFactory.create(
        person=learner_client.user,
        provider_name="",
        cost=None,
        start_date=None,
        reason="",
        manager_name="",
        manager_email="",
    )
    assert statuses(learner_client, draft) == {
        "course": "In progress",
        "reason": "Not yet started",
        "manager": "Not yet started",
        "documents": "Not yet started",
        "check": "Cannot start yet",
    }
    html = learner_client.get(f"/funding/{draft.pk}/").content.decode()
    # A section that cannot start is not a link.
    assert f'href="/funding/{draft.pk}/check/"' not in html
    assert "You have completed 0 of 4 sections." in html


def test_sections_become_completed_and_then_check_can_start(learner_client):
    draft = FundingRequestFactory.create(person=learner_client.user, manager_email="")
    assert statuses(learner_client, draft)["manager"] == "In progress"
    learner_client.post(
        f"/funding/{draft.pk}/manager/",
        {"manager_name": "Maria Manager", "manager_email": "maria@practice.example"},
    )
    learner_client.post(f"/funding/{draft.pk}/documents/")
    assert statuses(learner_client, draft) == {
        "course": "Completed",
        "reason": "Completed",
        "manager": "Completed",
        "documents": "Completed",
        "check": "Not yet started",
    }
    html = learner_client.get(f"/funding/{draft.pk}/").content.decode()
    assert f'href="/funding/{draft.pk}/check/"' in html
    assert "You have completed 4 of 4 sections." in html


def test_an_open_round_must_be_chosen_for_the_course_section_to_be_complete(
    learner_client,
):
    FundingRoundFactory.create()
    draft = FundingRequestFactory.create(person=learner_client.user)
    assert statuses(learner_client, draft)["course"] == "In progress"


def test_uploading_a_document_is_in_progress_until_the_section_is_saved(
    learner_client, private_media, settings
):
    settings.MEDIA_ROOT = str(private_media)
    draft = FundingRequestFactory.create(person=learner_client.user)
    services.add_supporting_document(
        draft,
        upload=SimpleUploadedFile("offer.pdf", PDF, "application/pdf"),
        by=learner_client.user,
    )
    assert statuses(learner_client, draft)["documents"] == "In progress"
    page = learner_client.get(f"/funding/{draft.pk}/documents/").content.decode()
    assert "offer.pdf" in page
    assert "Add another document" in page


def test_starting_a_request_twice_with_the_same_form_makes_one_draft(learner_client):
    page = learner_client.get("/funding/new/").content.decode()
    assert '<h1 class="govuk-heading-l">Course, provider and cost</h1>' in page
    assert '<div class="govuk-input__prefix" aria-hidden="true">£</div>' in page
    data = {
        "idempotency_token": token_of(page),
        "course_name": "Non-Medical Prescribing",
        "later": "1",
    }
    first = learner_client.post("/funding/new/", data)
    second = learner_client.post("/funding/new/", data)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert FundingRequest.objects.filter(person=learner_client.user).count() == 1


def test_save_and_continue_asks_for_every_answer_on_the_page(learner_client):
    draft = FundingRequestFactory.create(person=learner_client.user)
    response = learner_client.post(
        f"/funding/{draft.pk}/course/", {"course_name": "ACP"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter the cost of the course" in html
    assert "Enter the date the course starts" in html
    assert "Choose the course provider, or type its name" in html
    assert 'href="#id_cost"' in html
    response = learner_client.post(f"/funding/{draft.pk}/reason/", {"reason": " "})
    assert "Enter how the course will help you in your role" in (
        response.content.decode()
    )
    # Saved as a draft, the same answers are kept as they are.
    response = learner_client.post(
        f"/funding/{draft.pk}/course/", {"course_name": "ACP", "later": "1"}
    )
    assert response["Location"] == "/funding/"
    draft.refresh_from_db()
    assert (draft.course_name, draft.cost) == ("ACP", None)


def test_save_and_continue_goes_back_to_the_task_list(learner_client):
    draft = FundingRequestFactory.create(person=learner_client.user, reason="")
    response = learner_client.post(
        f"/funding/{draft.pk}/reason/", {"reason": "I will prescribe."}
    )
    assert response["Location"] == f"/funding/{draft.pk}/"
    draft.refresh_from_db()
    assert draft.reason == "I will prescribe."


def test_the_reason_page_heading_is_the_question(learner_client):
    draft = FundingRequestFactory.create(person=learner_client.user)
    html = learner_client.get(f"/funding/{draft.pk}/reason/").content.decode()
    assert re.search(
        r'<h1 class="govuk-label-wrapper"><label class="govuk-label govuk-label--l" '
        r'for="id_reason">How will the course help you in your role\?</label></h1>',
        html,
    )
    assert f'href="/funding/{draft.pk}/" class="govuk-back-link"' in html


def test_check_answers_lists_every_answer_with_change_links(
    learner_client, django_assert_max_num_queries
):
    draft = FundingRequestFactory.create(
        person=learner_client.user, documents_confirmed=True
    )
    with django_assert_max_num_queries(12):
        response = learner_client.get(f"/funding/{draft.pk}/check/")
    html = response.content.decode()
    assert "govuk-summary-list" in html
    assert "£1,200" in html
    for section in ("course", "reason", "manager", "documents"):
        assert f'href="/funding/{draft.pk}/{section}/?return=check"' in html
    assert f'action="/funding/{draft.pk}/submit/"' in html


def test_check_answers_will_not_submit_an_unfinished_request(learner_client):
    draft = FundingRequestFactory.create(person=learner_client.user, reason="")
    html = learner_client.get(f"/funding/{draft.pk}/check/").content.decode()
    assert "You cannot submit yet" in html
    assert "Why you want to do this course" in html
    assert f'action="/funding/{draft.pk}/submit/"' not in html


def test_a_change_from_check_answers_returns_there(learner_client):
    draft = FundingRequestFactory.create(person=learner_client.user)
    page = learner_client.get(f"/funding/{draft.pk}/reason/?return=check")
    assert f'href="/funding/{draft.pk}/check/" class="govuk-back-link"' in (
        page.content.decode()
    )
    response = learner_client.post(
        f"/funding/{draft.pk}/reason/?return=check", {"reason": "Changed."}
    )
    assert response["Location"] == f"/funding/{draft.pk}/check/"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/admin/", "check/x"]
)
def test_the_return_parameter_never_sends_people_elsewhere(learner_client, target):
    draft = FundingRequestFactory.create(person=learner_client.user)
    response = learner_client.post(
        f"/funding/{draft.pk}/reason/?return={target}", {"reason": "Changed."}
    )
    assert response["Location"] == f"/funding/{draft.pk}/"


def test_task_list_page_query_count_is_fixed(
    learner_client, django_assert_max_num_queries
):
    draft = FundingRequestFactory.create(person=learner_client.user)
    with django_assert_max_num_queries(12):
        response = learner_client.get(f"/funding/{draft.pk}/")
    assert "govuk-task-list" in response.content.decode()


def test_the_old_edit_address_leads_to_the_task_list(learner_client):
    draft = FundingRequestFactory.create(person=learner_client.user)
    response = learner_client.get(f"/funding/{draft.pk}/edit/")
    assert response["Location"] == f"/funding/{draft.pk}/"


def test_a_submitted_request_cannot_be_changed_from_the_sections(
    learner_client, submit
):
    funding_request, _ = submit(
        FundingRequestFactory.create(person=learner_client.user)
    )
    for section in ("course", "reason", "documents", "check"):
        response = learner_client.post(
            f"/funding/{funding_request.pk}/{section}/", {"reason": "Sneaky"}
        )
        assert response["Location"] == f"/funding/{funding_request.pk}/"
    funding_request.refresh_from_db()
    assert funding_request.reason != "Sneaky"


# --- withdraw -------------------------------------------------------------------


def test_a_learner_withdraws_a_submitted_request(learner_client, submit, officer):
    funding_request, token = submit(
        FundingRequestFactory.create(person=learner_client.user)
    )
    detail = learner_client.get(f"/funding/{funding_request.pk}/").content.decode()
    assert "Withdraw this request" in detail
    page = learner_client.get(f"/funding/{funding_request.pk}/withdraw/")
    html = page.content.decode()
    assert "Are you sure you want to withdraw your request?" in html
    funding_request.refresh_from_db()
    assert funding_request.status == "awaiting_manager"  # GET changes nothing
    data = {"idempotency_token": token_of(html)}
    first = learner_client.post(f"/funding/{funding_request.pk}/withdraw/", data)
    second = learner_client.post(f"/funding/{funding_request.pk}/withdraw/", data)
    assert second["Location"] == first["Location"] == f"/funding/{funding_request.pk}/"
    funding_request.refresh_from_db()
    assert funding_request.status == "withdrawn"
    assert (
        FundingEvent.objects.filter(
            request=funding_request, to_status="withdrawn"
        ).count()
        == 1
    )
    assert "You withdrew this request" in (
        learner_client.get(f"/funding/{funding_request.pk}/").content.decode()
    )
    # The manager's link stops working, and says why.
    response = Client().get(f"/funding/support/{token}/")
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    # The funding officer sees it.
    queue = officer.get("/staff/funding/?status=withdrawn").content.decode()
    assert funding_request.course_name in queue
    review = officer.get(f"/staff/funding/{funding_request.pk}/").content.decode()
    assert "Withdrawn by the learner." in review


def test_only_an_undecided_submitted_request_can_be_withdrawn(learner_client, approved):
    draft = FundingRequestFactory.create(person=learner_client.user)
    with pytest.raises(services.FundingError, match="without a decision"):
        services.withdraw_funding_request(draft, by=learner_client.user)
    with pytest.raises(services.FundingError, match="without a decision"):
        services.withdraw_funding_request(approved, by=approved.person)
    response = learner_client.post(f"/funding/{draft.pk}/withdraw/")
    assert response["Location"] == f"/funding/{draft.pk}/"
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_nobody_else_can_withdraw_a_request(submit):
    funding_request, _ = submit()
    stranger = FundingRequestFactory.create().person
    with pytest.raises(services.FundingError, match="your own"):
        services.withdraw_funding_request(funding_request, by=stranger)


def test_withdrawing_frees_the_allowance(submit):
    funding_round = FundingRoundFactory.create()
    funding_request, _ = submit(round=funding_round, cost=300)
    from funding import selectors

    def left():
        return selectors.allowance_remaining(
            person=funding_request.person,
            stream=funding_round.stream,
            day=funding_request.start_date,
        )

    assert left() == 33
    services.withdraw_funding_request(funding_request, by=funding_request.person)
    assert left() == 333


# --- delete ---------------------------------------------------------------------


def test_a_learner_deletes_a_draft_and_its_files(
    learner_client, private_media, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(private_media)
    draft = FundingRequestFactory.create(person=learner_client.user)
    document = services.add_supporting_document(
        draft,
        upload=SimpleUploadedFile("offer.pdf", PDF, "application/pdf"),
        by=learner_client.user,
    )
    stored = private_media / document.file.name
    assert stored.exists()
    html = learner_client.get(f"/funding/{draft.pk}/delete/").content.decode()
    assert "Are you sure you want to delete this draft?" in html
    data = {"idempotency_token": token_of(html)}
    with django_capture_on_commit_callbacks(execute=True):
        first = learner_client.post(f"/funding/{draft.pk}/delete/", data)
    with django_capture_on_commit_callbacks(execute=True):
        second = learner_client.post(f"/funding/{draft.pk}/delete/", data)
    assert first["Location"] == second["Location"] == "/funding/"
    assert not FundingRequest.objects.filter(pk=draft.pk).exists()
    assert not FundingDocument.objects.exists()
    assert not stored.exists()
    listing = learner_client.get("/funding/").content.decode()
    assert "has been deleted" in listing


def test_a_submitted_request_cannot_be_deleted(learner_client, submit):
    funding_request, _ = submit(
        FundingRequestFactory.create(person=learner_client.user)
    )
    response = learner_client.post(f"/funding/{funding_request.pk}/delete/")
    assert response["Location"] == f"/funding/{funding_request.pk}/"
    assert FundingRequest.objects.filter(pk=funding_request.pk).exists()
    with pytest.raises(services.FundingError, match="Only a draft"):
        services.delete_draft(funding_request, by=funding_request.person)


def test_nobody_else_can_delete_a_draft():
    draft = FundingRequestFactory.create()
    stranger = FundingRequestFactory.create().person
    with pytest.raises(services.FundingError, match="your own"):
        services.delete_draft(draft, by=stranger)
    assert FundingRequest.objects.filter(pk=draft.pk).exists()


# --- change the manager -----------------------------------------------------------


def test_changing_the_manager_revokes_the_old_link_and_sends_a_new_one(
    learner_client, submit, django_capture_on_commit_callbacks
):
    funding_request, old_token = submit(
        FundingRequestFactory.create(person=learner_client.user)
    )
    page = learner_client.get(f"/funding/{funding_request.pk}/manager/")
    assert "Change your manager" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = learner_client.post(
            f"/funding/{funding_request.pk}/manager/",
            {"manager_name": "Nia New", "manager_email": "nia@practice.example"},
        )
    assert response["Location"] == f"/funding/{funding_request.pk}/"
    old = Client().get(f"/funding/support/{old_token}/")
    assert old.status_code == 410
    assert "replaced by a newer one" in old.content.decode()
    new_token = support_token("nia@practice.example")
    assert Client().get(f"/funding/support/{new_token}/").status_code == 200
    funding_request.refresh_from_db()
    assert (funding_request.manager_name, funding_request.status) == (
        "Nia New",
        "awaiting_manager",
    )
    assert funding_request.events.filter(note__contains="Manager changed").exists()


# --- the manager's reminder -------------------------------------------------------


def _age(funding_request, days: int) -> None:
    ManagerSupport.objects.filter(request=funding_request).update(
        created_at=timezone.now() - dt.timedelta(days=days)
    )


def test_a_manager_who_has_not_answered_is_reminded_once(
    submit, settings, django_capture_on_commit_callbacks
):
    settings.FUNDING_MANAGER_REMINDER_DAYS = 5
    funding_request, first_token = submit()
    _age(funding_request, 4)
    mail.outbox.clear()
    assert services.remind_managers() == 0
    _age(funding_request, 6)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_managers() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_managers() == 0
    # Even long after, and after the new link has aged too: once.
    _age(funding_request, 20)
    ManagerSupport.objects.update(expires_at=timezone.now() + dt.timedelta(days=9))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_managers() == 0
    reminders = [m for m in mail.outbox if m.subject.startswith("Reminder:")]
    assert len(reminders) == 1
    assert reminders[0].to == [funding_request.manager_email]
    assert "This is a reminder" in reminders[0].body
    new_token = support_token(funding_request.manager_email)
    assert new_token != first_token
    assert Client().get(f"/funding/support/{new_token}/").status_code == 200
    assert funding_request.events.filter(note__startswith="Reminder sent").count() == 1


def test_the_reminder_task_runs_the_service(submit, django_capture_on_commit_callbacks):
    from funding import tasks

    funding_request, _ = submit()
    _age(funding_request, 30)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_managers.apply().get() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"processing_restricted": True},
        {"closed_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        {"erased_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
    ],
    ids=["restricted", "closed", "erased"],
)
def test_no_reminder_about_a_restricted_closed_or_erased_person(submit, change):
    from accounts.models import User

    funding_request, _ = submit()
    _age(funding_request, 30)
    User.objects.filter(pk=funding_request.person_id).update(**change)
    mail.outbox.clear()
    assert services.remind_managers() == 0
    assert ManagerSupport.objects.get().reminded_at is None
    assert mail.outbox == []


def test_no_reminder_once_answered_or_withdrawn(submit):
    _answered, token = submit()
    services.record_manager_support(token, supported=True, statement="Yes")
    withdrawn, _ = submit()
    services.withdraw_funding_request(withdrawn, by=withdrawn.person)
    ManagerSupport.objects.update(created_at=timezone.now() - dt.timedelta(days=30))
    assert services.remind_managers() == 0
