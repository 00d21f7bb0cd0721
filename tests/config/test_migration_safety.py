"""Every migration can run while the previous release is still serving
(rolling upgrades: `make upgrade` migrates, then the new code starts).

The previous release's code does not know a new column, so it inserts rows
without it: a new NOT NULL column must have a database default (`db_default`)
or allow NULL. It still reads and writes the old columns and tables, so
dropping or renaming one (RemoveField, DeleteModel, RenameField, RenameModel,
AlterModelTable, or SQL that drops or renames a column or table) is a
"contract" step: allowed only in a release after the one that stopped using
it, and marked on the migration with `contract = "<why it is safe now>"`.

Migrations written before this check (listed in BEFORE_THIS_CHECK) added
NOT NULL columns with only a Python default; they are history. A new one
cannot.
"""

import re

from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

OURS = {
    "accounts",
    "bookings",
    "consent",
    "courses",
    "funding",
    "marketing",
    "organisations",
    "payments",
    "privacy",
    "products",
    "analytics",
    "reports",
}

BEFORE_THIS_CHECK = {
    ("accounts", "0003_privacy_flags"),
    ("accounts", "0004_import_source"),
    ("accounts", "0006_deactivation_second_approver"),
    ("accounts", "0007_membership_organisation_approval_hold_days_and_more"),
    ("bookings", "0002_offers_certificates_evaluations_staff_log"),
    ("bookings", "0003_import_source"),
    ("bookings", "0007_booking_approval_expires_at_and_more"),
    ("bookings", "0008_mail_retry_horizon"),
    ("bookings", "0009_transaction_means_and_provider_reference"),
    ("courses", "0003_cancellation_deadline"),
    ("courses", "0004_waitlist_mode_and_minimum_numbers"),
    ("funding", "0004_mail_retry_horizon"),
    ("marketing", "0003_delivery_retries"),
    ("privacy", "0002_erasure_second_approver"),
}

DESTRUCTIVE = (
    migrations.RemoveField,
    migrations.DeleteModel,
    migrations.RenameField,
    migrations.RenameModel,
    migrations.AlterModelTable,
)
DESTRUCTIVE_SQL = re.compile(
    r"\b(DROP\s+(COLUMN|TABLE)|RENAME\s+(COLUMN|TO))\b", re.IGNORECASE
)


def _operations(operations):
    for op in operations:
        if isinstance(op, migrations.SeparateDatabaseAndState):
            yield from _operations(op.database_operations)
        else:
            yield op


def _sql(op) -> str:
    sql = op.sql
    if isinstance(sql, list | tuple):
        return " ".join(s if isinstance(s, str) else s[0] for s in sql)
    return str(sql)


def our_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app in OURS:
            yield app, name, migration


def unsafe(migration) -> list[str]:
    created = {
        op.name.lower()
        for op in _operations(migration.operations)
        if isinstance(op, migrations.CreateModel)
    }
    found = []
    for op in _operations(migration.operations):
        if isinstance(op, migrations.AddField) and op.model_name not in created:
            field = op.field
            if (
                not field.null
                and not field.many_to_many
                and field.db_default is models.NOT_PROVIDED
            ):
                found.append(
                    f"AddField {op.model_name}.{op.name} is NOT NULL without "
                    "db_default: the previous release's inserts would fail"
                )
        if isinstance(op, DESTRUCTIVE) and not getattr(migration, "contract", ""):
            found.append(f"{type(op).__name__} without a `contract` reason")
        if (
            isinstance(op, migrations.RunSQL)
            and DESTRUCTIVE_SQL.search(_sql(op))
            and not getattr(migration, "contract", "")
        ):
            found.append("RunSQL drops or renames a column or table without `contract`")
    return found


def test_every_migration_is_safe_while_the_previous_release_serves():
    problems = [
        f"{app}.{name}: {problem}"
        for app, name, migration in our_migrations()
        if (app, name) not in BEFORE_THIS_CHECK
        for problem in unsafe(migration)
    ]
    assert problems == [], "\n".join(problems)


def test_the_history_list_names_only_real_migrations_that_need_it():
    known = {(app, name): m for app, name, m in our_migrations()}
    assert set(known) >= BEFORE_THIS_CHECK
    for key in BEFORE_THIS_CHECK:
        assert unsafe(known[key]), f"{key} is safe: take it off BEFORE_THIS_CHECK"


def test_the_check_finds_what_it_is_for():
    class Unsafe(migrations.Migration):
        operations = [
            migrations.AddField("course", "level", models.IntegerField(default=1)),
            migrations.RemoveField("course", "summary"),
            migrations.RunSQL("ALTER TABLE courses_course DROP COLUMN summary"),
        ]

    class Safe(migrations.Migration):
        operations = [
            migrations.AddField("course", "level", models.IntegerField(db_default=1)),
            migrations.AddField("course", "note", models.TextField(null=True)),
            migrations.CreateModel("Tag", [("id", models.AutoField(primary_key=True))]),
            migrations.AddField("tag", "name", models.TextField()),
        ]

    class Contract(migrations.Migration):
        contract = "1.9 stopped reading course.summary"
        operations = [migrations.RemoveField("course", "summary")]

    assert len(unsafe(Unsafe("0099_unsafe", "courses"))) == 3
    assert unsafe(Safe("0099_safe", "courses")) == []
    assert unsafe(Contract("0099_contract", "courses")) == []
