"""Each course keeps what the catalogue filters on besides words and dates
(`Course.facets`: its topics, provider, mode and "free", as lexemes), indexed
with the search vector in one GIN index. A search with filters is then one
index lookup that reads only the courses matching all of them, rather than
every course matching the broadest one (a word, a topic) checked for the rest.

On PostgreSQL, triggers keep it whenever a course's mode, price or provider
changes and whenever a topic is added to or taken from it, whoever writes.
On the embedded SQLite default the column stays empty and the catalogue
filters on the columns as before."""

import django.contrib.postgres.search
from django.db import migrations

POSTGRESQL_FORWARDS = """
CREATE OR REPLACE FUNCTION courses_facets(
    course bigint, mode text, price numeric, provider bigint
) RETURNS tsvector AS $$
    SELECT array_to_tsvector(
        ARRAY['m' || replace(coalesce(mode, ''), '_', ''),
              'p' || coalesce(provider::text, '')]
        || CASE WHEN price = 0 THEN ARRAY['free'] ELSE ARRAY[]::text[] END
        || ARRAY(SELECT 't' || ct.topic_id FROM courses_course_topics ct
                 WHERE ct.course_id = course)
    )
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION courses_course_facets() RETURNS trigger AS $$
BEGIN
    NEW.facets := courses_facets(NEW.id, NEW.mode, NEW.price, NEW.provider_id);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER courses_course_facets
    BEFORE INSERT OR UPDATE OF mode, price, provider_id, facets ON courses_course
    FOR EACH ROW EXECUTE FUNCTION courses_course_facets();

-- A topic added to or taken from a course: its facets again (the course's
-- own trigger computes them).
CREATE OR REPLACE FUNCTION courses_topics_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE courses_course SET facets = NULL WHERE id = OLD.course_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE courses_course SET facets = NULL WHERE id = NEW.course_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER courses_topics_facets
    AFTER INSERT OR DELETE OR UPDATE ON courses_course_topics
    FOR EACH ROW EXECUTE FUNCTION courses_topics_changed();

UPDATE courses_course SET facets = NULL;

DROP INDEX IF EXISTS course_search_vector_gin;
CREATE INDEX course_search_facets_gin ON courses_course
    USING gin (search_vector, facets);
"""

POSTGRESQL_BACKWARDS = """
DROP INDEX IF EXISTS course_search_facets_gin;
CREATE INDEX IF NOT EXISTS course_search_vector_gin
    ON courses_course USING gin (search_vector);
DROP TRIGGER IF EXISTS courses_topics_facets ON courses_course_topics;
DROP TRIGGER IF EXISTS courses_course_facets ON courses_course;
DROP FUNCTION IF EXISTS courses_topics_changed();
DROP FUNCTION IF EXISTS courses_course_facets();
DROP FUNCTION IF EXISTS courses_facets(bigint, text, numeric, bigint);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0010_session_start_course_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="course",
            name="facets",
            field=django.contrib.postgres.search.SearchVectorField(
                editable=False, null=True
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
