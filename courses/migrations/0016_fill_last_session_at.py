"""Fills `Course.last_session_at` (0015) for the courses already there, by
the function the triggers use, a batch of courses at a time, each batch in
a transaction of its own: a batch locks its courses (a booking of one of
them waits for it, a fraction of a second), then reads their sessions, so a
session written meanwhile is not missed. The course triggers copy the
values to `CourseSearch`.

Not atomic: run again after a failure, it fills what is left (the function
writes only a course whose values differ). PostgreSQL only."""

from django.db import migrations

BATCH = 500


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    after = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT id FROM courses_course WHERE id > %s"
                " AND next_session_at IS NOT NULL ORDER BY id LIMIT %s",
                [after, BATCH],
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return
            # Autocommit (the migration is not atomic): one transaction each.
            cursor.execute(
                "SELECT courses_next_session_of(id, now())"
                " FROM unnest(%s::bigint[]) AS id",
                [ids],
            )
            after = ids[-1]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("courses", "0015_last_session_at"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
    ]
