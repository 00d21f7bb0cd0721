"""Benchmark of booking under concurrent load, against the catalogue page.

Serves the app through gunicorn (2 sync workers) on loopback and drives, with
wrk, in the same run:

- /courses/                  the catalogue page (GET), the reference
- /sessions/<id>/book/       booking (POST, signed in, CSRF), each request a
                             different person, spread over a few sessions so
                             the row lock on a session is contended

Every booking request really books (or joins the waiting list): people and their
signed-in sessions are made up front, and each (person, session) pair is used
once. Prints requests per second, p50/p95 latency and the ratio of booking to
the catalogue page, and checks afterwards that no session has more confirmed
places than its capacity. A benchmark that prints figures, not a test.

    .venv/bin/python tests/perf/bench_booking.py [--duration 10]
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf import bench_catalogue as bc

PEOPLE = 3000
SESSIONS = 8
CAPACITY = 1500
CSRF = "benchcsrftokenbenchcsrftoken0123"  # 32 characters: an unmasked secret

PREPARE = r"""
import datetime as dt
from allauth.account.models import EmailAddress
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from accounts.models import User
from bookings.models import Booking, MailRecord
from courses.models import Course, Provider, Session

provider, _ = Provider.objects.get_or_create(name="Bench provider", defaults={"kind": "internal"})
course, _ = Course.objects.get_or_create(
    slug="bench-booking", defaults=dict(title="Bench booking", summary="s", provider=provider,
                                        mode="in_person", status="published"))
start = timezone.now() + dt.timedelta(days=30)
sessions = list(Session.objects.filter(course=course).order_by("pk"))
while len(sessions) < {SESSIONS}:
    sessions.append(Session.objects.create(course=course, starts_at=start,
                                           ends_at=start + dt.timedelta(hours=2),
                                           capacity={CAPACITY}))
MailRecord.objects.filter(booking__session__in=sessions).delete()
Booking.objects.filter(session__in=sessions).delete()
people = list(User.objects.filter(email__startswith="bench-").order_by("pk"))
if len(people) < {PEOPLE}:
    made = User.objects.bulk_create([User(email=f"bench-{{n}}@example.org", password="!")
                                     for n in range(len(people), {PEOPLE})])
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True,
                                                   primary=True) for u in made])
    people = list(User.objects.filter(email__startswith="bench-").order_by("pk"))
backend = "django.contrib.auth.backends.ModelBackend"
with open("{OUT}", "w") as out:
    for n, person in enumerate(people):
        store = SessionStore()
        store[SESSION_KEY] = str(person.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = person.get_session_auth_hash()
        store.create()
        # Each person books every session in turn, starting at a different one.
        for k in range(len(sessions)):
            out.write(f"{{store.session_key}} {{sessions[(n + k) % len(sessions)].pk}}\n")
print(",".join(str(s.pk) for s in sessions))
"""

LUA_REQUESTS = """
local pairs_list = {}
for line in io.lines("%(pairs)s") do
  local key, sid = line:match("(%%S+) (%%S+)")
  table.insert(pairs_list, {key, sid})
end
local counter = 0
local nthreads = %(threads)d
local id = 0
local threads_seen = 0
function setup(thread)
  thread:set("id", threads_seen)
  threads_seen = threads_seen + 1
end
function init(args)
  id = tonumber(wrk.thread:get("id")) or 0
end
function request()
  local i = (counter * nthreads + id) %% #pairs_list + 1
  counter = counter + 1
  local p = pairs_list[i]
  return wrk.format("POST", "/sessions/" .. p[2] .. "/book/", {
    ["Cookie"] = "sessionid=" .. p[1] .. "; csrftoken=%(csrf)s",
    ["X-CSRFToken"] = "%(csrf)s",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "")
end
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_BOOKING_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/cpd_bench_booking",
        ),
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    p.add_argument("--broker-url", default="redis://127.0.0.1:6379/5")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    wrk = bc.ensure_wrk()
    tmp = Path(tempfile.mkdtemp(prefix="cpd-bench-booking-"))
    port = bc.free_port()
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
    }
    proc = None
    try:
        name = urlsplit(args.database_url).path.lstrip("/")
        bc.recreate_database(args.database_url, name, drop=False)
        manage = [sys.executable, "manage.py"]
        bc.run(
            [*manage, "migrate", "--noinput", "-v0"],
            env=env,
            timeout=600,
            what="migrate",
        )
        bc.run(
            [*manage, "collectstatic", "--noinput", "-v0"],
            env=env,
            timeout=300,
            what="collectstatic",
        )
        pairs = tmp / "pairs.txt"
        script = PREPARE
        for key, value in {
            "SESSIONS": SESSIONS,
            "CAPACITY": CAPACITY,
            "PEOPLE": PEOPLE,
            "OUT": pairs,
        }.items():
            script = script.replace("{" + key + "}", str(value))
        script = script.replace("{{", "{").replace("}}", "}")
        session_ids = (
            bc.run(
                [*manage, "shell", "-c", script],
                env=env,
                timeout=600,
                what="prepare people and sessions",
            )
            .strip()
            .splitlines()[-1]
        )
        bc.say(f"{PEOPLE:,} signed-in people, {SESSIONS} sessions of {CAPACITY} places")
        log = tmp / "gunicorn.log"
        proc = bc.start_gunicorn(env, port, log, args.workers)
        bc.wait_until_up(proc, base + "/courses/", log, limit=30)

        lua_get = tmp / "get.lua"
        lua_get.write_text(bc.LUA)
        lua_post = tmp / "post.lua"
        lua_post.write_text(
            LUA_REQUESTS % {"pairs": pairs, "threads": args.threads, "csrf": CSRF}
            + bc.LUA
        )
        bc.run_wrk(
            wrk,
            base + "/courses/",
            lua_get,
            seconds=3,
            threads=args.threads,
            connections=args.connections,
        )
        catalogue = bc.run_wrk(
            wrk,
            base + "/courses/",
            lua_get,
            seconds=args.duration,
            threads=args.threads,
            connections=args.connections,
        )
        booking = bc.run_wrk(
            wrk,
            base + "/",
            lua_post,
            seconds=args.duration,
            threads=args.threads,
            connections=args.connections,
        )
        check = (
            bc.run(
                [
                    *manage,
                    "shell",
                    "-c",
                    (
                        "from courses.selectors import sessions_with_counts as s;"
                        f"rows = s().filter(pk__in=[{session_ids}]);"
                        "print(sum(r.confirmed_count for r in rows), sum(r.waiting_count for r in rows),"
                        " all(r.confirmed_count <= r.capacity for r in rows))"
                    ),
                ],
                env=env,
                timeout=120,
                what="check capacity",
            )
            .strip()
            .splitlines()[-1]
            .split()
        )
        bc.say("")
        bc.say(
            f"Booking benchmark: gunicorn {args.workers} sync workers; wrk "
            f"{args.threads} threads, {args.connections} connections, "
            f"{args.duration} s each; {os.cpu_count()} CPUs"
        )
        head = f"{'request':<28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}"
        bc.say(head)
        bc.say("-" * len(head))
        for label, r in (
            ("GET /courses/", catalogue),
            ("POST /sessions/<id>/book/", booking),
        ):
            bc.say(
                f"{label:<28} {r.rps:>8.1f} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} "
                f"{r.status_errors + r.socket_errors:>7}"
            )
        ratio = booking.rps / catalogue.rps if catalogue.rps else 0
        bc.say(f"booking / catalogue requests per second: {ratio:.0%}")
        bc.say(
            f"after the run: {check[0]} confirmed, {check[1]} waiting; "
            f"capacity never exceeded: {check[2]}"
        )
        return 0
    finally:
        if proc is not None:
            bc.stop_gunicorn(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
