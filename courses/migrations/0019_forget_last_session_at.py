"""Django forgets `last_session_at` (0015) on both tables: since 0017 it is
the last of the starts each search row keeps, so it was the same fact kept
twice, and the catalogue no longer reads it (whether a course has a session
from the first date on is its first start in range being there,
`courses.selectors._first_start_in_range`).

Only Django's state changes. The columns stay and the functions of 0017 go
on writing them, because the previous release filters on
`courses_coursesearch.last_session_at` while a rolling upgrade runs
(tests/config/test_migration_safety.py). A later release drops both
columns and stops writing them, as a `contract` step."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0018_fill_session_starts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="coursesearch", name="last_session_at"
                ),
                migrations.RemoveField(model_name="course", name="last_session_at"),
            ],
            database_operations=[],
        ),
    ]
