"""The rules of `record_consent` as a person or staff member meets them: the
message they are shown, and exactly what is stored."""

import pytest

from consent import selectors, services
from consent.models import ConsentRecord, PolicyVersion

pytestmark = pytest.mark.django_db


def test_an_unknown_purpose_is_refused_with_a_message(verified_user):
    with pytest.raises(services.ConsentError) as refused:
        services.record_consent(
            verified_user,
            "fundraising",
            "email",
            True,
            ConsentRecord.Source.PREFERENCES,
        )
    assert str(refused.value) == "That purpose cannot use that channel."
    assert not ConsentRecord.objects.filter(person=verified_user).exists()


def test_a_channel_the_purpose_does_not_use_is_refused(verified_user):
    with pytest.raises(services.ConsentError) as refused:
        services.record_consent(
            verified_user, "partner_marketing", "sms", True, "preferences"
        )
    assert str(refused.value) == "That purpose cannot use that channel."


def test_staff_must_say_how_the_person_told_them(verified_user, first_policies):
    with pytest.raises(services.ConsentError) as refused:
        services.record_consent(
            verified_user, "marketing", "post", True, "staff", note="   "
        )
    assert str(refused.value) == (
        "Add a note saying how the person told you their choice."
    )
    assert not ConsentRecord.objects.filter(person=verified_user).exists()


def test_a_choice_without_a_note_stores_no_note(verified_user, first_policies):
    record = services.record_consent(
        verified_user, "marketing", "email", True, "preferences"
    )
    record.refresh_from_db()
    assert record.note == ""
    assert record.policy_version == selectors.policy_current(PolicyVersion.Kind.PRIVACY)


def test_a_long_staff_note_is_kept_to_500_characters(verified_user, first_policies):
    record = services.record_consent(
        verified_user, "marketing", "phone", False, "staff", note=" " + "n" * 600
    )
    record.refresh_from_db()
    assert record.note == "n" * 500


def test_a_seen_notice_is_remembered_in_the_database(verified_user, first_policies):
    policy = selectors.policy_current(PolicyVersion.Kind.PRIVACY)
    services.mark_policy_seen(verified_user, policy)
    assert verified_user.privacy_version_seen == policy.pk
    verified_user.refresh_from_db()
    assert verified_user.privacy_version_seen == policy.pk
