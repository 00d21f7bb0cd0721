"""Each course keeps the start of its last scheduled session still to come
too (`Course.last_session_at`, copied to `CourseSearch`), kept by the same
triggers as `next_session_at` (0009) in the same statement.

Within dates, the catalogue looks up each match's first session in range
(`courses.selectors._matches_in_order`), except where the kept next session
is it. A course whose last session is before the first date has none in
range: it is left out without a lookup. In the benchmark's catalogue that
halves the lookups of a search from a date a month or more ahead (docs/
performance.md, "Ninth round").

From here the triggers keep it; 0016 fills it for the courses already
there, a batch at a time, so that this migration's locks (adding the
columns stops reads of both tables until it commits) last a moment."""

from django.db import migrations, models

NEXT_SESSION_OF = """
-- The course's next and last sessions after `after`. The row is locked
-- first and the sessions read in a later statement, with a snapshot of its
-- own: a writer of another session of the same course waits for this
-- transaction and then sees its sessions (reading first could miss a
-- session added at the same moment by another transaction).
CREATE OR REPLACE FUNCTION courses_next_session_of(course bigint, after timestamptz)
RETURNS void AS $$
BEGIN
    PERFORM 1 FROM courses_course WHERE id = course FOR NO KEY UPDATE;
    UPDATE courses_course c
    SET next_session_at = n.first_at, last_session_at = n.last_at
    FROM (
        SELECT min(s.starts_at) AS first_at, max(s.starts_at) AS last_at
        FROM courses_session s
        WHERE s.course_id = course AND s.status = 'scheduled' AND s.starts_at > after
    ) n
    WHERE c.id = course
      AND (c.next_session_at IS DISTINCT FROM n.first_at
           OR c.last_session_at IS DISTINCT FROM n.last_at);
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
            (course_id, next_session_at, last_session_at, search_vector,
             facets, title)
        VALUES (NEW.id, NEW.next_session_at, NEW.last_session_at,
                NEW.search_vector, NEW.facets, NEW.title)
        ON CONFLICT (course_id) DO UPDATE SET
            next_session_at = EXCLUDED.next_session_at,
            last_session_at = EXCLUDED.last_session_at,
            search_vector = EXCLUDED.search_vector,
            facets = EXCLUDED.facets,
            title = EXCLUDED.title;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Replaced in place: dropping it would lock the courses against reads
-- until the migration commits.
CREATE OR REPLACE TRIGGER courses_course_search_update
    AFTER UPDATE ON courses_course
    FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.next_session_at IS DISTINCT FROM NEW.next_session_at
          OR OLD.last_session_at IS DISTINCT FROM NEW.last_session_at
          OR OLD.search_vector IS DISTINCT FROM NEW.search_vector
          OR OLD.facets IS DISTINCT FROM NEW.facets
          OR OLD.title IS DISTINCT FROM NEW.title)
    EXECUTE FUNCTION courses_course_search_kept();
"""

POSTGRESQL_FORWARDS = NEXT_SESSION_OF + SEARCH_KEPT

# As migrations 0009 and 0013 left them.
POSTGRESQL_BACKWARDS = """
CREATE OR REPLACE FUNCTION courses_next_session_of(course bigint, after timestamptz)
RETURNS void AS $$
BEGIN
    PERFORM 1 FROM courses_course WHERE id = course FOR NO KEY UPDATE;
    UPDATE courses_course c SET next_session_at = n.starts_at
    FROM (
        SELECT min(s.starts_at) AS starts_at FROM courses_session s
        WHERE s.course_id = course AND s.status = 'scheduled' AND s.starts_at > after
    ) n
    WHERE c.id = course AND c.next_session_at IS DISTINCT FROM n.starts_at;
END;
$$ LANGUAGE plpgsql;

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
            (course_id, next_session_at, search_vector, facets, title)
        VALUES (NEW.id, NEW.next_session_at, NEW.search_vector, NEW.facets,
                NEW.title)
        ON CONFLICT (course_id) DO UPDATE SET
            next_session_at = EXCLUDED.next_session_at,
            search_vector = EXCLUDED.search_vector,
            facets = EXCLUDED.facets,
            title = EXCLUDED.title;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER courses_course_search_update
    AFTER UPDATE ON courses_course
    FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.next_session_at IS DISTINCT FROM NEW.next_session_at
          OR OLD.search_vector IS DISTINCT FROM NEW.search_vector
          OR OLD.facets IS DISTINCT FROM NEW.facets
          OR OLD.title IS DISTINCT FROM NEW.title)
    EXECUTE FUNCTION courses_course_search_kept();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0014_course_search_covering_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="course",
            name="last_session_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="coursesearch",
            name="last_session_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
