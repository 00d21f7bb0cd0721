"""Publishing a version of the privacy notice stamps when it was published and
nothing else: a published version keeps its first date, and an edit to the
draft saved by someone else meanwhile is not overwritten by the copy being
published."""

import pytest
from django.utils import timezone

from consent import services
from consent.models import PolicyVersion

pytestmark = pytest.mark.django_db


def draft() -> PolicyVersion:
    return PolicyVersion.objects.create(
        kind="privacy", version="9.0", body="## Old\nText.", summary_of_changes="Old."
    )


def test_publishing_stamps_the_time_and_keeps_an_edit_saved_meanwhile():
    policy = draft()
    PolicyVersion.objects.filter(pk=policy.pk).update(
        body="## New\nText.", summary_of_changes="New."
    )
    before = timezone.now()
    services.publish_policy(policy)
    policy.refresh_from_db()
    assert before <= policy.published_at <= timezone.now()
    assert (policy.body, policy.summary_of_changes) == ("## New\nText.", "New.")


def test_publishing_again_keeps_the_first_publication_date():
    policy = draft()
    services.publish_policy(policy)
    first = PolicyVersion.objects.get(pk=policy.pk).published_at
    services.publish_policy(PolicyVersion.objects.get(pk=policy.pk))
    assert PolicyVersion.objects.get(pk=policy.pk).published_at == first
