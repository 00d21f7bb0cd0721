import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts import roles
from consent import selectors, services
from consent.models import ConsentRecord, PolicyVersion
from tests.accounts.factories import UserFactory
from tests.conftest import give_totp

pytestmark = pytest.mark.django_db

SIGNUP = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@school.example",
    "password1": "a-long-enough-password",
    "password2": "a-long-enough-password",
}


def test_sign_up_offers_unticked_choices_and_records_them(client):
    html = client.get("/accounts/signup/").content.decode()
    for label in (
        "Email me offers",
        "Text me offers",
        "Phone me with offers",
        "Post me offers and news",
        "Post me offers from partner",
    ):
        assert label in html
    assert "checked" not in html
    client.post("/accounts/signup/", {**SIGNUP, "marketing__email": "on"})
    person = ConsentRecord.objects.first().person
    assert selectors.can_contact(person, "email", "marketing")
    assert not selectors.can_contact(person, "sms", "marketing")
    assert not selectors.can_contact(person, "post", "partner_marketing")
    records = ConsentRecord.objects.filter(person=person)
    assert records.count() == 5
    assert set(records.values_list("source", flat=True)) == {"signup"}
    assert records.first().policy_version == selectors.policy_current("privacy")


def test_withdrawal_on_the_preferences_page_applies_at_once_and_shows_in_history(
    client,
):
    person = UserFactory.create()
    services.record_consent(person, "marketing", "email", True, "signup")
    client.force_login(person)
    page = client.get("/preferences/").content.decode()
    assert 'name="marketing__email"' in page
    assert "Sign-up form" in page
    client.post("/preferences/", {"marketing__post": "on"})
    assert not selectors.can_contact(person, "email", "marketing")
    assert selectors.can_contact(person, "post", "marketing")
    history = client.get("/preferences/").content.decode()
    assert history.count("Preferences page") == 2
    assert "Sign-up form" in history


def test_unchanged_preferences_record_nothing(client):
    person = UserFactory.create()
    client.force_login(person)
    client.post("/preferences/", {})
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    ("flag", "purpose", "allowed"),
    [
        ("processing_restricted", "marketing", False),
        ("processing_restricted", "analytics", False),
        ("objects_to_direct_marketing", "marketing", False),
        ("objects_to_direct_marketing", "analytics", True),
        ("is_active", "marketing", False),
    ],
)
def test_can_contact_respects_restriction_objection_and_inactive_accounts(
    flag, purpose, allowed
):
    person = UserFactory.create()
    channel = "web" if purpose == "analytics" else "email"
    services.record_consent(person, purpose, channel, True, "preferences")
    setattr(person, flag, flag != "is_active")
    person.save()
    assert selectors.can_contact(person, channel, purpose) is allowed


def test_consent_records_are_append_only():
    person = UserFactory.create()
    record = services.record_consent(person, "marketing", "email", True, "preferences")
    record.granted = False
    with pytest.raises(ValueError, match="append-only"):
        record.save()
    with pytest.raises(ValueError, match="append-only"):
        record.delete()
    with pytest.raises(ValueError, match="append-only"):
        ConsentRecord.objects.filter(pk=record.pk).update(granted=False)
    with pytest.raises(ValueError, match="append-only"):
        ConsentRecord.objects.filter(pk=record.pk).delete()
    assert ConsentRecord.objects.get(pk=record.pk).granted is True


def test_no_code_path_updates_or_deletes_consent_records():
    """Only erasure (the privacy app and each app's privacy.py) may rewrite them."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.glob("*/**/*.py"):
        if any(
            part in (".venv", "node_modules", "tests", "migrations", "mutants")
            for part in path.parts
        ):
            continue
        text = path.read_text()
        if (
            "ConsentRecord" in text
            and path.parts[-2] != "privacy"
            and path.name != "privacy.py"
        ):
            for needle in (".update(", ".delete(", "bulk_update", "_raw_delete"):
                for line in text.splitlines():
                    if needle in line and (
                        "ConsentRecord" in line or "consent_records" in line
                    ):
                        offenders.append(f"{path}: {line.strip()}")
    assert offenders == []


def test_staff_record_a_choice_with_a_mandatory_note():
    admin = UserFactory.create(is_staff=True)
    admin.groups.add(Group.objects.get(name=roles.DATA_PROTECTION_LEAD))
    give_totp(admin)
    client = Client()
    client.force_login(admin)
    person = UserFactory.create()
    data = {
        "person": person.pk,
        "purpose": "marketing",
        "channel": "phone",
        "granted": "on",
    }
    response = client.post("/admin/consent/consentrecord/add/", data)
    assert "Enter how the person told you" in response.content.decode()
    assert not ConsentRecord.objects.exists()
    client.post(
        "/admin/consent/consentrecord/add/", {**data, "note": "Phone call 3 March"}
    )
    record = ConsentRecord.objects.get()
    assert (record.source, record.recorded_by, record.note) == (
        "staff",
        admin,
        "Phone call 3 March",
    )
    client.force_login(person)
    assert (
        "Staff on your behalf (Phone call 3 March)"
        in client.get("/preferences/").content.decode()
    )


def test_privacy_notice_comes_from_versions_and_purposes(client):
    html = client.get("/privacy/").content.decode()
    old = selectors.policy_current("privacy")
    assert f"Version {old.version}" in html
    assert "Legal obligation" in html
    assert "Consent" in html
    assert "Contract" in html
    new = PolicyVersion.objects.create(
        kind="privacy",
        version="2.0",
        body="## New\nText two.",
        summary_of_changes="Added partner offers.",
    )
    assert "Version 2.0" not in client.get("/privacy/").content.decode()  # a draft
    services.publish_policy(new)
    html = client.get("/privacy/").content.decode()
    assert "Version 2.0" in html
    assert "Added partner offers." in html
    old_page = client.get(f"/privacy/versions/{old.pk}/").content.decode()
    assert "This is an earlier version" in old_page


def test_signed_in_people_are_told_of_a_new_notice_once(client):
    from django.core.cache import cache

    person = UserFactory.create()
    current = selectors.policy_current("privacy")
    person.privacy_version_seen = current.pk
    person.save()
    client.force_login(person)
    new = PolicyVersion.objects.create(
        kind="privacy",
        version="2.0",
        body="x",
        summary_of_changes="We now post partner offers.",
    )
    services.publish_policy(new)
    cache.delete("consent:privacy-current")
    first = client.get("/courses/").content.decode()
    assert "We have updated our privacy notice. We now post partner offers." in first
    second = client.get("/courses/").content.decode()
    assert "We have updated our privacy notice" not in second


ANALYTICS_COOKIE = "cpd_analytics_id"


def test_no_analytics_cookie_before_acceptance_or_after_rejection_or_with_gpc(client):
    response = client.get("/")
    assert ANALYTICS_COOKIE not in response.cookies
    html = response.content.decode()
    assert "Accept analytics cookies" in html
    assert "Reject analytics cookies" in html
    response = client.post("/cookies/", {"analytics": "reject", "next": "/courses/"})
    assert response["Location"] == "/courses/"
    assert client.cookies["cookie_choice"].value == "rejected"
    response = client.get("/")
    assert ANALYTICS_COOKIE not in response.cookies
    assert "Accept analytics cookies" not in response.content.decode()

    gpc = Client(headers={"Sec-GPC": "1"})
    gpc.cookies["cookie_choice"] = "accepted"
    response = gpc.get("/")
    assert ANALYTICS_COOKIE not in response.cookies
    assert "Accept analytics cookies" not in response.content.decode()


def test_accepting_sets_the_analytics_cookie_and_records_consent_when_signed_in(client):
    person = UserFactory.create()
    client.force_login(person)
    client.post("/cookies/", {"analytics": "accept", "next": "https://evil.example/"})
    response = client.get("/")
    assert ANALYTICS_COOKIE in response.cookies
    assert selectors.can_contact(person, "web", "analytics")
    client.post("/cookies/", {"analytics": "reject"})
    response = client.get("/")
    assert response.cookies[ANALYTICS_COOKIE].value == ""  # deleted
    assert not selectors.can_contact(person, "web", "analytics")
    sources = set(ConsentRecord.objects.values_list("source", flat=True))
    assert sources == {"cookie_banner"}


def test_a_bad_cookie_choice_is_a_message_not_an_error(client):
    response = client.post("/cookies/", {"analytics": "maybe"}, follow=True)
    assert response.status_code == 200
    assert "Choose whether to accept analytics cookies." in response.content.decode()


def test_a_withdrawal_on_the_account_beats_an_old_accepted_cookie(client):
    def analytics_id(response) -> str:
        cookie = response.cookies.get(ANALYTICS_COOKIE)
        return cookie.value if cookie else ""

    person = UserFactory.create()
    client.force_login(person)
    client.post("/cookies/", {"analytics": "accept"})
    assert analytics_id(client.get("/")) != ""
    # Later, on another device or the preferences page, they withdraw.
    services.update_preferences(
        person, {("analytics", "web"): False}, source="preferences"
    )
    assert client.cookies["cookie_choice"].value == "accepted"  # the old cookie
    response = client.get("/")
    assert ANALYTICS_COOKIE in response.cookies  # told to remove it
    assert analytics_id(response) == ""
    del client.cookies[ANALYTICS_COOKIE]  # as a browser does
    assert analytics_id(client.get("/")) == ""  # and it is not set again
    # Signed out (Django's test client then forgets every cookie), the
    # browser's own choice applies again.
    client.logout()
    client.cookies["cookie_choice"] = "accepted"
    assert analytics_id(client.get("/")) != ""
