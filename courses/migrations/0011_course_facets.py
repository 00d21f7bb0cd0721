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

-- Topics added to or taken from courses: their facets again (the course's
-- own trigger computes them). Once per statement, the courses locked in id
-- order first, so two statements touching the same courses (deleting two
-- topics, say) wait for each other rather than deadlock.
CREATE OR REPLACE FUNCTION courses_topics_changed() RETURNS trigger AS $$
BEGIN
    PERFORM 1 FROM courses_course
    WHERE id IN (SELECT course_id FROM changed)
    ORDER BY id FOR NO KEY UPDATE;
    UPDATE courses_course SET facets = NULL
    WHERE id IN (SELECT course_id FROM changed);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION courses_topics_moved() RETURNS trigger AS $$
BEGIN
    PERFORM 1 FROM courses_course
    WHERE id IN (SELECT course_id FROM changed UNION SELECT course_id FROM gone)
    ORDER BY id FOR NO KEY UPDATE;
    UPDATE courses_course SET facets = NULL
    WHERE id IN (SELECT course_id FROM changed UNION SELECT course_id FROM gone);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER courses_topics_facets_insert
    AFTER INSERT ON courses_course_topics REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION courses_topics_changed();
CREATE TRIGGER courses_topics_facets_delete
    AFTER DELETE ON courses_course_topics REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION courses_topics_changed();
CREATE TRIGGER courses_topics_facets_update
    AFTER UPDATE ON courses_course_topics
    REFERENCING OLD TABLE AS gone NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION courses_topics_moved();

UPDATE courses_course SET facets = NULL;

DROP INDEX IF EXISTS course_search_vector_gin;
CREATE INDEX course_search_facets_gin ON courses_course
    USING gin (search_vector, facets);
"""

POSTGRESQL_BACKWARDS = """
DROP INDEX IF EXISTS course_search_facets_gin;
CREATE INDEX IF NOT EXISTS course_search_vector_gin
    ON courses_course USING gin (search_vector);
DROP TRIGGER IF EXISTS courses_topics_facets_insert ON courses_course_topics;
DROP TRIGGER IF EXISTS courses_topics_facets_delete ON courses_course_topics;
DROP TRIGGER IF EXISTS courses_topics_facets_update ON courses_course_topics;
DROP FUNCTION IF EXISTS courses_topics_moved();
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
