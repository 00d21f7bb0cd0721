"""Benchmark of the course catalogue against a bare Django view.

On a catalogue of 5,000 courses and 20,000 sessions (database `cpd_bench`,
built once and reused), serve the app through gunicorn (2 sync workers) on
loopback and drive, with wrk, in the same run:

- /bench/bare/            a bare view rendering a trivial template (the baseline)
- /bench/layout/          the site layout (base.html) around one paragraph: what
                          every page pays before its own content (a reference)
- /courses/               the catalogue
- /courses/?q=...         a search
- /courses/<slug>/        a course page

It prints requests per second, p50 and p95 latency for each URL and the ratio
to the bare view, against the targets: catalogue >= 50 %, search >= 35 % of
the bare view's requests per second. It is a benchmark that prints figures,
not a test: it exits 0 whatever the figures (non-zero only if it cannot run).

    .venv/bin/python tests/perf/bench_catalogue.py [--duration 10] [--fresh]
        [--cookie "cookie_choice=rejected"]  # a visitor who answered the banner

Needs PostgreSQL and Redis on 127.0.0.1 and `wrk` (installed with apt-get
when missing and running as root). Everything stays on loopback.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the virtualenv's bin/
COURSES = 5000
SESSIONS_PER_COURSE = 4
PREFIX = "gen"

# wrk calls done() once at the end; latencies are in microseconds.
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d status_errors=%d socket_errors=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    expect: str  # a string the page must contain
    min_ratio: float | None = None  # of the bare view's requests per second


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p95_ms: float
    requests: int
    status_errors: int
    socket_errors: int


def say(msg: str) -> None:
    print(msg, flush=True)


def fail(msg: str) -> None:
    print(f"bench_catalogue: {msg}", file=sys.stderr, flush=True)
    sys.exit(2)


def run(cmd: list[str], *, env: dict[str, str], timeout: float, what: str) -> str:
    try:
        done = subprocess.run(
            cmd,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        fail(f"{what} took more than {timeout:.0f} s")
    if done.returncode != 0:
        fail(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


# ---------------------------------------------------------------- wrk


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        fail("wrk is missing; install it with: sudo apt-get install -y wrk")
    say("Installing Debian's wrk with apt-get ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env, timeout=300, what="apt-get update")
    run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        env=env,
        timeout=300,
        what="apt-get install wrk",
    )
    return shutil.which("wrk") or fail("wrk is still missing after apt-get install")


def run_wrk(
    wrk: str,
    url: str,
    lua: Path,
    *,
    seconds: int,
    threads: int,
    connections: int,
    cookie: str = "",
) -> Result:
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(lua),
        *(["-H", f"Cookie: {cookie}"] if cookie else []),
        url,
    ]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
    except subprocess.TimeoutExpired:
        fail(f"wrk on {url} did not finish")
    m = re.search(
        r"BENCH requests=(\d+) duration_us=(\d+) p50_us=(\d+) p95_us=(\d+) "
        r"status_errors=(\d+) socket_errors=(\d+)",
        done.stdout,
    )
    if done.returncode != 0 or not m:
        fail(f"wrk on {url} failed:\n{done.stdout}\n{done.stderr}")
    requests, duration_us, p50, p95, status_errors, socket_errors = map(int, m.groups())
    return Result(
        rps=requests / (duration_us / 1e6),
        p50_ms=p50 / 1000,
        p95_ms=p95 / 1000,
        requests=requests,
        status_errors=status_errors,
        socket_errors=socket_errors,
    )


# ---------------------------------------------------------------- database


def pg_connect(url: str, dbname: str) -> psycopg.Connection:
    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=dbname,
        connect_timeout=3,
        autocommit=True,
    )


def recreate_database(url: str, name: str, *, drop: bool) -> None:
    try:
        with pg_connect(url, "postgres") as conn:
            if drop:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as e:
        fail(f"PostgreSQL is not usable at {urlsplit(url).netloc}: {e}")


def catalogue_state(url: str, name: str) -> str:
    """'ready', 'empty' or 'stale' (a partial catalogue or past sessions)."""
    with pg_connect(url, name) as conn:
        courses, sessions, first = conn.execute(
            """
            SELECT count(DISTINCT c.id), count(s.id), min(s.starts_at) > now()
            FROM courses_course c LEFT JOIN courses_session s ON s.course_id = c.id
            WHERE c.slug LIKE %s
            """,
            [f"{PREFIX}-%"],
        ).fetchone()
    if courses == 0:
        return "empty"
    if courses == COURSES and sessions == COURSES * SESSIONS_PER_COURSE and first:
        return "ready"
    return "stale"


def prepare_database(url: str, env: dict[str, str], *, fresh: bool) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"\w+", name):
        fail(f"unexpected database name {name!r}")
    manage = [sys.executable, "manage.py"]
    recreate_database(url, name, drop=fresh)
    run([*manage, "migrate", "--noinput", "-v0"], env=env, timeout=600, what="migrate")
    state = catalogue_state(url, name)
    if state == "stale":
        say(f"Database {name} holds a stale catalogue; recreating it ...")
        recreate_database(url, name, drop=True)
        run(
            [*manage, "migrate", "--noinput", "-v0"],
            env=env,
            timeout=600,
            what="migrate",
        )
        state = "empty"
    if state == "empty":
        say(
            f"Generating {COURSES:,} courses and "
            f"{COURSES * SESSIONS_PER_COURSE:,} sessions in {name} ..."
        )
        out = run(
            [
                *manage,
                "generate_catalogue",
                "--courses",
                str(COURSES),
                "--sessions-per-course",
                str(SESSIONS_PER_COURSE),
                "--prefix",
                PREFIX,
            ],
            env=env,
            timeout=900,
            what="generate_catalogue",
        )
        say(out.strip())
        with pg_connect(url, name) as conn:
            conn.execute("VACUUM ANALYZE")
    else:
        say(f"Reusing the catalogue in database {name}.")


# ---------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, timeout: float = 10, cookie: str = "") -> tuple[int, str]:
    headers = {"Cookie": cookie} if cookie else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def start_gunicorn(
    env: dict[str, str], port: int, log: Path, workers: int
) -> subprocess.Popen:
    cmd = [
        str(BIN / "gunicorn"),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        "--error-logfile",
        "-",
        "--log-level",
        "warning",
    ]
    with log.open("w") as out:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )


def wait_until_up(proc: subprocess.Popen, url: str, log: Path, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"gunicorn exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            status, _ = fetch(url, timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    fail(
        f"gunicorn did not answer {url} within {limit:.0f} s:\n{log.read_text()[-3000:]}"
    )


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


# ---------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per URL")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per URL")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every URL this many times, interleaved; report the median",
    )
    p.add_argument("--query", default="safeguarding", help="the search words")
    p.add_argument(
        "--cookie",
        default="",
        help="a Cookie header sent with every request, e.g. cookie_choice=rejected",
    )
    p.add_argument("--course", default=f"{PREFIX}-2500", help="the course page slug")
    p.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cpd_bench"
        ),
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"),
    )
    p.add_argument(
        "--broker-url",
        default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5"),
    )
    p.add_argument(
        "--fresh", action="store_true", help="drop and rebuild the bench database"
    )
    p.add_argument(
        "--serve-only",
        action="store_true",
        help="prepare and serve, print the address and wait (for profiling)",
    )
    return p.parse_args()


def median_result(results: list[Result]) -> Result:
    return Result(
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p95_ms=statistics.median(r.p95_ms for r in results),
        requests=sum(r.requests for r in results),
        status_errors=sum(r.status_errors for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )


def print_table(
    targets: list[Target], results: dict[str, Result], args: argparse.Namespace
) -> None:
    bare = results[targets[0].path].rps
    say("")
    say(
        f"Catalogue benchmark: {COURSES:,} courses, "
        f"{COURSES * SESSIONS_PER_COURSE:,} sessions; gunicorn {args.workers} sync "
        f"workers; wrk {args.threads} threads, {args.connections} connections, "
        f"{args.duration} s per URL x {args.rounds} round(s); {os.cpu_count()} CPUs"
        + (f"; Cookie: {args.cookie}" if args.cookie else "")
    )
    head = (
        f"{'URL':<34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'vs bare':>8}  target"
    )
    say(head)
    say("-" * (len(head) + 14))
    for t in targets:
        r = results[t.path]
        ratio = r.rps / bare if bare else 0.0
        mark = ""
        if t.min_ratio is not None:
            ok = ratio >= t.min_ratio
            mark = f">= {t.min_ratio:.0%}  {'PASS' if ok else 'BELOW'}"
        errors = r.status_errors + r.socket_errors
        if errors:
            mark += f"  ({errors} errors of {r.requests} requests!)"
        say(
            f"{t.path:<34} {r.rps:>8.1f} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} "
            f"{ratio:>8.1%}  {mark}"
        )


def main() -> int:
    args = parse_args()
    wrk = ensure_wrk()
    tmp = Path(tempfile.mkdtemp(prefix="cpd-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.perf.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.broker_url,
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "60",
        "SITE_URL": base,
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "WARNING",
        "BENCH_STATIC_ROOT": str(tmp / "static"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    q = args.query.replace(" ", "+")
    targets = [
        Target("bare view", "/bench/bare/", "bare view"),
        Target("layout only", "/bench/layout/", "layout only"),
        Target("catalogue", "/courses/", "found", min_ratio=0.50),
        Target("search", f"/courses/?q={q}", "found", min_ratio=0.35),
        Target("course page", f"/courses/{args.course}/", "</html>"),
    ]
    proc = None
    try:
        prepare_database(args.database_url, env, fresh=args.fresh)
        run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            env=env,
            timeout=300,
            what="collectstatic",
        )
        log = tmp / "gunicorn.log"
        proc = start_gunicorn(env, port, log, args.workers)
        wait_until_up(proc, base + targets[0].path, log, limit=30)

        for t in targets:
            status, body = fetch(base + t.path, cookie=args.cookie)
            if status != 200 or t.expect not in body:
                fail(f"{t.path} answered {status}:\n{body[:2000]}")
            found = re.search(r"([\d,]+) courses? found", body)
            extra = f", {found.group(0)}" if found else ""
            say(f"  {t.label:<12} {t.path}  200, {len(body):,} bytes{extra}")
        if args.serve_only:
            say(f"Serving on {base} (gunicorn pid {proc.pid}); Ctrl-C to stop.")
            proc.wait()
            return 0

        lua = tmp / "percentiles.lua"
        lua.write_text(LUA)
        say(f"Warming up ({args.warmup} s per URL) ...")
        for t in targets:
            run_wrk(
                wrk,
                base + t.path,
                lua,
                seconds=args.warmup,
                threads=args.threads,
                connections=args.connections,
                cookie=args.cookie,
            )
        runs: dict[str, list[Result]] = {t.path: [] for t in targets}
        for n in range(args.rounds):
            for t in targets:
                say(f"Round {n + 1}: {t.label} for {args.duration} s ...")
                runs[t.path].append(
                    run_wrk(
                        wrk,
                        base + t.path,
                        lua,
                        seconds=args.duration,
                        threads=args.threads,
                        connections=args.connections,
                        cookie=args.cookie,
                    )
                )
        print_table(targets, {p: median_result(rs) for p, rs in runs.items()}, args)
        return 0
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        if proc is not None and proc.poll() is not None:
            log = (tmp / "gunicorn.log").read_text(errors="replace")
            print(
                f"gunicorn had exited ({proc.returncode}); its log:\n{log[-3000:]}",
                file=sys.stderr,
            )
        raise
    finally:
        if proc is not None:
            stop_gunicorn(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
