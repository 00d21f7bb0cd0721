"""The apprenticeship applications made before application types survive the
migration that generalises them, and the release before it can still write
its table while the upgrade runs. Migrates the funding app back and forth on
the test database (transactional: run with --create-db afterwards)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from funding.models import Application, FundingEvent
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("funding", "0005_request_withdraw_documents_reminder")]
AFTER = [("funding", "0007_apprenticeship_type_for_existing_applications")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_apprenticeship_applications_survive_and_get_their_type():
    person = UserFactory.create()
    officer = UserFactory.create(is_staff=True)
    try:
        old = migrate(BEFORE)
        OldApplication = old.get_model("funding", "ApprenticeshipApplication")
        row = OldApplication.objects.create(
            person_id=person.pk,
            programme="Nursing Associate (level 5)",
            employer_name="Westmoor Surgery",
            manager_name="Maria Manager",
            manager_email="maria@practice.example",
            statement="I want to grow into nursing.",
            status="submitted",
            decision_note="",
        )
        old.get_model("funding", "FundingEvent").objects.create(
            application_id=row.pk, from_status="draft", to_status="submitted"
        )
        # An officer held the old permission directly, not through a role.
        # As on a database the previous release set up (a test database is
        # made from today's models, which no longer have the old name).
        content_type, _ = old.get_model(
            "contenttypes", "ContentType"
        ).objects.get_or_create(app_label="funding", model="apprenticeshipapplication")
        change_old, _ = old.get_model("auth", "Permission").objects.get_or_create(
            content_type=content_type,
            codename="change_apprenticeshipapplication",
            defaults={"name": "Can change apprenticeship application"},
        )
        old.get_model("accounts", "User").objects.get(
            pk=officer.pk
        ).user_permissions.add(change_old)
        group = old.get_model("auth", "Group").objects.create(name="Old reviewers")
        group.permissions.add(change_old)

        new = migrate(AFTER)
        # The release still serving writes its old model into the same table.
        during = (
            migrate_state(BEFORE)
            .get_model("funding", "ApprenticeshipApplication")
            .objects.create(
                person_id=person.pk,
                programme="Written by the old release",
                employer_name="W",
                manager_name="M",
                manager_email="m@practice.example",
                statement="S",
            )
        )
        assert new.get_model("funding", "Application").objects.count() == 2
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("funding"))

    migrated = Application.objects.select_related("type").get(pk=row.pk)
    assert (
        migrated.type.slug,
        migrated.type.name,
        migrated.type.subject_label,
        migrated.type.needs_manager,
        migrated.type.is_open,
    ) == (
        "apprenticeship",
        "Apprenticeship",
        "Which apprenticeship programme are you interested in?",
        True,
        True,
    )
    assert (
        migrated.person,
        migrated.programme,
        migrated.employer_name,
        migrated.manager_name,
        migrated.manager_email,
        migrated.statement,
        migrated.status,
    ) == (
        person,
        "Nursing Associate (level 5)",
        "Westmoor Surgery",
        "Maria Manager",
        "maria@practice.example",
        "I want to grow into nursing.",
        "submitted",
    )
    assert list(
        FundingEvent.objects.filter(application=migrated).values_list(
            "to_status", flat=True
        )
    ) == ["submitted"]
    # The row the old release wrote is an apprenticeship too, once seen.
    late = Application.objects.get(pk=during.pk)
    assert (late.type, late.type_name) == (None, "Apprenticeship")
    assert (
        type(officer).objects.get(pk=officer.pk).has_perm("funding.change_application")
    )
    assert (
        Group.objects.get(name="Old reviewers")
        .permissions.filter(codename="change_application")
        .exists()
    )
    assert Permission.objects.filter(codename="change_apprenticeshipapplication")


def migrate_state(targets):
    """The models as the previous release knew them, without migrating."""
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(targets).apps
