"""Benchmark of what visitors do, at two catalogue sizes, against a bare view.

At each size (small: 5,000 courses, 20,000 sessions, 100,000 bookings; large:
50,000 courses, 200,000 sessions, 1,000,000 bookings; 5 bookings a session,
one person per 5 bookings), serve the app through gunicorn (2 sync workers) on
loopback, both sizes at once, and drive, with wrk, one after another in the
same run, each row at one size and then at the other (the other first in
every other round), so that the machine's drift falls on both alike:

- bare view            /bench/bare/: the same middleware, a trivial template
- (a) cached catalogue /courses/ asked again and again (whole-page cache hits)
- (a) home             / (next sessions with places left)
- (b) cold mix         every request a different search, filter, sort and page
                       (from the catalogue's real words, topics, modes,
                       providers, dates), so neither the page nor its count
                       is in the cache
- (c) course pages     drawn from every course, anonymous
- (d) signed in        course pages drawn from every course, and My bookings,
                       signed in with a session cookie per connection: as
                       many learners as connections, taking turns (wrk's Lua
                       runs per thread, not per connection, so the cookies
                       rotate request by request; each learner's session is
                       read from Redis after its first request, as a visitor
                       browsing would have it)
- (e) booking          POST /sessions/<id>/book/, each request a different
                       learner booking a different session of a free course
                       (a paid one answers with a confirmation step first);
                       the bookings made are counted after the run
- bounds               /bench/layout/, the site layout around one paragraph
                       with no query of its own, anonymous and signed in
                       (the same learners' cookies as (d)): no page
                       rendered in the layout can be served faster (a whole
                       page from the cache can), so these ratios bound (c)
                       and (d), which a random draw over every course keeps
                       out of the cache

and prints req/s, p50, p95, p99 and the ratio to the bare view's req/s in the
same run, with the issue's targets. Also times the catalogue's total count
(uncached) at each size. It prints figures and exits 0 whatever they are.

    .venv/bin/python tests/perf/bench_mix.py [--size small|large|both]
        [--duration 10] [--rounds 1] [--only mix,course,...] [--cpu]
        [--database-prefix postgres://.../cpd_bench_mix]

(`--only` runs the rows named, with the bare view always; each round's
rate is printed as it ends, and the table shows the median of the rounds.
`--cpu` also prints, after each row, the CPU time per request of the app's
processes, PostgreSQL's, Redis's, wrk's and the rest, and the machine's
busy and stolen time, read from /proc: where the time of a row goes under
load, which an in-process profile of one request cannot show.)

Databases `<prefix>_small` and `<prefix>_large` are built once (bulk inserts:
about a minute small, several large) and reused while they still describe the
future. Needs PostgreSQL and Redis on 127.0.0.1 and wrk.
"""

import argparse
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from courses.catalogue_words import WORDS as CATALOGUE_WORDS
from tests.perf import bench_catalogue as bc

PREFIX = "mix"
SIZES = {
    # courses, sessions per course, bookings per session, signed-in learners
    "small": (5_000, 4, 5),
    "large": (50_000, 4, 5),
}
SIGNED_IN = 2_000
CSRF = "benchcsrftokenbenchcsrftoken0123"
# The words generate_catalogue builds titles from, and some it does not.
WORDS = [*CATALOGUE_WORDS, "safeguard", "lead", "nursing", "first aid"]

# Lines of "method path cookie" read by every wrk thread; each request takes
# the next line, threads interleaved, so no two requests of a run are alike
# (until the list wraps). latency is in microseconds.
LUA = """
local lines = {}
for line in io.lines("%(file)s") do
  local path, cookie, sid = line:match("^(%%S+) (%%S*) ?(%%S*)$")
  table.insert(lines, {path, cookie, sid})
end
local nthreads = %(threads)d
local counter = 0
local id = 0
local seen = 0
function setup(thread)
  thread:set("id", seen)
  seen = seen + 1
end
function init(args)
  id = tonumber(wrk.thread:get("id")) or 0
  -- Every thread from the start: thread t takes lines t, t + n, t + 2n, ...
  -- (an offset here once let one thread's lines, after wrapping a short
  -- list, fall on another's: the same learner booking the same session).
  counter = 0
end
function request()
  local i = (counter * nthreads + id) %% #lines + 1
  counter = counter + 1
  local l = lines[i]
  if l[3] ~= "" then
    return wrk.format("POST", "/sessions/" .. l[3] .. "/book/", {
      ["Cookie"] = "sessionid=" .. l[2] .. "; csrftoken=%(csrf)s",
      ["X-CSRFToken"] = "%(csrf)s",
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, "")
  end
  if l[2] ~= "" then
    return wrk.format("GET", l[1], {["Cookie"] = "sessionid=" .. l[2]})
  end
  return wrk.format("GET", l[1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%%d duration_us=%%d p50_us=%%d p95_us=%%d p99_us=%%d status_errors=%%d socket_errors=%%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""

PEOPLE_AND_SESSIONS = r"""
from allauth.account.models import EmailAddress
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from types import SimpleNamespace
from django.db import connection
from accounts.middleware import stamp_sign_in
from accounts.models import User

want = {PEOPLE}
have = User.objects.filter(email__startswith="mix-").count()
for start in range(have, want, 10000):
    User.objects.bulk_create(
        [User(email=f"mix-{n}@example.org", password="!", first_name="Pat", last_name=str(n))
         for n in range(start, min(want, start + 10000))],
        batch_size=10000,
    )
ids = list(User.objects.filter(email__startswith="mix-").order_by("pk").values_list("pk", flat=True))
first = ids[0]
assert ids == list(range(first, first + want)), "people's ids are not contiguous"
with connection.cursor() as c:
    c.execute("SELECT count(*) FROM bookings_booking")
    if c.fetchone()[0] == 0:
        c.execute(
            '''
            INSERT INTO bookings_booking (status, created_at, updated_at, cancel_reason,
                person_id, session_id, import_source, purchase_order)
            SELECT 'confirmed', now(), now(), '', %s + ((s.rn * {PER_SESSION} + k) %% %s),
                s.id, '', ''
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM courses_session) s,
                 generate_series(0, {PER_SESSION} - 1) k
            ''',
            [first, want],
        )
        c.execute("VACUUM ANALYZE")
learners = User.objects.filter(pk__in=ids[-{SIGNED_IN}:]).order_by("pk")
EmailAddress.objects.filter(user__in=learners).delete()
EmailAddress.objects.bulk_create(
    [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in learners]
)
backend = "django.contrib.auth.backends.ModelBackend"
with open("{OUT}", "w") as out:
    for person in learners:
        store = SessionStore()
        store[SESSION_KEY] = str(person.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = person.get_session_auth_hash()
        stamp_sign_in(None, SimpleNamespace(session=store), person)  # as a sign-in does
        store.create()
        out.write(f"{person.pk} {store.session_key}\n")
"""


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: int


def run_wrk(wrk: str, url: str, lua: Path, *, seconds: int, args) -> Result:
    cmd = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s"]
    cmd += ["--timeout", "5s", "-s", str(lua), url]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    m = re.search(
        r"BENCH requests=(\d+) duration_us=(\d+) p50_us=(\d+) p95_us=(\d+) "
        r"p99_us=(\d+) status_errors=(\d+) socket_errors=(\d+)",
        done.stdout,
    )
    if done.returncode != 0 or not m:
        bc.fail(f"wrk on {url} failed:\n{done.stdout}\n{done.stderr}")
    n, us, p50, p95, p99, status_errors, socket_errors = map(int, m.groups())
    return Result(
        rps=n / (us / 1e6),
        p50_ms=p50 / 1000,
        p95_ms=p95 / 1000,
        p99_ms=p99 / 1000,
        requests=n,
        errors=status_errors + socket_errors,
    )


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ticks(app_pid: int) -> dict[str, int]:
    """CPU time so far (clock ticks, user and system) of the processes on the
    machine by group: "app" (the gunicorn of `app_pid` and its workers),
    "postgres", "redis", "other"; "machine" busy and "steal" (time the
    hypervisor gave to other guests) from /proc/stat; "wrk" from this
    process's finished children."""
    groups = dict.fromkeys(("app", "postgres", "redis", "other"), 0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdecimal():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry.name), int(fields[1])
        ticks = int(fields[11]) + int(fields[12])
        if app_pid in (pid, ppid):
            groups["app"] += ticks
        elif comm.startswith("postgres"):
            groups["postgres"] += ticks
        elif comm.startswith("redis"):
            groups["redis"] += ticks
        else:
            groups["other"] += ticks
    cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    # user nice system idle iowait irq softirq steal
    groups["machine"] = sum(cpu[:3]) + sum(cpu[5:7])
    groups["steal"] = cpu[7]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    groups["wrk"] = round((children.ru_utime + children.ru_stime) * 1000 / TICK_MS)
    return groups


def cpu_per_request(before: dict, after: dict, requests: int) -> str:
    """Milliseconds of CPU per request by group, between two `cpu_ticks`.
    PostgreSQL's is what the machine was busy with less everyone else's:
    a process that ended between the two (a parallel worker, a backend
    whose connection closed) takes its time out of the sum of the living.
    So does any other, and its time then counts as PostgreSQL's (a worker
    gunicorn restarted, a command run meanwhile): the benchmark runs
    nothing else, and a gunicorn timeout shows as the row's errors."""
    each = {key: (after[key] - before[key]) * TICK_MS for key in after}
    each["postgres"] = each["machine"] - sum(
        each[key] for key in ("app", "redis", "wrk", "other")
    )
    return ", ".join(
        f"{key} {each[key] / max(requests, 1):.1f}"
        for key in ("app", "postgres", "redis", "wrk", "other", "machine", "steal")
    )


def catalogue_ready(url: str, name: str, courses: int, per_course: int) -> bool:
    try:
        with bc.pg_connect(url, name) as conn:
            n, s, first, b = conn.execute(
                """
                SELECT (SELECT count(*) FROM courses_course WHERE slug LIKE 'mix-%'),
                       (SELECT count(*) FROM courses_session),
                       (SELECT min(starts_at) > now() + interval '1 hour'
                          FROM courses_session),
                       (SELECT count(*) FROM bookings_booking)
                """
            ).fetchone()
    except psycopg.Error:  # no tables yet: not ready
        return False
    return n == courses and s == courses * per_course and bool(first) and b > 0


# PostgreSQL settings of a production deployment (README, "Deployment
# topology"): random reads cost about as much as sequential ones when the
# data is on SSD or in memory.
PG_SETTINGS = {"random_page_cost": "1.1"}


def build(url: str, env: dict, size: str, tmp: Path) -> Path:
    """The database for `size`, built if missing or stale; returns the file
    of signed-in learners ("person_id session_key" lines)."""
    courses, per_course, per_session = SIZES[size]
    name = urlsplit(url).path.lstrip("/")
    manage = [sys.executable, "manage.py"]
    started = time.monotonic()
    if not catalogue_ready(url, name, courses, per_course):
        bc.say(f"Building {name}: {courses:,} courses ...")
        bc.recreate_database(url, name, drop=True)
        bc.run(
            [*manage, "migrate", "--noinput", "-v0"],
            env=env,
            timeout=900,
            what="migrate",
        )
        out = bc.run(
            [
                *manage,
                "generate_catalogue",
                "--courses",
                str(courses),
                "--sessions-per-course",
                str(per_course),
                "--prefix",
                PREFIX,
            ],
            env=env,
            timeout=3600,
            what="generate_catalogue",
        )
        bc.say("  " + out.strip())
    else:
        bc.say(f"Reusing {name}.")
        # Migrations added since it was built (they keep the data).
        bc.run(
            [*manage, "migrate", "--noinput", "-v0"],
            env=env,
            timeout=900,
            what="migrate",
        )
    learners = tmp / f"learners-{size}.txt"
    script = PEOPLE_AND_SESSIONS
    people = courses * per_course * per_session // 5
    for key, value in {
        "PEOPLE": people,
        "PER_SESSION": per_session,
        "SIGNED_IN": SIGNED_IN,
        "OUT": learners,
    }.items():
        script = script.replace("{" + key + "}", str(value))
    bc.run(
        [*manage, "shell", "-c", script],
        env=env,
        timeout=3600,
        what="people, bookings and signed-in sessions",
    )
    with bc.pg_connect(url, name) as conn:
        # Fresh statistics and visibility maps for every run: the previous
        # run's bookings and session writes left them behind (a small-size
        # cold mix measured 47 ms a request before and 31 ms after).
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        # The planner settings the README's deployment section recommends
        # (new connections, so the servers started after this, pick them up).
        for setting, value in PG_SETTINGS.items():
            conn.execute(f'ALTER DATABASE "{name}" SET {setting} = {value}')
        # And its writes flushed now, not by a checkpoint during the run.
        conn.execute("CHECKPOINT")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM courses_course),"
            " (SELECT count(*) FROM courses_session),"
            " (SELECT count(*) FROM bookings_booking),"
            " (SELECT count(*) FROM accounts_user)"
        ).fetchone()
    bc.say(
        "  {:,} courses, {:,} sessions, {:,} bookings, {:,} people "
        "(ready in {:.0f} s; {})".format(
            *counts,
            time.monotonic() - started,
            ", ".join(f"{k} = {v}" for k, v in PG_SETTINGS.items()),
        )
    )
    return learners


def count_timings(url: str, env: dict) -> str:
    """Median time of the catalogue's uncached total count, no filters and
    one search, in the app's own code."""
    script = (
        "import time, statistics\n"
        "from courses import selectors as s\n"
        "from django.db import connection\n"
        "out = []\n"
        "for f in (s.CatalogueFilters(), s.CatalogueFilters(q='safeguarding'),"
        " s.CatalogueFilters(available=True)):\n"
        "    ts = []\n"
        "    for _ in range(7):\n"
        "        t = time.perf_counter(); n = s.courses_for_catalogue_count(f);"
        " ts.append((time.perf_counter() - t) * 1000)\n"
        "    out.append(f'{n} courses {statistics.median(ts):.1f} ms')\n"
        "print('; '.join(out))\n"
    )
    return (
        bc.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            env=env,
            timeout=300,
            what="count timing",
        )
        .strip()
        .splitlines()[-1]
    )


def mix_paths(n: int, providers: list[str], seed: int) -> list[str]:
    """n different catalogue addresses: searches, filters, sorts and pages."""
    rng = random.Random(seed)
    topics = WORDS[:12]
    modes = ["in_person", "live_online", "e_learning"]
    seen: set[str] = set()
    while len(seen) < n:
        p = []
        if rng.random() < 0.5:
            words = rng.sample(WORDS, rng.choice([1, 1, 2]))
            p.append("q=" + "+".join(w.replace(" ", "+") for w in words))
        if rng.random() < 0.35:
            p.append("topic=" + rng.choice(topics))
        if rng.random() < 0.3:
            p.append("mode=" + rng.choice(modes))
        if providers and rng.random() < 0.2:
            p.append("provider=" + rng.choice(providers))
        if rng.random() < 0.2:
            p.append("free=1")
        if rng.random() < 0.3:
            p.append("available=1")
        if rng.random() < 0.2:
            day = 1 + rng.randrange(150)
            p.append(
                f"from={time.strftime('%Y-%m-%d', time.gmtime(time.time() + day * 86400))}"
            )
        if rng.random() < 0.4:
            p.append("sort=" + rng.choice(["soonest", "title", "relevance"]))
        p.append(f"page={1 + int(rng.expovariate(1 / 8))}")
        seen.add("/courses/?" + "&".join(p))
    # Sorted first: a set's order changes from one process to the next
    # (string hashing is salted), and the addresses must not.
    return sorted(sorted(seen), key=lambda _: rng.random())


def request_lists(
    slugs: list[str],
    learners: list[list[str]],
    session_ids: list[int],
    providers: list[str],
    *,
    connections: int,
) -> dict[str, list[str]]:
    """Each row's lines for wrk's script (`LUA`): "path", "path cookie" or
    "path cookie session" (a booking POST), one request a line. `learners`
    are [person id, session key] pairs; `slugs` in the order to ask them.
    `tests/perf/test_bench_mix.py` checks every row has lines of its kind."""
    return {
        "bare": ["/bench/bare/ "],
        "cached": ["/courses/ "],
        "home": ["/ "],
        "mix": [f"{p} " for p in mix_paths(40_000, providers, 15)],
        "course": [f"/courses/{s}/ " for s in slugs],
        # A session cookie per connection (the (d)): as many
        # learners as connections take turns.
        "course_in": [
            f"/courses/{s}/ {learners[k % connections][1]}"
            for k, s in enumerate(slugs[:40_000])
        ],
        "bookings_in": [f"/bookings/ {key}" for _pid, key in learners[:connections]],
        # What bounds (c) and (d): the site layout around one paragraph,
        # no query of its own, the same for every request.
        "layout": ["/bench/layout/ "],
        "layout_in": [f"/bench/layout/ {key}" for _pid, key in learners[:connections]],
        # Learner k books sessions k, k + n, ...: no pair twice (the
        # learners were booked on none of the sessions drawn here beyond
        # chance).
        "book": [
            f"/ {learners[k % len(learners)][1]} {sid}"
            for k, sid in enumerate(session_ids[: min(len(session_ids), 100_000)])
        ],
    }


def provider_values(url: str, name: str) -> list[str]:
    with bc.pg_connect(url, name) as conn:
        rows = conn.execute("SELECT id FROM courses_provider").fetchall()
    return [str(r[0]) for r in rows]


def app_env(url: str, args, base: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.perf.settings",
        "DATABASE_URL": url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.broker_url,
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": base,
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "WARNING",
        "BENCH_STATIC_ROOT": str(tmp / "static"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


class SizeBench:
    """One size's database and server, started once and then measured a row
    at a time, so that the two sizes take turns row by row (`main`): the
    machine's speed drifts over minutes when other work shares it, and two
    sizes measured one after the other would each take a different drift
    into the share of one in the other."""

    def __init__(self, size: str, args, wrk: str, tmp: Path) -> None:
        self.size, self.args, self.wrk, self.tmp = size, args, wrk, tmp
        self.url = url = f"{args.database_prefix}_{size}"
        self.name = name = urlsplit(url).path.lstrip("/")
        port = bc.free_port()
        self.base = base = f"http://127.0.0.1:{port}"
        # A cache of its own: both servers are up at once.
        redis_url = args.redis_url if size == "small" else args.redis_url_large
        env = {**app_env(url, args, base, tmp), "REDIS_URL": redis_url}
        learners_file = build(url, env, size, tmp)
        learners = [line.split() for line in learners_file.read_text().splitlines()]
        with bc.pg_connect(url, name) as conn:
            slugs = [r[0] for r in conn.execute("SELECT slug FROM courses_course")]
            session_ids = [
                r[0]
                for r in conn.execute(
                    # Free courses only: a paid course's POST shows "Check
                    # your booking before you confirm it" instead of booking.
                    # None a signed-in learner already booked in an earlier
                    # run: each POST is a new booking, not "you already have
                    # one".
                    "SELECT s.id FROM courses_session s JOIN courses_course c"
                    " ON c.id = s.course_id WHERE s.starts_at > now() AND c.price = 0"
                    " AND NOT EXISTS (SELECT 1 FROM bookings_booking b"
                    " WHERE b.session_id = s.id AND b.person_id = ANY(%s))"
                    " ORDER BY random()",
                    [[int(pid) for pid, _key in learners]],
                )
            ]
        if "book" in args.only and len(session_ids) < 5_000:
            # Each run books a thousand or so of them: after a few runs on
            # one database the POSTs would wrap onto sessions already booked.
            bc.fail(
                f"only {len(session_ids):,} sessions of free courses are left that "
                f"no signed-in learner has booked; drop {name} to build it again"
            )
        rng = random.Random(15)
        rng.shuffle(slugs)
        self.lists = lists = request_lists(
            slugs,
            learners,
            session_ids,
            provider_values(url, name),
            connections=args.connections,
        )
        self.scripts = {}
        for key, lines in lists.items():
            write_lines(tmp / f"{size}-{key}.txt", lines, 0)
            lua = tmp / f"{size}-{key}.lua"
            lua.write_text(
                LUA
                % {
                    "file": tmp / f"{size}-{key}.txt",
                    "threads": args.threads,
                    "csrf": CSRF,
                }
            )
            self.scripts[key] = lua
        bc.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            env=env,
            timeout=300,
            what="collectstatic",
        )
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        self.counts = count_timings(url, {**env, "REDIS_URL": ""})
        log = tmp / f"gunicorn-{size}.log"
        self.proc = bc.start_gunicorn(env, port, log, args.workers)
        try:
            bc.wait_until_up(self.proc, base + "/bench/bare/", log, limit=60)
            for path in (lists["course"][0], "/ ", lists["mix"][0]):
                status, body = bc.fetch(base + path.split()[0])
                if status != 200:
                    bc.fail(f"{path} answered {status}:\n{body[:1500]}")
            status, body = bc.fetch(
                base + "/bookings/", cookie=f"sessionid={learners[0][1]}"
            )
            if status != 200 or "Sign out" not in body:
                bc.fail(f"a signed-in learner's /bookings/ answered {status}")
            bc.say(f"Warming up {size} ({args.warmup} s) ...")
            for key in ("bare", "cached", "home"):
                run_wrk(
                    wrk, base + "/", self.scripts[key], seconds=args.warmup, args=args
                )
        except BaseException:
            bc.stop_gunicorn(self.proc)
            raise
        self.results: dict[str, list[Result]] = {}
        self.bookings_before = booking_count(url, name)

    def start_round(self, n: int) -> None:
        """Each round starts further down every list: a second round of the
        same lines would find the mix's pages in the cache and the learners
        already booked."""
        for key, lines in self.lists.items():
            write_lines(
                self.tmp / f"{self.size}-{key}.txt",
                lines,
                n * len(lines) // self.args.rounds,
            )

    def run(self, n: int, key: str) -> None:
        before = cpu_ticks(self.proc.pid) if self.args.cpu else None
        result = run_wrk(
            self.wrk,
            self.base + "/",
            self.scripts[key],
            seconds=self.args.duration,
            args=self.args,
        )
        bc.say(
            f"  {self.size} round {n + 1}: {key} for {self.args.duration} s: "
            f"{result.rps:,.1f} req/s"
        )
        if before is not None:
            after = cpu_ticks(self.proc.pid)
            bc.say(
                "    CPU ms a request: "
                + cpu_per_request(before, after, result.requests)
            )
        self.results.setdefault(key, []).append(result)

    def stop(self) -> None:
        bc.stop_gunicorn(self.proc)

    def chosen(self) -> dict[str, Result]:
        """The median of each row's rounds, and what the tables print."""
        chosen = {k: median(rs) for k, rs in self.results.items()}
        chosen["_rounds"] = self.results  # type: ignore[assignment]
        chosen["_counts"] = self.counts  # type: ignore[assignment]
        if "book" in self.results:
            posts = sum(r.requests for r in self.results["book"])
            made = booking_count(self.url, self.name) - self.bookings_before
            chosen["_booked"] = (  # type: ignore[assignment]
                f"{made:,} bookings made by {posts:,} booking POSTs"
            )
        courses, per_course, per_session = SIZES[self.size]
        chosen["_size"] = (  # type: ignore[assignment]
            f"{courses:,} courses, {courses * per_course:,} sessions, "
            f"{courses * per_course * per_session:,} bookings"
        )
        return chosen


def write_lines(path: Path, lines: list[str], start: int) -> None:
    path.write_text("\n".join(lines[start:] + lines[:start]) + "\n")


def booking_count(url: str, name: str) -> int:
    with bc.pg_connect(url, name) as conn:
        return conn.execute("SELECT count(*) FROM bookings_booking").fetchone()[0]


def median(results: list[Result]) -> Result:
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


ROWS = [
    ("bare", "bare view /bench/bare/", None),
    ("cached", "(a) catalogue, cache hit", 0.60),
    ("home", "(a) home /", None),
    ("mix", "(b) cold mix /courses/?...", 0.30),
    ("course", "(c) course pages, anonymous", 0.40),
    ("course_in", "(d) course pages, signed in", 0.30),
    ("bookings_in", "(d) My bookings, signed in", None),
    ("book", "(e) booking POST", 0.25),
    ("layout", "bound: layout only, anonymous", None),
    ("layout_in", "bound: layout only, signed in", None),
]


def print_tables(all_results: dict[str, dict], args) -> None:
    bc.say("")
    bc.say(
        f"gunicorn {args.workers} sync workers; wrk {args.threads} threads, "
        f"{args.connections} connections, {args.duration} s per row, median of "
        f"{args.rounds}; {os.cpu_count()} CPUs (shared with other work)"
    )
    for size, res in all_results.items():
        bare = res["bare"].rps
        bc.say("")
        bc.say(f"{size}: {res['_size']}")
        bc.say(f"  uncached total count: {res['_counts']}")
        if "_booked" in res:
            bc.say(f"  {res['_booked']}")
        head = (
            f"| {'request':<30} | {'req/s':>7} | {'p50 ms':>7} | {'p95 ms':>7} "
            f"| {'p99 ms':>7} | {'ratio':>5} | {'target':>6} | {'errors':>6} |"
        )
        bc.say(head)
        bc.say("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
        for key, label, target in ROWS:
            if key not in res:
                continue
            r = res[key]
            bc.say(
                f"| {label:<30} | {r.rps:>7.1f} | {r.p50_ms:>7.1f} | {r.p95_ms:>7.1f} "
                f"| {r.p99_ms:>7.1f} | {r.rps / bare:>5.2f} | "
                f"{(f'>={target:.2f}' if target else ''):>6} | {r.errors:>6} |"
            )
    if {"small", "large"} <= set(all_results):
        bc.say("")
        bc.say(
            "large ratio as a share of the small one (target >= 80%), the median"
            " of the rounds', each from the four rates measured in that round:"
        )
        small_rounds = all_results["small"]["_rounds"]
        large_rounds = all_results["large"]["_rounds"]
        for key, label, _target in ROWS[1:]:
            if key not in small_rounds or key not in large_rounds:
                continue
            shares = [
                (large.rps / large_bare.rps) / (small.rps / small_bare.rps)
                for small, small_bare, large, large_bare in zip(
                    small_rounds[key],
                    small_rounds["bare"],
                    large_rounds[key],
                    large_rounds["bare"],
                    strict=True,
                )
            ]
            each = ", ".join(f"{share:.0%}" for share in shares)
            bc.say(f"  {label:<30} {statistics.median(shares):>5.0%}  ({each})")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=["small", "large", "both"], default="both")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--database-prefix",
        default=os.environ.get(
            "BENCH_MIX_DATABASE_PREFIX",
            "postgres://postgres@127.0.0.1:5432/cpd_bench_mix",
        ),
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    p.add_argument(
        "--redis-url-large",
        default="redis://127.0.0.1:6379/11",
        help="the large size's cache (both servers are up at once)",
    )
    p.add_argument("--broker-url", default="redis://127.0.0.1:6379/15")
    p.add_argument(
        "--build-only", action="store_true", help="build the databases and stop"
    )
    p.add_argument(
        "--cpu",
        action="store_true",
        help="after each row, print the CPU time per request of the app, "
        "PostgreSQL, Redis, wrk and the rest of the machine (from /proc)",
    )
    p.add_argument(
        "--only",
        default=",".join(k for k, _label, _target in ROWS),
        help="the rows to run, by key, comma-separated (the bare view always "
        "runs, for the ratios): " + ", ".join(k for k, _label, _target in ROWS),
    )
    args = p.parse_args()
    keys = {k for k, _label, _target in ROWS}
    args.only = {"bare", *(k.strip() for k in args.only.split(",") if k.strip())}
    if unknown := args.only - keys:
        p.error(f"--only: no row {', '.join(sorted(unknown))}")
    return args


def main() -> int:
    args = parse_args()
    wrk = bc.ensure_wrk()
    tmp = Path(tempfile.mkdtemp(prefix="cpd-bench-mix-"))
    sizes = ["small", "large"] if args.size == "both" else [args.size]
    try:
        if args.build_only:
            for size in sizes:
                url = f"{args.database_prefix}_{size}"
                build(url, app_env(url, args, "http://127.0.0.1", tmp), size, tmp)
            return 0
        benches: list[SizeBench] = []
        try:
            for size in sizes:
                benches.append(SizeBench(size, args, wrk, tmp))
            rows = [k for k, _label, _target in ROWS if k in args.only]
            for n in range(args.rounds):
                for bench in benches:
                    bench.start_round(n)
                # Row by row, the sizes in turn, the other one first in
                # every other round.
                turns = benches if n % 2 == 0 else benches[::-1]
                for key in rows:
                    for bench in turns:
                        bench.run(n, key)
        finally:
            for bench in benches:
                bench.stop()
        print_tables({b.size: b.chosen() for b in benches}, args)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
