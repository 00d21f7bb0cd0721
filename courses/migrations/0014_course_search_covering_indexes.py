"""`CourseSearch`'s walks in date order and in title order check a course
against the facets in the index (an index-only scan), not in a table row read
for each course they pass.

A page sorted by date, or by title, of a facet filter walks an index in the
page's order and checks each course it passes against the facets. Its rows
lie in date (or title) order there, and all over the table, so each course
passed cost a table page read: a topic's sixteenth page by date at 50,000
courses passed 10,855 courses and read 10,636 pages (27 ms). With the facets
in the index (`INCLUDE`), the check needs nothing else: 98 pages (1.6 ms).
The title index is new: a facet filter's page by title walked the wide
course table's title index before (docs/performance.md, "Ninth round").

The search vector is not included: a btree index entry holds at most 2,704
bytes, and a course's description has no length limit (300 distinct words
made a 12,200-byte vector), so saving such a course would fail. The facets
are a few short lexemes (a course's topics, provider, mode and price).

`coursesearch_next` keeps its name and its key. The new indexes are built
first (a lock that lets reads go on, and holds writes to this table, kept by
the course triggers, for the build: under a second at 50,000 courses); the
old index is dropped and the new one takes its name last, so the drop's
lock, which stops reads, is held only until the migration commits. On the
embedded SQLite, where the table stays empty, they are plain indexes
(`INCLUDE` is PostgreSQL's)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0013_course_search_title"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="coursesearch",
            index=models.Index(
                fields=["next_session_at", "course"],
                include=["facets"],
                name="coursesearch_next_covering",
            ),
        ),
        migrations.AddIndex(
            model_name="coursesearch",
            index=models.Index(
                fields=["title", "course"],
                include=["next_session_at", "facets"],
                name="coursesearch_title",
            ),
        ),
        migrations.RemoveIndex(model_name="coursesearch", name="coursesearch_next"),
        migrations.RenameIndex(
            model_name="coursesearch",
            new_name="coursesearch_next",
            old_name="coursesearch_next_covering",
        ),
    ]
