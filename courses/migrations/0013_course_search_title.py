"""`CourseSearch` keeps each published course's title too, so that a search
or filter sorted by title sorts its matches in the narrow table, as ranked
and dated ones do, instead of reading the wide course rows.

The trigger of 0012 copies the title, and its update trigger fires when the
title changes; the rows already there are filled from their courses."""

from django.db import migrations, models

POSTGRESQL_FORWARDS = """
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

-- Replaced in place: dropping it would lock the courses against reads
-- until the migration commits.
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

UPDATE courses_coursesearch s SET title = c.title
FROM courses_course c WHERE c.id = s.course_id;
"""

# As migration 0012 left them.
POSTGRESQL_BACKWARDS = """
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
            (course_id, next_session_at, search_vector, facets)
        VALUES (NEW.id, NEW.next_session_at, NEW.search_vector, NEW.facets)
        ON CONFLICT (course_id) DO UPDATE SET
            next_session_at = EXCLUDED.next_session_at,
            search_vector = EXCLUDED.search_vector,
            facets = EXCLUDED.facets;
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
          OR OLD.search_vector IS DISTINCT FROM NEW.search_vector
          OR OLD.facets IS DISTINCT FROM NEW.facets)
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
        ("courses", "0012_course_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="coursesearch",
            name="title",
            field=models.CharField(db_default="", max_length=200),
        ),
        migrations.RunPython(forwards, backwards),
    ]
