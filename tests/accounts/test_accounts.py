import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from accounts import roles
from accounts.models import Organisation, Profile, User
from tests.accounts.factories import OrganisationFactory, UserFactory
from tests.conftest import give_totp

pytestmark = pytest.mark.django_db


def test_role_groups_exist_with_their_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert set(roles.ROLE_PERMISSIONS) <= names
    course_admins = Group.objects.get(name=roles.COURSE_ADMINS)
    codes = set(course_admins.permissions.values_list("codename", flat=True))
    assert {"add_course", "change_session", "change_provider"} <= codes
    dpo = Group.objects.get(name=roles.DATA_PROTECTION_LEAD)
    assert "view_user" in set(dpo.permissions.values_list("codename", flat=True))


def test_sign_up_sends_a_verification_mail_and_login_waits_for_it(client):
    response = client.post(
        "/accounts/signup/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "Ada@School.example",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="ada@school.example")
    assert user.first_name == "Ada"
    assert Profile.objects.filter(user=user).exists()
    assert len(mail.outbox) == 1
    link = re.search(
        r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body
    ).group(0)
    # Not verified yet: logging in is refused and points to the mail.
    response = client.post(
        "/accounts/login/",
        {"login": "ada@school.example", "password": "a-long-enough-password"},
    )
    assert response.status_code == 302
    assert "/accounts/confirm-email/" in response["Location"]
    client.post(link.replace("http://testserver", ""))
    response = client.get("/profile/")
    assert response.status_code == 200


def test_sign_up_errors_are_summarised_and_tied_to_their_fields(client):
    response = client.post(
        "/accounts/signup/", {"email": "not-an-email", "password1": "x"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="govuk-error-summary"' in html
    assert 'href="#id_email"' in html
    assert 'aria-describedby="id_email_error"' in html or "id_email_error" in html
    assert 'id="id_email_error"' in html


def test_repeated_failed_logins_are_rate_limited_with_a_clear_message(
    client, verified_user
):
    for _ in range(5):
        client.post(
            "/accounts/login/", {"login": verified_user.email, "password": "wrong"}
        )
    response = client.post(
        "/accounts/login/", {"login": verified_user.email, "password": "wrong"}
    )
    assert "You have tried to sign in too many times" in response.content.decode()


def test_profile_saves_details_and_a_new_workplace(learner_client):
    response = learner_client.post(
        "/profile/edit/",
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "job_title": "Practice nurse",
            "new_organisation_name": "  Riverside   Surgery ",
            "phone": "01632 960 001",
            "address_line_1": "1 High Street",
            "town": "Westmoor",
            "postcode": "wm1 2ab",
        },
    )
    assert response.status_code == 302
    page = learner_client.get("/profile/").content.decode()
    for text in (
        "Grace Hopper",
        "Practice nurse",
        "Riverside Surgery",
        "01632 960 001",
        "WM1 2AB",
    ):
        assert text in page
    assert Organisation.objects.filter(name="Riverside Surgery").count() == 1


def test_profile_refuses_a_bad_postcode_and_keeps_saved_data(learner_client):
    org = OrganisationFactory.create()
    learner_client.post(
        "/profile/edit/",
        {
            "first_name": "A",
            "last_name": "B",
            "organisation": org.pk,
            "postcode": "WM1 2AB",
        },
    )
    response = learner_client.post(
        "/profile/edit/",
        {"first_name": "A", "last_name": "B", "postcode": "not a postcode"},
    )
    assert response.status_code == 200
    assert "Enter a full UK postcode" in response.content.decode()
    profile = Profile.objects.get(user=learner_client.user)
    assert profile.postcode == "WM1 2AB"
    assert profile.organisation == org


def test_equality_answers_offer_prefer_not_to_say_and_are_saved(learner_client):
    page = learner_client.get("/profile/equality/").content.decode()
    assert page.count("Prefer not to say") >= 4
    assert "only reported as totals" in page
    learner_client.post(
        "/profile/equality/",
        {
            "gender": "prefer_not_to_say",
            "year_of_birth": "prefer_not_to_say",
            "ethnicity": "asian",
            "disability": "no",
        },
    )
    profile = Profile.objects.get(user=learner_client.user)
    assert profile.gender == "prefer_not_to_say"
    assert profile.year_of_birth is None
    assert profile.year_of_birth_withheld
    assert profile.ethnicity == "asian"


def test_staff_without_mfa_are_sent_to_set_it_up_before_the_admin_opens(client):
    staff = UserFactory.create(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    give_totp(staff)
    assert client.get("/admin/").status_code == 200


def test_admin_login_goes_through_the_account_sign_in(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert response.status_code == 200


def test_equality_data_never_appears_in_the_admin_user_list(client):
    admin = UserFactory.create(is_staff=True, is_superuser=True)
    give_totp(admin)
    person = UserFactory.create(first_name="Equality", last_name="Subject")
    Profile.objects.create(
        user=person,
        gender="non_binary",
        ethnicity="mixed",
        disability="yes",
        year_of_birth=1977,
    )
    client.force_login(admin)
    html = client.get("/admin/accounts/user/").content.decode()
    assert "Equality" in html
    for leaked in (
        "Non-binary",
        "Mixed or multiple",
        "year_of_birth",
        "gender",
        "ethnicity",
        "disability",
    ):
        assert leaked not in html
    # Searching by an equality value finds nobody.
    html = client.get("/admin/accounts/user/?q=non_binary").content.decode()
    assert "Subject" not in html
    change = client.get(f"/admin/accounts/user/{person.pk}/change/").content.decode()
    # On the field, not a digit string: "1977" can be part of a permission id.
    assert "ethnicity" not in change
    assert 'name="year_of_birth"' not in change
    # Permission and group choices are <option value="id">: an id can be 1977.
    outside_choices = re.sub(r"<option value=\"\d+\"[^>]*>[^<]*</option>", "", change)
    assert "1977" not in outside_choices


def test_role_holders_need_mfa_for_staff_pages_too(client):
    from tests.courses.factories import SessionFactory

    session = SessionFactory.create()
    holder = UserFactory.create()  # no staff flag, but a back-office role
    holder.groups.add(Group.objects.get(name=roles.BOOKING_ADMINS))
    client.force_login(holder)
    response = client.get(f"/staff/sessions/{session.pk}/")
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    give_totp(holder)
    assert client.get(f"/staff/sessions/{session.pk}/").status_code == 200
    learner = UserFactory.create()
    client.force_login(learner)
    assert client.get(f"/staff/sessions/{session.pk}/").status_code == 403


def test_a_forgotten_password_can_be_reset_by_mail(client, verified_user):
    client.post("/accounts/password/reset/", {"email": verified_user.email})
    assert len(mail.outbox) == 1
    link = re.search(
        r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[0].body
    ).group(0)
    response = client.get(link.replace("http://testserver", ""), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(
        form_url.replace("http://testserver", ""),
        {"password1": "a-brand-new-password-9", "password2": "a-brand-new-password-9"},
    )
    assert response.status_code == 302
    verified_user.refresh_from_db()
    assert verified_user.check_password("a-brand-new-password-9")


def test_direct_permissions_also_need_mfa_on_staff_pages(client):
    from django.contrib.auth.models import Permission

    holder = UserFactory.create()
    holder.user_permissions.add(
        Permission.objects.get(codename="change_fundingrequest")
    )
    client.force_login(holder)
    response = client.get("/staff/funding/")
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_person_can_add_and_confirm_a_new_email_address(learner_client):
    learner_client.post(
        "/accounts/email/", {"action_add": "", "email": "new@work.example"}
    )
    link = re.search(
        r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body
    ).group(0)
    learner_client.post(link.replace("http://testserver", ""))
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(email="new@work.example").verified
