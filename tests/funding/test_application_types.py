"""Application types staff add in admin, with no code: a learner finds and
applies to one, a closed one takes no new applications, officers decide on any
type, and the apprenticeship applications made before types keep their data."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client

from accounts import roles
from funding import services
from funding.models import Application, ApplicationType
from tests.accounts.factories import UserFactory

from .factories import ApplicationFactory, ApplicationTypeFactory
from .refusals import refusal

pytestmark = pytest.mark.django_db

FELLOWSHIP = {
    "name": "Leadership fellowship",
    "slug": "leadership-fellowship",
    "summary": "A year of leadership learning for practice staff.",
    "guidance": "Open to anyone who leads a team in general practice.",
    "subject_label": "Which cohort do you want to join?",
    "subject_hint": "For example, Spring 2027",
    "statement_label": "Why do you want to join the fellowship?",
    "statement_hint": "",
    "order": "5",
    "_save": "Save",
}


def fellowship(**extra) -> ApplicationType:
    values = {k: v for k, v in FELLOWSHIP.items() if k not in ("_save", "order")}
    return ApplicationTypeFactory.create(**{**values, "needs_manager": False, **extra})


def test_staff_add_a_type_in_admin_and_a_learner_applies_to_it(
    officer, learner_client, django_capture_on_commit_callbacks
):
    response = officer.post("/admin/funding/applicationtype/add/", FELLOWSHIP)
    assert response.status_code == 302
    kind = ApplicationType.objects.get(slug="leadership-fellowship")
    assert (kind.is_open, kind.needs_manager) == (False, False)  # unticked boxes
    officer.post(
        f"/admin/funding/applicationtype/{kind.pk}/change/",
        {**FELLOWSHIP, "is_open": "on"},
    )

    listing = learner_client.get("/applications/").content.decode()
    assert "Apply: Leadership fellowship" in listing
    assert "A year of leadership learning for practice staff." in listing
    form = learner_client.get("/applications/leadership-fellowship/new/")
    html = form.content.decode()
    assert "Which cohort do you want to join?" in html
    assert "Why do you want to join the fellowship?" in html
    assert "Open to anyone who leads a team in general practice." in html
    assert "Your manager" not in html

    response = learner_client.post(
        "/applications/leadership-fellowship/new/",
        {
            "programme": "Spring 2027",
            "employer_name": "Westmoor Surgery",
            "statement": "I lead the reception team.",
        },
    )
    application = Application.objects.get(person=learner_client.user)
    assert response["Location"] == f"/applications/{application.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        learner_client.post(f"/applications/{application.pk}/submit/")
    application.refresh_from_db()
    assert (application.type, application.status, application.manager_email) == (
        kind,
        "submitted",
        "",
    )
    page = learner_client.get(f"/applications/{application.pk}/").content.decode()
    assert "Leadership fellowship application" in page
    assert "Why do you want to join the fellowship?" in page
    assert "I lead the reception team." in page
    [sent] = [m for m in mail.outbox if m.to == [learner_client.user.email]]
    assert "Your leadership fellowship application for Spring 2027" in sent.body


def test_a_closed_type_refuses_new_applications_and_submissions(learner_client):
    kind = fellowship(is_open=False)
    listing = learner_client.get("/applications/").content.decode()
    assert "Leadership fellowship" not in listing
    page = learner_client.get(f"/applications/{kind.slug}/new/").content.decode()
    assert "Applications for Leadership fellowship are closed" in page
    assert 'name="statement"' not in page
    learner_client.post(
        f"/applications/{kind.slug}/new/",
        {"programme": "Spring", "employer_name": "W", "statement": "Me"},
    )
    assert not Application.objects.filter(type=kind).exists()
    assert (
        refusal(
            services.save_application,
            learner_client.user,
            application_type=kind,
            programme="Spring",
            employer_name="W",
            statement="Me",
        )
        == "Applications for Leadership fellowship are closed."
    )
    draft = ApplicationFactory.create(person=learner_client.user, type=kind)
    assert (
        refusal(services.submit_application, draft, by=learner_client.user)
        == "Applications for Leadership fellowship are closed."
    )
    learner_client.post(f"/applications/{draft.pk}/submit/")
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_an_unknown_type_is_not_found(learner_client):
    assert learner_client.get("/applications/no-such-thing/new/").status_code == 404


def test_a_type_that_asks_for_the_manager_needs_them_to_submit(learner_client):
    kind = ApplicationTypeFactory.create()
    draft = ApplicationFactory.create(
        person=learner_client.user, type=kind, manager_name="", manager_email=""
    )
    assert (
        refusal(services.submit_application, draft, by=learner_client.user)
        == "Enter your manager's name and work email"
    )
    response = learner_client.post(
        f"/applications/{kind.slug}/new/",
        {"programme": "NA", "employer_name": "W", "statement": "Me"},
    )
    html = response.content.decode()
    assert "Enter your manager&#x27;s name" in html
    assert "Enter your manager&#x27;s work email" in html


def test_applications_of_every_type_are_their_owners_only(learner_client):
    theirs = ApplicationFactory.create(type=fellowship(), programme="Spring 2027")
    for path in (f"/applications/{theirs.pk}/", f"/applications/{theirs.pk}/edit/"):
        assert learner_client.get(path).status_code == 404
        assert Client().get(path).status_code == 302
    assert learner_client.post(f"/applications/{theirs.pk}/submit/").status_code == (
        404
    )
    assert "Spring 2027" not in learner_client.get("/applications/").content.decode()


def test_the_old_apprenticeship_addresses_still_work(learner_client):
    ApplicationTypeFactory.create()
    form = learner_client.get("/funding/apprenticeships/new/").content.decode()
    assert "Which apprenticeship programme are you interested in?" in form
    learner_client.post(
        "/funding/apprenticeships/new/",
        {
            "programme": "Nursing Associate",
            "employer_name": "Westmoor Surgery",
            "manager_name": "Maria",
            "manager_email": "maria@practice.example",
            "statement": "I want to grow.",
        },
    )
    mine = Application.objects.get(person=learner_client.user)
    assert mine.type.slug == "apprenticeship"
    detail = learner_client.get(f"/funding/apprenticeships/{mine.pk}/")
    assert detail["Location"] == f"/applications/{mine.pk}/"
    edit = learner_client.get(f"/funding/apprenticeships/{mine.pk}/edit/")
    assert "Nursing Associate" in edit.content.decode()


def test_officers_decide_on_a_staff_defined_type(
    officer, django_capture_on_commit_callbacks
):
    kind = fellowship()
    application = ApplicationFactory.create(type=kind, programme="Spring 2027")
    services.submit_application(application, by=application.person)
    apprenticeship = ApplicationFactory.create(programme="Nursing Associate")
    services.submit_application(apprenticeship, by=apprenticeship.person)

    queue = officer.get(f"/staff/funding/applications/?type={kind.slug}")
    html = queue.content.decode()
    assert "Spring 2027" in html
    assert "Nursing Associate" not in html
    everything = officer.get("/staff/funding/applications/?type=nonsense")
    assert "Nursing Associate" in everything.content.decode()

    page = officer.get(f"/staff/funding/applications/{application.pk}/")
    assert "Leadership fellowship application from" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(
            f"/staff/funding/applications/{application.pk}/",
            {"decision": "offer", "note": "Welcome to the spring cohort."},
        )
    assert response.status_code == 302
    application.refresh_from_db()
    assert (
        application.status,
        application.decision_note,
        application.decided_by,
    ) == ("offered", "Welcome to the spring cohort.", officer.user)
    [sent] = [m for m in mail.outbox if m.to == [application.person.email]]
    assert sent.subject == "Spring 2027: Offered a place"


def test_learners_list_shows_their_applications_in_few_queries(
    learner_client, django_assert_max_num_queries
):
    for kind in (ApplicationTypeFactory.create(), fellowship()):
        ApplicationFactory.create_batch(5, person=learner_client.user, type=kind)
    with django_assert_max_num_queries(8):
        response = learner_client.get("/applications/")
    html = response.content.decode()
    assert html.count("Leadership fellowship</td>") == 5
    assert html.count("Apprenticeship</td>") == 5


def test_funding_officers_may_add_and_change_types_but_not_delete_used_ones(officer):
    group = Group.objects.get(name=roles.FUNDING_OFFICERS)
    held = set(
        group.permissions.filter(content_type__model="applicationtype").values_list(
            "codename", flat=True
        )
    )
    assert held == {
        "add_applicationtype",
        "change_applicationtype",
        "view_applicationtype",
    }
    assert group.permissions.filter(codename="change_application").exists()
    kind = fellowship()
    ApplicationFactory.create(type=kind)
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    from tests.conftest import give_totp

    give_totp(superuser)
    client = Client()
    client.force_login(superuser)
    response = client.post(
        f"/admin/funding/applicationtype/{kind.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert ApplicationType.objects.filter(pk=kind.pk).exists()
    assert Permission.objects.filter(codename="change_application").exists()
