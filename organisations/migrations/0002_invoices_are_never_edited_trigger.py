"""Issued invoices and credit notes are never edited or deleted, in the
database itself: triggers refuse every UPDATE and DELETE of
`organisations_invoice` and `organisations_invoiceline`, whoever sends it. Two
updates are allowed, each with nothing else changed: `issued_by_id` becoming
NULL (Django's `SET_NULL` when a staff account is deleted) and a line's
`attendee_name` becoming empty (erasure of that person: the invoice is kept
under the finance hold, without their name). TRUNCATE is not blocked (row
triggers do not fire on it): test databases are flushed that way."""

from django.db import migrations

POSTGRESQL_FORWARDS = """
CREATE OR REPLACE FUNCTION organisations_invoice_never_edited() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.issued_by_id IS NULL
        AND (to_jsonb(NEW) - 'issued_by_id') = (to_jsonb(OLD) - 'issued_by_id')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'organisations_invoice is never edited: % refused; issue a credit note', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER organisations_invoice_never_edited
    BEFORE UPDATE OR DELETE ON organisations_invoice
    FOR EACH ROW EXECUTE FUNCTION organisations_invoice_never_edited();

CREATE OR REPLACE FUNCTION organisations_invoiceline_never_edited() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.attendee_name = ''
        AND (to_jsonb(NEW) - 'attendee_name') = (to_jsonb(OLD) - 'attendee_name')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'organisations_invoiceline is never edited: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER organisations_invoiceline_never_edited
    BEFORE UPDATE OR DELETE ON organisations_invoiceline
    FOR EACH ROW EXECUTE FUNCTION organisations_invoiceline_never_edited();
"""

POSTGRESQL_BACKWARDS = """
DROP TRIGGER IF EXISTS organisations_invoice_never_edited ON organisations_invoice;
DROP FUNCTION IF EXISTS organisations_invoice_never_edited();
DROP TRIGGER IF EXISTS organisations_invoiceline_never_edited ON organisations_invoiceline;
DROP FUNCTION IF EXISTS organisations_invoiceline_never_edited();
"""


def _same(columns: tuple[str, ...]) -> str:
    return " AND ".join(f"NEW.{c} IS OLD.{c}" for c in columns)


INVOICE_COLUMNS = (
    "id",
    "number",
    "kind",
    "organisation_id",
    "organisation_name",
    "period_start",
    "period_end",
    "purchase_order",
    "credits_invoice_id",
    "vat_rate",
    "net_total",
    "vat_amount",
    "total",
    "issued_at",
)
LINE_COLUMNS = (
    "id",
    "invoice_id",
    "transaction_id",
    "description",
    "purchase_order",
    "amount",
)
SQLITE_FORWARDS = [
    """
CREATE TRIGGER organisations_invoice_no_delete BEFORE DELETE ON organisations_invoice
BEGIN
    SELECT RAISE(ABORT, 'organisations_invoice is never edited: DELETE refused');
END;
""",
    f"""
CREATE TRIGGER organisations_invoice_no_update BEFORE UPDATE ON organisations_invoice
WHEN NOT (NEW.issued_by_id IS NULL AND {_same(INVOICE_COLUMNS)})
BEGIN
    SELECT RAISE(ABORT, 'organisations_invoice is never edited: UPDATE refused');
END;
""",
    """
CREATE TRIGGER organisations_invoiceline_no_delete
BEFORE DELETE ON organisations_invoiceline
BEGIN
    SELECT RAISE(ABORT, 'organisations_invoiceline is never edited: DELETE refused');
END;
""",
    f"""
CREATE TRIGGER organisations_invoiceline_no_update
BEFORE UPDATE ON organisations_invoiceline
WHEN NOT (NEW.attendee_name = '' AND {_same(LINE_COLUMNS)})
BEGIN
    SELECT RAISE(ABORT, 'organisations_invoiceline is never edited: UPDATE refused');
END;
""",
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS organisations_invoice_no_delete;",
    "DROP TRIGGER IF EXISTS organisations_invoice_no_update;",
    "DROP TRIGGER IF EXISTS organisations_invoiceline_no_delete;",
    "DROP TRIGGER IF EXISTS organisations_invoiceline_no_update;",
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
    dependencies = [("organisations", "0001_invoices_and_credit_notes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
