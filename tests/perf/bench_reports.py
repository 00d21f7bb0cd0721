"""Benchmark of the reports (reports/) on a large data set.

Builds, once, in the database named by DATABASE_URL (migrated first), with
INSERT ... SELECT generate_series (no Python loop over rows): 200,000 people
with profiles (equality answers spread over every choice), 500 workplaces,
5,000 courses with 20,000 sessions over two years, 1,000,000 bookings and
20,000 funding requests with 5,000 payments. Then runs every report (each
grouping) over a 12-month range a few times and prints, per report, the
number of queries and the median time. A benchmark that prints figures, not
a test: it exits 0 whatever they are.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python tests/perf/bench_reports.py [--runs 5] [--fresh] [--explain]

`--fresh` drops the generated rows and builds them again. `--explain` prints
PostgreSQL's plan (EXPLAIN ANALYZE) of each report's main query.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from reports import selectors  # noqa: E402

PEOPLE = 200_000
ORGANISATIONS = 500
COURSES = 5_000
SESSIONS = 20_000
BOOKINGS = 1_000_000
REQUESTS = 20_000
PAYMENTS = 5_000
MARK = "bench-reports"  # in provider and stream names, to find our rows


def _columns(table: str) -> list[tuple[str, str, bool, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable = 'YES', "
            "column_default IS NOT NULL OR is_identity = 'YES' "
            "FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        return cursor.fetchall()


_FILLER = {
    "boolean": "false",
    "integer": "0",
    "smallint": "0",
    "bigint": "0",
    "numeric": "0",
    "jsonb": "'[]'::jsonb",
    "timestamp with time zone": "now()",
    "date": "current_date",
}


def insert(table: str, n: int, values: dict[str, str]) -> None:
    """INSERT n rows into `table` from generate_series(1, n) AS g: the given
    SQL expressions, and a plain filler for every other NOT NULL column."""
    names, exprs = [], []
    for name, kind, nullable, has_default in _columns(table):
        if name in values:
            names.append(name)
            exprs.append(values[name])
        elif not nullable and not has_default:
            names.append(name)
            exprs.append(_FILLER.get(kind, "''"))
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 - our own names
        f"SELECT {', '.join(exprs)} FROM generate_series(1, {n}) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _one(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def built() -> bool:
    return bool(
        _one(f"SELECT count(*) FROM courses_provider WHERE name LIKE '{MARK}%'")  # noqa: S608
    )


def drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE funding_payment, funding_fundingrequest, funding_fundinground, "
            "funding_fundingstream, bookings_booking, courses_session, "
            "courses_course_topics, courses_course, courses_topic, courses_provider, "
            "accounts_profile, accounts_organisation CASCADE"
        )
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE 'bench%'")


def build() -> None:
    t0 = time.monotonic()
    kinds = "(ARRAY['school','practice','pcn','trust','local_authority','care_home','other'])"
    insert(
        "accounts_organisation",
        ORGANISATIONS,
        {
            "name": f"'{MARK} org ' || g",
            "kind": f"{kinds}[1 + g % 7]",
            "area": "'Area ' || (g % 12)",
            "created_at": "now()",
            "approval_hold_days": "5",
        },
    )
    first_org = _one("SELECT min(id) FROM accounts_organisation")
    insert(
        "accounts_user",
        PEOPLE,
        {
            "email": "'bench' || g || '@example.org'",
            "password": "'!'",
            "first_name": "'Pat'",
            "last_name": "'Bench'",
            "is_active": "true",
            "date_joined": "now()",
        },
    )
    first_user = _one("SELECT min(id) FROM accounts_user WHERE email LIKE 'bench%'")
    insert(
        "accounts_profile",
        PEOPLE,
        {
            "user_id": f"{first_user} + g - 1",
            "organisation_id": f"CASE WHEN g % 10 = 0 THEN NULL ELSE {first_org} + g % {ORGANISATIONS} END",
            "job_title": "(ARRAY['GP','Practice nurse','Teacher','Pharmacist','Receptionist','','Paramedic'])[1 + g % 7]",
            "gender": "(ARRAY['woman','man','non_binary','other','prefer_not_to_say',''])[1 + g % 6]",
            "year_of_birth": "CASE WHEN g % 9 = 0 THEN NULL ELSE 1950 + g % 55 END",
            "year_of_birth_withheld": "g % 9 = 0 AND g % 2 = 0",
            "ethnicity": "(ARRAY['white','mixed','asian','black','other','prefer_not_to_say',''])[1 + g % 7]",
            "disability": "(ARRAY['yes','no','prefer_not_to_say',''])[1 + g % 4]",
            "updated_at": "now()",
        },
    )
    insert(
        "courses_provider",
        50,
        {"name": f"'{MARK} provider ' || g", "kind": "'internal'"},
    )
    first_provider = _one("SELECT min(id) FROM courses_provider")
    insert(
        "courses_topic",
        30,
        {"name": f"'{MARK} topic ' || g", "slug": f"'{MARK}-topic-' || g"},
    )
    first_topic = _one("SELECT min(id) FROM courses_topic")
    insert(
        "courses_course",
        COURSES,
        {
            "slug": f"'{MARK}-course-' || g",
            "title": "'Course ' || g",
            "summary": "'A course.'",
            "provider_id": f"{first_provider} + g % 50",
            "mode": "'in_person'",
            "status": "'published'",
            "cpd_hours": "3",
            "price": "0",
            "cancellation_deadline_hours": "48",
            "waitlist_mode": "'automatic'",
            "offer_hours": "24",
            "minimum_notice_days": "7",
            "created_at": "now()",
            "updated_at": "now()",
        },
    )
    first_course = _one("SELECT min(id) FROM courses_course")
    # Two topics per course.
    insert(
        "courses_course_topics",
        COURSES * 2,
        {
            "course_id": f"{first_course} + (g - 1) / 2",
            "topic_id": f"{first_topic} + ((g - 1) / 2 + (g % 2) * 7) % 30",
        },
    )
    insert(
        "courses_session",
        SESSIONS,
        {
            "course_id": f"{first_course} + g % {COURSES}",
            "starts_at": "timestamptz '2025-01-01 09:00+00' + (g % 730) * interval '1 day'",
            "ends_at": "timestamptz '2025-01-01 12:00+00' + (g % 730) * interval '1 day'",
            "capacity": "60",
            "status": "CASE WHEN g % 40 = 0 THEN 'cancelled' ELSE 'scheduled' END",
            "minimum_attendees": "0",
        },
    )
    first_session = _one("SELECT min(id) FROM courses_session")
    per_session = BOOKINGS // SESSIONS
    statuses = (
        "(ARRAY['attended','attended','attended','attended','attended','attended',"
        "'attended','attended','attended','attended','no_show','no_show','confirmed',"
        "'confirmed','confirmed','cancelled','cancelled','waitlisted','offered',"
        "'awaiting_approval'])"
    )
    insert(
        "bookings_booking",
        BOOKINGS,
        {
            "person_id": f"{first_user} + ((g - 1) % {SESSIONS} * {per_session} "
            f"+ (g - 1) / {SESSIONS}) % {PEOPLE}",
            "session_id": f"{first_session} + (g - 1) % {SESSIONS}",
            "status": f"{statuses}[1 + (g * 7) % 20]",
            "created_at": "now()",
            "updated_at": "now()",
        },
    )
    insert(
        "funding_fundingstream",
        3,
        {"name": f"'{MARK} stream ' || g", "annual_allowance": "333"},
    )
    first_stream = _one("SELECT min(id) FROM funding_fundingstream")
    insert(
        "funding_fundinground",
        12,
        {
            "stream_id": f"{first_stream} + g % 3",
            "name": "'Round ' || g",
            "opens_on": "date '2025-01-01' + g * 60",
            "closes_on": "date '2025-01-01' + g * 60 + 30",
        },
    )
    first_round = _one("SELECT min(id) FROM funding_fundinground")
    insert(
        "funding_fundingrequest",
        REQUESTS,
        {
            "person_id": f"{first_user} + (g * 13) % {PEOPLE}",
            "round_id": f"{first_round} + g % 12",
            "course_name": "'Module ' || (g % 400)",
            "provider_id": f"CASE WHEN g % 3 = 0 THEN NULL ELSE {first_provider} + g % 50 END",
            "provider_name": "'University ' || (g % 20)",
            "cost": "100 + g % 900",
            "organisation_id": f"{first_org} + g % {ORGANISATIONS}",
            "status": "(ARRAY['approved','approved','declined','under_review','not_supported','closed'])[1 + g % 6]",
            "amount_approved": "CASE WHEN g % 6 IN (0, 1, 5) THEN 100 + g % 900 END",
            "submitted_at": "timestamptz '2025-01-01 09:00+00' + (g % 730) * interval '1 day'",
            "created_at": "now()",
            "updated_at": "now()",
        },
    )
    first_request = _one("SELECT min(id) FROM funding_fundingrequest")
    insert(
        "funding_payment",
        PAYMENTS,
        {
            "request_id": f"{first_request} + (g * 6) % {REQUESTS}",
            "amount": "50",
            "paid_on": "date '2025-06-01'",
            "recorded_at": "now()",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Built the data set in {time.monotonic() - t0:.0f} s")


def reports(start: dt.date, end: dt.date):
    for by in selectors.BOOKING_GROUPS:
        yield (
            f"bookings by {by}",
            lambda by=by: selectors.bookings_table(start=start, end=end, by=by),
        )
    # As downloaded for commissioners: with suppression worked out.
    for by in selectors.BOOKING_GROUPS:
        yield (
            f"bookings by {by}, suppressed",
            lambda by=by: selectors.bookings_table(
                start=start, end=end, by=by, suppressed=True
            ),
        )
    yield (
        "fill rate per session",
        lambda: (
            selectors.fill_table(start=start, end=end),
            selectors.fill_bands(start=start, end=end),
        ),
    )
    yield (
        "sessions at risk",
        lambda: selectors.sessions_at_risk(now=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)),
    )
    for by in selectors.FUNDING_GROUPS:
        yield (
            f"funding by {by}",
            lambda by=by: selectors.funding_table(start=start, end=end, by=by),
        )
    for by in selectors.WORKFORCE_GROUPS:
        yield (
            f"workforce by {by}",
            lambda by=by: selectors.workforce_table(start=start, end=end, by=by),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if args.fresh and built():
        drop()
    if not built():
        build()
    counts = {
        t: _one(f"SELECT count(*) FROM {t}")  # noqa: S608
        for t in (
            "accounts_user",
            "bookings_booking",
            "courses_session",
            "funding_fundingrequest",
        )
    }
    print("Rows:", ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    start, end = dt.date(2025, 7, 1), dt.date(2026, 6, 30)
    print(f"Range: {start} to {end}; median of {args.runs} runs\n")
    print(f"{'report':36} {'queries':>7} {'median':>9} {'rows':>6}")
    for name, run in reports(start, end):
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                table = run()
                times.append(time.perf_counter() - t0)
        print(
            f"{name:36} {len(queries.captured_queries):>7} "
            f"{statistics.median(times) * 1000:>7.0f}ms {len(table.rows):>6}"
        )
        if args.explain:
            with connection.cursor() as cursor:
                for q in queries.captured_queries:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                    print("\n".join("    " + r[0] for r in cursor.fetchall()))
    pages(start, end, args.runs)
    return 0


def pages(start: dt.date, end: dt.date, runs: int) -> None:
    """The same through the views: the page (rendered) and its XLSX download
    (built and audited), as a superuser."""
    from django.test import RequestFactory

    from accounts.models import User
    from reports import views

    reader, _ = User.objects.get_or_create(
        email="bench-reader@example.org",
        defaults={"is_superuser": True, "is_staff": True},
    )
    span = {"from": f"{start:%Y-%m-%d}", "to": f"{end:%Y-%m-%d}"}
    cases = [
        ("bookings by course", views.bookings_report_view, "course"),
        ("bookings by month", views.bookings_report_view, "month"),
        ("fill rate and at risk", views.fill_report_view, ""),
        ("funding by course", views.funding_report_view, "course"),
        ("workforce by age band", views.workforce_report_view, "age_band"),
    ]
    print(f"\n{'page / download':36} {'queries':>7} {'median':>9} {'bytes':>9}")
    for name, view, by in cases:
        for fmt in ("", "xlsx"):
            query = {**span, **({"by": by} if by else {})}
            if fmt:
                query["download"] = fmt
            times = []
            for _ in range(runs):
                request = RequestFactory().get("/", query)
                request.user = reader
                with CaptureQueriesContext(connection) as queries:
                    t0 = time.perf_counter()
                    response = view(request)
                    times.append(time.perf_counter() - t0)
            label = f"{name}{' (XLSX)' if fmt else ' (page)'}"
            print(
                f"{label:36} {len(queries.captured_queries):>7} "
                f"{statistics.median(times) * 1000:>7.0f}ms {len(response.content):>9}"
            )


if __name__ == "__main__":
    sys.exit(main())
