"""The cold catalogue with the selectors of a git revision and of the working
tree, in one process, address by address: A/B of a change to
`courses/selectors.py`.

Loads `courses/selectors.py` as it was at `--base` beside the current one,
then asks each of N cold-mix addresses (bench_mix's, the same seed every
run) with the Django test client, the catalogue view reading through one
selectors module and then the other (which first alternates from one
repetition to the next), the cache cleared before each. The best of
`--repeat` is kept for each. Prints the mean time and SQL per request for
both. Both halves share the process, the database, the machine's speed of
the moment and the rest of the code, so the difference is the change's,
which a wrk run on a shared machine cannot separate from drift
(docs/performance.md, "Eighth round").

    .venv/bin/python tests/perf/ab_catalogue.py --size large --base HEAD~1
        [-n 150] [--repeat 3] [--paths FILE] [--each]

Only the selectors module is swapped: a change that needs a migration
needs the benchmark database migrated, and the base's selectors must still
run on it. Needs the databases bench_mix.py builds (`--build-only`) and
Redis. It prints figures and exits 0 whatever they are.
"""

import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.sql_per_request import (  # noqa: E402 - after the path
    in_process_arguments,
    in_process_setup,
)


def main() -> None:
    p = in_process_arguments(__doc__.splitlines()[0])
    p.add_argument("--base", default="HEAD", help="the git revision to compare with")
    p.add_argument("--paths", help="a file of addresses, one per line, instead")
    p.add_argument("--each", action="store_true", help="print every address's SQL")
    args = p.parse_args()
    in_process_setup(args)
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from courses import selectors, views
    from courses.models import Provider
    from tests.perf import bench_mix

    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{args.base}:courses/selectors.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = importlib.util.spec_from_loader("courses.selectors_base", loader=None)
    base = importlib.util.module_from_spec(spec)
    base.__package__ = "courses"
    exec(compile(source, f"{args.base}:courses/selectors.py", "exec"), base.__dict__)  # noqa: S102 - our own file at a revision
    modules = {"base": base, "tree": selectors}

    if args.paths:
        paths = Path(args.paths).read_text().split()
    else:
        providers = [str(pk) for pk in Provider.objects.values_list("pk", flat=True)]
        paths = bench_mix.mix_paths(args.n, providers, seed=args.seed)
    in_sql = [0.0]

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_sql[0] += time.perf_counter() - started

    client = Client()
    results: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in modules}
    try:
        for path in paths:
            best: dict[str, tuple[float, float]] = {}
            for turn in range(args.repeat):
                for name in ("base", "tree") if turn % 2 == 0 else ("tree", "base"):
                    views.selectors = modules[name]
                    cache.clear()
                    in_sql[0] = 0.0
                    started = time.perf_counter()
                    with connection.execute_wrapper(record):
                        response = client.get(path)
                    total = time.perf_counter() - started
                    if response.status_code != 200:
                        sys.exit(f"{name} {path}: {response.status_code}")
                    if name not in best or total < best[name][0]:
                        best[name] = (total * 1000, in_sql[0] * 1000)
            if args.each:
                print(
                    f"  SQL {best['base'][1]:6.1f} -> {best['tree'][1]:6.1f} ms  {path}"
                )
            for name, (total, sql) in best.items():
                results[name][0].append(total)
                results[name][1].append(sql)
    finally:
        views.selectors = selectors
    for name, label in (("base", args.base), ("tree", "working tree")):
        totals, sqls = results[name]
        print(
            f"{args.size}, {label}: {len(totals)} addresses, time per request mean "
            f"{statistics.mean(totals):.2f} ms (median {statistics.median(totals):.2f}),"
            f" SQL mean {statistics.mean(sqls):.2f} ms"
        )


if __name__ == "__main__":
    main()
