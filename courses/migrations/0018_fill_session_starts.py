"""Fills `CourseSearch.session_starts` (0017) for the rows already there:
0016's fill run again, now that the function it calls for each course with
a session to come (`courses_next_session_of`) writes that column too. A
batch of 500 courses at a time, each in a transaction of its own (the
function locks a batch's courses, then reads their sessions, so a session
written meanwhile is not missed).

Not atomic: run again after a failure, it fills what is left (the function
writes only a row whose value differs). PostgreSQL only."""

import importlib

from django.db import migrations

fill = importlib.import_module("courses.migrations.0016_fill_last_session_at")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("courses", "0017_session_starts"),
    ]

    operations = [
        migrations.RunPython(
            fill.forwards, migrations.RunPython.noop, elidable=False
        ),
    ]
