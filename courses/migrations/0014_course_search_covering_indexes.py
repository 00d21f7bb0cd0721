"""`CourseSearch`'s walks in date order and in title order check a course
against the facets in the index (an index-only scan), not in a table row read
for each course they pass.

A page sorted by date, or by title, of a facet filter walks an index in the
page's order and checks each course it passes against the facets. Its rows
lie in date (or title) order there, and all over the table, so each course
passed cost a table page read: a topic's sixteenth page by date at 50,000
courses passed 10,855 courses and read 10,636 pages (27 ms). With the facets
in the index (`INCLUDE`), the check needs nothing else: 98 pages (1.6 ms).
The title index is new: a page by title walked the wide course table's
title index before (docs/performance.md, "Ninth round").

The search vector is not included: a btree index entry holds at most 2,704
bytes, and a course's description has no length limit (300 distinct words
made a 12,200-byte vector), so saving such a course would fail. The facets
are a few short lexemes (a course's topics, provider, mode and price).

`coursesearch_next` keeps its name and its key, so Django's state (which
cannot say `INCLUDE` on the embedded SQLite) is unchanged. The new index is
built before the old one is dropped: building takes a lock that lets reads
go on; the drop's lock, which stops them, is held only until the migration
commits. PostgreSQL only, as the table is kept only there."""

from django.db import migrations

POSTGRESQL_FORWARDS = """
CREATE INDEX coursesearch_next_covering ON courses_coursesearch
    (next_session_at, course_id) INCLUDE (facets);
DROP INDEX coursesearch_next;
ALTER INDEX coursesearch_next_covering RENAME TO coursesearch_next;
CREATE INDEX coursesearch_title ON courses_coursesearch
    (title, course_id) INCLUDE (next_session_at, facets);
"""

POSTGRESQL_BACKWARDS = """
DROP INDEX IF EXISTS coursesearch_title;
CREATE INDEX coursesearch_next_plain ON courses_coursesearch
    (next_session_at, course_id);
DROP INDEX coursesearch_next;
ALTER INDEX coursesearch_next_plain RENAME TO coursesearch_next;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0013_course_search_title"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
