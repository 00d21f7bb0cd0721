"""The ledger is append-only in the database itself: a trigger refuses every
UPDATE and DELETE of `bookings_transaction`, whoever sends it (the ORM, raw SQL,
a console). The one update allowed is `created_by_id` becoming NULL with nothing
else changed: Django's `on_delete=SET_NULL` when a staff account is deleted.
Erasure never updates the ledger (the person link stays on the anonymised
account). TRUNCATE is not blocked (row triggers do not fire on it): test
databases are flushed that way."""

from django.db import migrations

POSTGRESQL_FORWARDS = """
CREATE OR REPLACE FUNCTION bookings_transaction_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.created_by_id IS NULL
        AND (to_jsonb(NEW) - 'created_by_id') = (to_jsonb(OLD) - 'created_by_id')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'bookings_transaction is append-only: % refused; add a correcting entry', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER bookings_transaction_append_only
    BEFORE UPDATE OR DELETE ON bookings_transaction
    FOR EACH ROW EXECUTE FUNCTION bookings_transaction_append_only();
"""

POSTGRESQL_BACKWARDS = """
DROP TRIGGER IF EXISTS bookings_transaction_append_only ON bookings_transaction;
DROP FUNCTION IF EXISTS bookings_transaction_append_only();
"""

# The embedded SQLite default gets the same rule, column by column.
_SAME = " AND ".join(
    f"NEW.{c} IS OLD.{c}"
    for c in (
        "id",
        "person_id",
        "booking_id",
        "organisation_id",
        "kind",
        "amount",
        "description",
        "reference",
        "created_at",
    )
)
SQLITE_FORWARDS = [
    """
CREATE TRIGGER bookings_transaction_no_delete BEFORE DELETE ON bookings_transaction
BEGIN
    SELECT RAISE(ABORT, 'bookings_transaction is append-only: DELETE refused');
END;
""",
    f"""
CREATE TRIGGER bookings_transaction_no_update BEFORE UPDATE ON bookings_transaction
WHEN NOT (NEW.created_by_id IS NULL AND {_SAME})
BEGIN
    SELECT RAISE(ABORT, 'bookings_transaction is append-only: UPDATE refused');
END;
""",
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS bookings_transaction_no_delete;",
    "DROP TRIGGER IF EXISTS bookings_transaction_no_update;",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARDS, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARDS:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARDS, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARDS:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0004_outbox_retry_at_and_gave_up")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
