"""SQL time per cold catalogue request, in-process, at one benchmark size.

Asks the catalogue for N addresses of bench_mix's cold mix (the same seed,
so the same addresses every run) with the Django test client, the cache
cleared before each, and times every query. Each address is asked
`--repeat` times and the run with the least SQL kept, which steadies the
figures on a noisy machine. Prints the mean, p50, p90 and max of SQL per
request, the time spent outside SQL, and the SQL by kind of query, with the
slowest addresses of each kind (`--slowest`).

    .venv/bin/python tests/perf/sql_per_request.py --size large [-n 150]
        [--repeat 3] [--slowest 3] [--seed 7]

Needs the database bench_mix.py builds (`--build-only`) and Redis. It prints
figures and exits 0 whatever they are.
"""

import argparse
import collections
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def kind(sql: str) -> str:
    upper = sql.upper()
    if "courses_refresh_next_sessions" in sql:
        return "refresh"
    if "COUNT(" in upper and "subquery" in sql:
        return "count"
    if "courses_coursesearch" in sql and "LIMIT" in upper:
        # A search or a facet filter: its matches in order (CoursesByIds),
        # each one's first session in range worked out within dates ("dated").
        dated = " dated" if "width_bucket" in sql else ""
        return ("ranked ids" if "ts_rank" in sql else "page ids") + dated
    if '"courses_course"."id" IN (' in sql and "LIMIT" not in upper:
        return "page by id"
    if "ts_rank" in sql:
        return "ranked page"
    if 'FROM "courses_course"' in sql and "LIMIT" in upper:
        return "page"
    if "GREATEST" in upper:
        return "places left"
    return "other"


def in_process_arguments(description: str) -> argparse.ArgumentParser:
    """The arguments of a script that asks a benchmark database's catalogue
    in-process (this one, ab_catalogue.py); `in_process_setup` reads them."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--size", choices=["small", "large"], default="large")
    p.add_argument("-n", type=int, default=150)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--database-prefix", default="postgres://postgres@127.0.0.1:5432/cpd_bench_mix"
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    return p


def in_process_setup(args: argparse.Namespace) -> None:
    """Django set up on bench_mix's database of `args.size`."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tests.perf.settings",
        DATABASE_URL=f"{args.database_prefix}_{args.size}",
        REDIS_URL=args.redis_url,
        CELERY_BROKER_URL=args.redis_url,
        DEBUG="0",
        SECRET_KEY="benchmark-only-not-secret",
        ALLOWED_HOSTS="testserver",
        SITE_URL="http://testserver",
        EMAIL_URL="consolemail://",
        LOG_LEVEL="WARNING",
        # Static files are not served here; any directory will do.
        BENCH_STATIC_ROOT=os.environ.get("BENCH_STATIC_ROOT", tempfile.gettempdir()),
    )
    import django

    django.setup()


def main() -> None:
    p = in_process_arguments(__doc__.splitlines()[0])
    p.add_argument("--slowest", type=int, default=3)
    args = p.parse_args()
    in_process_setup(args)
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from courses.models import Provider
    from tests.perf import bench_mix

    providers = [str(pk) for pk in Provider.objects.values_list("pk", flat=True)]
    paths = bench_mix.mix_paths(args.n, providers, seed=args.seed)
    timed: list[tuple[float, str]] = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.append(((time.perf_counter() - started) * 1000, sql))

    client = Client()
    sql_ms, other_ms = [], []
    by_kind: dict[str, list[tuple[float, str]]] = collections.defaultdict(list)
    for path in paths:
        best = None
        for _ in range(args.repeat):
            cache.clear()
            timed.clear()
            started = time.perf_counter()
            with connection.execute_wrapper(record):
                response = client.get(path)
            total = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                sys.exit(f"{path}: {response.status_code}")
            in_sql = sum(ms for ms, _sql in timed)
            if best is None or in_sql < best[0]:
                best = (in_sql, total - in_sql, list(timed))
        sql_ms.append(best[0])
        other_ms.append(best[1])
        for ms, sql in best[2]:
            by_kind[kind(sql)].append((ms, path))

    ordered = sorted(sql_ms)
    print(
        f"{args.size}: {len(paths)} addresses; SQL per request mean "
        f"{statistics.mean(ordered):.1f} ms, p50 {ordered[len(ordered) // 2]:.1f},"
        f" p90 {ordered[int(len(ordered) * 0.9)]:.1f}, max {ordered[-1]:.1f};"
        f" outside SQL mean {statistics.mean(other_ms):.1f} ms"
    )
    for name, rows in sorted(by_kind.items(), key=lambda kv: -sum(m for m, _ in kv[1])):
        print(
            f"  {name:12s} {len(rows):4d} queries, "
            f"{sum(m for m, _ in rows) / len(paths):6.2f} ms per request, "
            f"max {max(m for m, _ in rows):6.1f} ms"
        )
        for ms, path in sorted(rows, reverse=True)[: args.slowest]:
            print(f"      {ms:6.1f} ms  {path}")


if __name__ == "__main__":
    main()
