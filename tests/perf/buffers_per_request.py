"""PostgreSQL's pages read per cold catalogue request, in-process, at one
benchmark size: a figure that does not drift with the machine's speed.

Asks the catalogue for N addresses of bench_mix's cold mix (`--start` into
its list of 40,000, the same addresses at both sizes and in every run on
the same day, as their dates count from today) with
the Django test client, the cache cleared before each, and runs every
catalogue query once more under `EXPLAIN (ANALYZE, BUFFERS)`. Prints the
pages read (shared buffers hit or read) per request, in all and by kind of
query (`sql_per_request.kind`), with the time PostgreSQL took to execute
them (as `EXPLAIN ANALYZE` times it, which adds its own cost per row), and
the addresses that read the most.
Timings on a shared machine move by a fifth from one minute to the next;
the pages a plan reads do not, so a change to a query or an index can be
judged from one run at each size (docs/performance.md, "Ninth round").

    .venv/bin/python tests/perf/buffers_per_request.py --size large
        [-n 400] [--start 5000] [--top 10] [--json FILE]

Needs the databases bench_mix.py builds (`--build-only`) and Redis. It prints
figures and exits 0 whatever they are.
"""

import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.sql_per_request import (
    in_process_arguments,
    in_process_setup,
    kind,
)


def main() -> None:
    p = in_process_arguments(__doc__.splitlines()[0])
    p.set_defaults(n=400)
    p.add_argument("--start", type=int, default=5000)
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--json", help="write each address's queries and pages here")
    args = p.parse_args()
    in_process_setup(args)
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from courses.models import Provider
    from tests.perf import bench_mix

    providers = [str(pk) for pk in Provider.objects.values_list("pk", flat=True)]
    paths = bench_mix.mix_paths(40_000, providers, seed=15)
    paths = paths[args.start : args.start + args.n]
    read: dict[str, list[tuple[str, int, float]]] = {}
    current: list[tuple[str, int, float]] = []

    def record(execute, sql, params, many, context):
        # Not the refresh: it writes (moves courses on), so it runs once.
        name = kind(sql)
        reads = sql.lstrip().upper().startswith(("SELECT", "WITH"))
        if not many and name != "refresh" and reads:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
                (plan,) = cursor.fetchone()
                (explained,) = json.loads(plan) if isinstance(plan, str) else plan
                top = explained["Plan"]
                pages = top.get("Shared Hit Blocks", 0) + top.get(
                    "Shared Read Blocks", 0
                )
                current.append((name, pages, explained["Execution Time"]))
        return execute(sql, params, many, context)

    client = Client()
    for path in paths:
        cache.clear()
        current = []
        with connection.execute_wrapper(record):
            response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"{path}: {response.status_code}")
        read[path] = current

    by_kind: dict[str, list[tuple[int, float]]] = collections.defaultdict(list)
    for queries in read.values():
        for name, pages, ms in queries:
            by_kind[name].append((pages, ms))
    n = len(paths)
    total = sum(p for v in by_kind.values() for p, _ms in v)
    took = sum(ms for v in by_kind.values() for _p, ms in v)
    print(
        f"{args.size}: {n} addresses, {total / n:,.0f} pages read per request"
        f" ({took / n:.2f} ms executing, timed by EXPLAIN ANALYZE)"
    )
    for name, rows in sorted(by_kind.items(), key=lambda kv: -sum(p for p, _ in kv[1])):
        print(
            f"  {name:18s} {len(rows):5d} queries"
            f" {sum(p for p, _ in rows) / n:8,.0f} per request"
            f" {sum(ms for _, ms in rows) / n:7.2f} ms"
        )
    heaviest = sorted(read.items(), key=lambda kv: -sum(q[1] for q in kv[1]))
    for path, queries in heaviest[: args.top]:
        print(
            f"  {sum(q[1] for q in queries):8,d} {sum(q[2] for q in queries):6.1f} ms"
            f"  {path}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(read, indent=0))


if __name__ == "__main__":
    main()
