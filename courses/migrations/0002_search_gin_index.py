from django.db import migrations


def create_index(apps, schema_editor):
    # PostgreSQL only: the embedded SQLite default searches with a contains match.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS course_search_vector_gin "
            "ON courses_course USING gin (search_vector)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS course_search_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("courses", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
