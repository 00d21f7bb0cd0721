"""A narrow copy of what a catalogue search reads of each published course
(`CourseSearch`: the next session's start, the search vector and the facets),
so that ranking or counting a broad word's matches reads a quarter of the
pages it read in `courses_course`.

On PostgreSQL a trigger on `courses_course` keeps one row per published
course, whoever writes: inserted or updated when a course is published or its
next session, vector or facets change (the other triggers' writes included),
deleted when it is unpublished or deleted (emptied when the courses are
truncated). On the embedded SQLite default the
table stays empty and the catalogue reads the courses."""

import django.contrib.postgres.search
import django.db.models.deletion
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

CREATE TRIGGER courses_course_search_insert_delete
    AFTER INSERT OR DELETE ON courses_course
    FOR EACH ROW EXECUTE FUNCTION courses_course_search_kept();

-- Compared after the BEFORE triggers: the facets trigger rewrites them when
-- a course's mode, price or provider is updated.
CREATE TRIGGER courses_course_search_update
    AFTER UPDATE ON courses_course
    FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.next_session_at IS DISTINCT FROM NEW.next_session_at
          OR OLD.search_vector IS DISTINCT FROM NEW.search_vector
          OR OLD.facets IS DISTINCT FROM NEW.facets)
    EXECUTE FUNCTION courses_course_search_kept();

-- Row triggers do not fire on TRUNCATE, and no foreign key cascades it. A
-- DELETE, not a TRUNCATE: one statement may truncate both tables (Django's
-- flush does), and PostgreSQL refuses to truncate a table again while that
-- statement is using it.
CREATE OR REPLACE FUNCTION courses_course_search_truncated() RETURNS trigger AS $$
BEGIN
    DELETE FROM courses_coursesearch;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER courses_course_search_truncate
    AFTER TRUNCATE ON courses_course
    FOR EACH STATEMENT EXECUTE FUNCTION courses_course_search_truncated();

INSERT INTO courses_coursesearch (course_id, next_session_at, search_vector, facets)
SELECT id, next_session_at, search_vector, facets FROM courses_course
WHERE status = 'published';

CREATE INDEX coursesearch_words_facets_gin ON courses_coursesearch
    USING gin (search_vector, facets);
"""

POSTGRESQL_BACKWARDS = """
DROP TRIGGER IF EXISTS courses_course_search_truncate ON courses_course;
DROP FUNCTION IF EXISTS courses_course_search_truncated();
DROP TRIGGER IF EXISTS courses_course_search_update ON courses_course;
DROP TRIGGER IF EXISTS courses_course_search_insert_delete ON courses_course;
DROP FUNCTION IF EXISTS courses_course_search_kept();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0011_course_facets"),
    ]

    operations = [
        migrations.CreateModel(
            name="CourseSearch",
            fields=[
                (
                    "course",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="courses.course",
                    ),
                ),
                ("next_session_at", models.DateTimeField(null=True)),
                (
                    "search_vector",
                    django.contrib.postgres.search.SearchVectorField(null=True),
                ),
                (
                    "facets",
                    django.contrib.postgres.search.SearchVectorField(null=True),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["next_session_at", "course"], name="coursesearch_next"
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
