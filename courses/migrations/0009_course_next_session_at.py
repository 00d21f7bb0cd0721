"""Each course keeps the start of its first scheduled session still to come
(`Course.next_session_at`), so that the catalogue can sort and filter on one
indexed column instead of joining every matching course's sessions.

On PostgreSQL, triggers on courses_session keep it whenever a session is
added, deleted, moved to another time or course, or changes status, whoever
writes (the ORM, bulk inserts, raw SQL). Time passing alone makes it stale
once that session starts; courses.services.refresh_next_sessions moves those
courses on before the catalogue reads them. On the embedded SQLite default the
column stays empty and the catalogue joins sessions as before."""

from django.db import migrations, models

POSTGRESQL_FORWARDS = """
-- The course's next session after `after`. The row is locked first and the
-- minimum read in a later statement, with a snapshot of its own: a writer of
-- another session of the same course waits for this transaction and then
-- sees its sessions (reading first could miss a session added at the same
-- moment by another transaction, and leave the course with no next session).
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

CREATE OR REPLACE FUNCTION courses_session_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM courses_next_session_of(OLD.course_id, now());
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.course_id <> OLD.course_id) THEN
        PERFORM courses_next_session_of(NEW.course_id, now());
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER courses_session_next_insert_delete
    AFTER INSERT OR DELETE ON courses_session
    FOR EACH ROW EXECUTE FUNCTION courses_session_changed();

CREATE TRIGGER courses_session_next_update
    AFTER UPDATE OF starts_at, status, course_id ON courses_session
    FOR EACH ROW
    WHEN (OLD.starts_at IS DISTINCT FROM NEW.starts_at
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.course_id IS DISTINCT FROM NEW.course_id)
    EXECUTE FUNCTION courses_session_changed();

-- Published courses whose next session has started by `after`, moved on to
-- their next one (courses.services.refresh_next_sessions). A course whose
-- row another transaction holds (it is writing that course's sessions) is
-- skipped, never waited for: `pending` then says some are still to move.
-- Planned for each call's `after`: a plan cached for any moment (PL/pgSQL's
-- generic plan, from the sixth call on) reads every course, 25-35 ms at
-- 50,000 courses, where the index answers in a tenth of a millisecond.
CREATE OR REPLACE FUNCTION courses_refresh_next_sessions(after timestamptz)
RETURNS TABLE (moved integer, pending boolean)
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    due bigint;
BEGIN
    moved := 0;
    FOR due IN
        SELECT id FROM courses_course
        WHERE status = 'published' AND next_session_at <= after
        ORDER BY next_session_at, id FOR NO KEY UPDATE SKIP LOCKED
    LOOP
        PERFORM courses_next_session_of(due, after);
        moved := moved + 1;
    END LOOP;
    pending := EXISTS (
        SELECT 1 FROM courses_course
        WHERE status = 'published' AND next_session_at <= after
    );
    RETURN NEXT;
END;
$$ LANGUAGE plpgsql;

UPDATE courses_course c SET next_session_at = (
    SELECT min(s.starts_at) FROM courses_session s
    WHERE s.course_id = c.id AND s.status = 'scheduled' AND s.starts_at > now()
);
"""

POSTGRESQL_BACKWARDS = """
DROP TRIGGER IF EXISTS courses_session_next_update ON courses_session;
DROP TRIGGER IF EXISTS courses_session_next_insert_delete ON courses_session;
DROP FUNCTION IF EXISTS courses_session_changed();
DROP FUNCTION IF EXISTS courses_refresh_next_sessions(timestamptz);
DROP FUNCTION IF EXISTS courses_next_session_of(bigint, timestamptz);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0008_venue_details"),
    ]

    operations = [
        migrations.AddField(
            model_name="course",
            name="next_session_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="course",
            index=models.Index(
                condition=models.Q(("status", "published")),
                fields=["next_session_at", "id"],
                include=["provider", "mode", "price"],
                name="course_published_next",
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
