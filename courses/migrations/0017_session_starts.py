"""Each published course's search row keeps the starts of its scheduled
sessions still to come, in order (`CourseSearch.session_starts`, a
`timestamptz[]`), kept by the function that keeps its next and last
sessions (0009, 0015), in the same transaction.

Within dates, the catalogue finds each match's first session in range in
it, `session_starts[width_bucket(after, session_starts) + 1]` (a binary
search in the row: `courses.selectors._first_start_in_range`), where it
looked up the sessions of every match whose kept next session was not it:
in the benchmark's catalogue a third of a search's matches, three index
pages each (docs/performance.md, "Tenth round").

The row trigger writes it with the rest of a course's row, so a course
published with sessions has it at once; 0018 fills the rows already
there, a batch at a time."""

import importlib

from django.db import migrations

import courses.models

NEXT_SESSION_OF = """
-- The course's next and last sessions after `after`, and all their starts
-- in order.
-- The row is locked first and the sessions read in a later statement, with
-- a snapshot of its own: a writer of another session of the same course
-- waits for this transaction and then sees its sessions (reading first
-- could miss a session added at the same moment by another transaction).
CREATE OR REPLACE FUNCTION courses_next_session_of(course bigint, after timestamptz)
RETURNS void AS $$
DECLARE
    first_at timestamptz;
    last_at timestamptz;
    all_at timestamptz[];
BEGIN
    PERFORM 1 FROM courses_course WHERE id = course FOR NO KEY UPDATE;
    SELECT min(s.starts_at), max(s.starts_at),
           array_agg(s.starts_at ORDER BY s.starts_at)
    INTO first_at, last_at, all_at
    FROM courses_session s
    WHERE s.course_id = course AND s.status = 'scheduled' AND s.starts_at > after;
    UPDATE courses_course c
    SET next_session_at = first_at, last_session_at = last_at
    WHERE c.id = course
      AND (c.next_session_at IS DISTINCT FROM first_at
           OR c.last_session_at IS DISTINCT FROM last_at);
    -- After the course's own update, whose trigger may have written the row.
    UPDATE courses_coursesearch r SET session_starts = all_at
    WHERE r.course_id = course AND r.session_starts IS DISTINCT FROM all_at;
END;
$$ LANGUAGE plpgsql;
"""

SEARCH_KEPT = """
CREATE OR REPLACE FUNCTION courses_course_search_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM courses_coursesearch WHERE course_id = OLD.id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
        DELETE FROM courses_coursesearch WHERE course_id = OLD.id;
    END IF;
    IF NEW.status <> 'published' THEN
        DELETE FROM courses_coursesearch WHERE course_id = NEW.id;
    ELSE
        INSERT INTO courses_coursesearch
            (course_id, next_session_at, last_session_at, session_starts,
             search_vector, facets, title)
        VALUES (NEW.id, NEW.next_session_at, NEW.last_session_at,
                (SELECT array_agg(s.starts_at ORDER BY s.starts_at)
                 FROM courses_session s
                 WHERE s.course_id = NEW.id AND s.status = 'scheduled'
                   AND s.starts_at > now()),
                NEW.search_vector, NEW.facets, NEW.title)
        ON CONFLICT (course_id) DO UPDATE SET
            next_session_at = EXCLUDED.next_session_at,
            last_session_at = EXCLUDED.last_session_at,
            session_starts = EXCLUDED.session_starts,
            search_vector = EXCLUDED.search_vector,
            facets = EXCLUDED.facets,
            title = EXCLUDED.title;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

POSTGRESQL_FORWARDS = NEXT_SESSION_OF + SEARCH_KEPT

# As migration 0015 left them: its own SQL, which replaces both functions
# and the trigger in place.
POSTGRESQL_BACKWARDS = importlib.import_module(
    "courses.migrations.0015_last_session_at"
).POSTGRESQL_FORWARDS


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0016_fill_last_session_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="coursesearch",
            name="session_starts",
            field=courses.models.InstantsField(editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
