"""An index of the trigrams of organisations' names, so that finding a
workplace by part of its name (`accounts.selectors.organisations_matching`)
need not read every organisation. PostgreSQL only; pg_trgm is one of its
own extensions and a trusted one, so the database's owner may create it. A
database where it cannot be created (or is installed where its operator
class is not found) keeps working without the index: the search then reads
every organisation."""

from django.db import migrations

INDEX = (
    "CREATE INDEX IF NOT EXISTS organisation_name_trgm ON accounts_organisation "
    "USING gin (upper(name::text) gin_trgm_ops)"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                cursor.execute("SAVEPOINT trgm")
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cursor.execute("RELEASE SAVEPOINT trgm")
            except Exception:  # no right to create it: search without the index
                cursor.execute("ROLLBACK TO SAVEPOINT trgm")
                return
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute("SAVEPOINT trgm_index")
            cursor.execute(INDEX)
            cursor.execute("RELEASE SAVEPOINT trgm_index")
        except Exception:  # pg_trgm in a schema not searched: no index either
            cursor.execute("ROLLBACK TO SAVEPOINT trgm_index")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS organisation_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_account_closure")]

    operations = [migrations.RunPython(create_index, drop_index)]
