""" "Complete your profile": workplace and job title are asked for after
sign-up (the first sign-in), shown on the account page as a task and on "My
bookings" as a banner until given; "I'll do this later" skips it."""

import re

import pytest
from django.core import mail

from accounts.models import Membership, Organisation, Profile, User
from tests.accounts.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password"
FACTORY_PASSWORD = "correct-horse-battery"


def sign_up_and_confirm(client, email="ada@school.example") -> User:
    client.post(
        "/accounts/signup/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body)
    response = client.post(link.group(0).replace("http://testserver", ""))
    return User.objects.get(email=email), response


def test_confirming_the_sign_up_leads_to_complete_your_profile(client):
    _user, response = sign_up_and_confirm(client)
    assert response.status_code == 302
    assert response["Location"] == "/profile/complete/"
    html = client.get(response["Location"]).content.decode()
    assert '<h1 class="govuk-heading-l">Complete your profile</h1>' in html
    assert 'href="/profile/"' in html
    assert "I\N{RIGHT SINGLE QUOTATION MARK}ll do this later" in html


def test_saving_the_step_records_workplace_and_job_title(client):
    school = OrganisationFactory.create(name="Westmoor Primary School")
    user, _response = sign_up_and_confirm(client)
    response = client.post(
        "/profile/complete/",
        {"organisation": school.pk, "job_title": " Teaching assistant "},
    )
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    profile = Profile.objects.get(user=user)
    assert profile.organisation == school
    assert profile.job_title == "Teaching assistant"
    # Choosing a workplace asks to join it, as it does from the details page.
    assert Membership.objects.filter(person=user, organisation=school).exists()
    page = client.get("/profile/").content.decode()
    assert "Complete your profile" not in page
    assert "Your profile is complete." in page


def test_a_workplace_not_in_the_list_can_be_named(client):
    user, _response = sign_up_and_confirm(client)
    client.post(
        "/profile/complete/",
        {"new_organisation_name": "Hillside Surgery", "job_title": "Practice nurse"},
    )
    assert Profile.objects.get(user=user).organisation == Organisation.objects.get(
        name="Hillside Surgery"
    )


def test_an_empty_step_says_what_to_enter(client):
    sign_up_and_confirm(client)
    html = client.post("/profile/complete/", {}).content.decode()
    assert "<title>Error: Complete your profile" in html
    assert html.index("govuk-error-summary") < html.index("<h1")
    assert (
        '<a href="#id_organisation">Choose your workplace, or enter its name if '
        "it is not in the list</a>" in html
    )
    assert '<a href="#id_job_title">Enter your job title</a>' in html


def test_the_step_goes_on_to_a_safe_next_page_only(client):
    school = OrganisationFactory.create()
    sign_up_and_confirm(client)
    response = client.post(
        "/profile/complete/?next=https://evil.example/",
        {"organisation": school.pk, "job_title": "Nurse"},
    )
    assert response["Location"] == "/profile/"
    page = client.get("/profile/complete/?next=/bookings/")
    assert page.status_code == 302
    assert page["Location"] == "/bookings/"


def test_skipping_leaves_the_task_on_the_account_page_and_a_banner_on_my_bookings(
    client,
):
    sign_up_and_confirm(client)
    account = client.get("/profile/").content.decode()
    task = re.search(r'<ul class="govuk-task-list">.*?</ul>', account, re.S).group(0)
    assert 'href="/profile/complete/"' in task
    assert "Complete your profile" in task
    assert "Your workplace and job title" in task
    assert "Incomplete" in task
    bookings = client.get("/bookings/").content.decode()
    assert "govuk-notification-banner" in bookings
    assert 'href="/profile/complete/?next=/bookings/"' in bookings
    # Other pages do not nag.
    assert (
        "govuk-notification-banner__link"
        not in client.get("/courses/").content.decode()
    )


def test_the_banner_and_task_go_once_both_are_given(client):
    person = UserFactory.create(email="done@school.example")
    profile = Profile.objects.get_or_create(user=person)[0]
    profile.organisation = OrganisationFactory.create()
    profile.job_title = "Teacher"
    profile.save()
    client.force_login(person)
    assert "govuk-task-list" not in client.get("/profile/").content.decode()
    assert "Complete your profile" not in client.get("/bookings/").content.decode()


def test_only_the_missing_part_is_named(client):
    person = UserFactory.create()
    Profile.objects.update_or_create(user=person, defaults={"job_title": "Teacher"})
    client.force_login(person)
    account = client.get("/profile/").content.decode()
    assert "Your workplace, which paid places" in account


def test_a_later_sign_in_is_not_diverted(client, verified_user):
    verified_user.last_login = verified_user.date_joined
    verified_user.save(update_fields=["last_login"])
    response = client.post(
        "/accounts/login/",
        {"login": verified_user.email, "password": FACTORY_PASSWORD},
    )
    assert response["Location"] == "/"


def test_a_first_sign_in_with_a_destination_is_not_diverted(client, verified_user):
    response = client.post(
        "/accounts/login/?next=/bookings/",
        {"login": verified_user.email, "password": FACTORY_PASSWORD},
    )
    assert response["Location"] == "/bookings/"


def test_staff_are_not_diverted(client):
    from allauth.account.models import EmailAddress

    staff = UserFactory.create(is_staff=True)
    EmailAddress.objects.create(
        user=staff, email=staff.email, primary=True, verified=True
    )
    response = client.post(
        "/accounts/login/", {"login": staff.email, "password": FACTORY_PASSWORD}
    )
    assert "/profile/complete/" not in response["Location"]


def test_the_step_needs_a_sign_in(client):
    response = client.get("/profile/complete/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
