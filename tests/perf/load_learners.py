"""Load scenario: 200 signed-in learners browsing, searching and booking.

Builds its own database (`cpd_load`, recreated each run) with the demo catalogue
and 200 people, each with a signed-in session; serves the app through gunicorn
on loopback with a real Celery worker sending mail to a real SMTP server (an
aiosmtpd sink in this process); then runs `tests/perf/locustfile_learners.py`
with locust for two minutes: 200 users opening the home page, the catalogue, a
search, course pages and their bookings, and booking sessions (a few sessions
are given small capacities so that the waiting list is used too).

Afterwards it waits for the outbox to drain and checks, printing each:
- zero failed requests (any status other than the page's expected one);
- no session has more confirmed bookings than places;
- every booking has exactly one confirmation (or waiting-list) mail row, each
  sent, and the SMTP server received each message once.
It prints throughput and p50/p95/p99 per page. It exits 1 if a check fails,
2 if it cannot run; never on speed.

    .venv/bin/python tests/perf/load_learners.py [--users 200] [--duration 120]

Needs PostgreSQL and Redis on 127.0.0.1 (override with --database-url,
--redis-url, --broker-url). Everything stays on loopback.
"""

import argparse
import collections
import csv
import email
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiosmtpd.controller import Controller

from tests.perf import bench_catalogue as bc

ROOT = bc.ROOT
BIN = bc.BIN

PREPARE = r"""
import datetime as dt, json
from allauth.account.models import EmailAddress
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from accounts.models import User
from courses.selectors import sessions_bookable

people = User.objects.bulk_create(
    [User(email=f"load-{n}@example.org", password="!", first_name="Load",
          last_name=f"Learner {n}") for n in range(USERS)])
EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True,
                                               primary=True) for u in people])
keys = []
for person in people:
    store = SessionStore()
    store[SESSION_KEY] = str(person.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = person.get_session_auth_hash()
    store.create()
    keys.append(store.session_key)
bookable = list(sessions_bookable().select_related("course")
                .filter(starts_at__gte=timezone.now() + dt.timedelta(days=3))
                .order_by("starts_at")[:BOOKABLE])
# Half of them get few places, so that the waiting list fills up under load.
for n, s in enumerate(bookable):
    if n % 2 == 0:
        type(s).objects.filter(pk=s.pk).update(capacity=8)
slugs = sorted({s.course.slug for s in sessions_bookable().select_related("course")})
json.dump({"session_keys": keys, "bookable": [[s.pk, s.course.slug] for s in bookable],
           "slugs": slugs}, open(PLAN, "w"))
print(len(keys), len(bookable), len(slugs))
"""

CHECK = r"""
import json
from django.db.models import Count
from bookings.models import Booking, MailRecord
from courses.selectors import sessions_with_counts
ids = IDS
rows = list(sessions_with_counts().filter(pk__in=ids))
bookings = Booking.objects.filter(session__in=ids)
per_booking = (MailRecord.objects.filter(booking__in=bookings,
               kind__in=["confirmed", "waitlisted"]).values("booking")
               .annotate(n=Count("pk")))
counts = collections.Counter(r["n"] for r in per_booking)
print(json.dumps({
    "confirmed": sum(r.confirmed_count for r in rows),
    "waiting": sum(r.waiting_count for r in rows),
    "over_capacity": [r.pk for r in rows if r.confirmed_count > r.capacity],
    "bookings": bookings.count(),
    "bookings_with_one_mail": counts.get(1, 0),
    "bookings_with_more": sum(v for k, v in counts.items() if k > 1),
    "pending": MailRecord.objects.exclude(status="sent").count(),
    "sent": MailRecord.objects.filter(status="sent").count(),
}))
"""


class Sink:
    """Counts each message received by the outbox row it names (the
    X-CPD-Outbox-Row header), so a row sent twice shows as a duplicate even
    though its Date, Message-ID and calendar stamp differ."""

    def __init__(self):
        self.received = collections.Counter()
        self.strays = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        row = message.get("X-CPD-Outbox-Row")
        if row is None:  # not from an outbox: count it by its content
            row = "content:" + hashlib.sha256(envelope.content).hexdigest()
            self.strays.append(f"{message.get('Subject')} to {envelope.rcpt_tos}")
        self.received[row] += 1
        return "250 OK"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--spawn-rate", type=float, default=20)
    p.add_argument("--duration", type=int, default=120, help="seconds of load")
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    p.add_argument("--bookable", type=int, default=12, help="sessions to book")
    p.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cpd_load"
        ),
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/8"),
    )
    p.add_argument(
        "--broker-url",
        default=os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/9"),
    )
    return p.parse_args()


def manage_shell(script: str, env: dict[str, str], what: str) -> str:
    return (
        bc.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            env=env,
            timeout=600,
            what=what,
        )
        .strip()
        .splitlines()[-1]
    )


def read_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cpd-load-"))
    port = bc.free_port()
    base = f"http://127.0.0.1:{port}"
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=bc.free_port())
    smtp.start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.perf.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.broker_url,
        "DEBUG": "0",
        "SECRET_KEY": "load-test-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "60",
        "SITE_URL": base,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "LOG_LEVEL": "WARNING",
        "BENCH_STATIC_ROOT": str(tmp / "static"),
    }
    procs: list[subprocess.Popen] = []
    try:
        name = urlsplit(args.database_url).path.lstrip("/")
        bc.recreate_database(args.database_url, name, drop=True)
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
        bc.run([*manage, "seed_demo"], env=env, timeout=600, what="seed_demo")
        plan = tmp / "plan.json"
        script = (
            PREPARE.replace("USERS", str(args.users))
            .replace("BOOKABLE", str(args.bookable))
            .replace("PLAN", repr(str(plan)))
        )
        counts = manage_shell(script, env, "prepare learners").split()
        session_ids = [pk for pk, _ in json.loads(plan.read_text())["bookable"]]
        bc.say(
            f"{counts[0]} signed-in learners, {counts[1]} sessions to book "
            f"(half with 8 places), {counts[2]} courses"
        )
        log = tmp / "gunicorn.log"
        gunicorn = bc.start_gunicorn(env, port, log, args.workers)
        procs.append(gunicorn)
        bc.wait_until_up(gunicorn, base + "/courses/", log, limit=60)
        worker_log = (tmp / "worker.log").open("w")
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "WARNING",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        prefix = tmp / "locust"
        bc.say(
            f"locust: {args.users} users, {args.duration} s, against {base} "
            f"(gunicorn {args.workers} workers, 1 Celery worker)"
        )
        done = subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "tests/perf/locustfile_learners.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{args.duration}s",
                "--host",
                base,
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--exit-code-on-error",
                "0",
            ],
            cwd=ROOT,
            env={**env, "LOAD_PLAN": str(plan)},
            capture_output=True,
            text=True,
            timeout=args.duration + 120,
            check=False,
        )
        if not Path(f"{prefix}_stats.csv").exists():
            bc.fail(
                f"locust did not run:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )

        # Locust stops its users, but requests already queued at gunicorn are
        # still served (and book) after it exits: stop gunicorn gracefully so
        # that every request has finished before anything is counted.
        bc.stop_gunicorn(gunicorn)
        # Let the worker drain the outbox, then sweep once for anything left.
        check_script = CHECK.replace("IDS", repr(session_ids))
        check_script = "import collections\n" + check_script
        deadline = time.monotonic() + 120
        result = json.loads(manage_shell(check_script, env, "check"))
        while result["pending"] and time.monotonic() < deadline:
            time.sleep(2)
            result = json.loads(manage_shell(check_script, env, "check"))
        time.sleep(2)  # the last SMTP transactions finish

        stats = read_stats(prefix)
        bc.say("")
        head = (
            f"{'page':<16} {'requests':>9} {'failed':>7} {'req/s':>7} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
        )
        bc.say(head)
        bc.say("-" * len(head))
        total = None
        for row in stats:
            line = (
                f"{row['Name']:<16} {row['Request Count']:>9} "
                f"{row['Failure Count']:>7} {float(row['Requests/s']):>7.1f} "
                f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
            )
            if row["Name"] == "Aggregated":
                total = row
            else:
                bc.say(line)
        if total:
            bc.say("-" * len(head))
            bc.say(line)
        failures_csv = Path(f"{prefix}_failures.csv")
        failures = (
            list(csv.DictReader(failures_csv.open())) if failures_csv.exists() else []
        )
        duplicates = sum(1 for n in sink.received.values() if n > 1)
        received = sum(sink.received.values())
        checks = {
            "zero failed requests": bool(total) and int(total["Failure Count"]) == 0,
            "no session over capacity": not result["over_capacity"],
            "every booking has one confirmation row": result["bookings"]
            == result["bookings_with_one_mail"],
            "outbox drained (no unsent mail)": result["pending"] == 0,
            "SMTP got every sent message once": duplicates == 0
            and received == result["sent"],
        }
        bc.say("")
        bc.say(
            f"bookings: {result['bookings']} ({result['confirmed']} confirmed, "
            f"{result['waiting']} waiting); mail rows sent {result['sent']}, "
            f"messages received {received}, duplicates {duplicates}"
        )
        for label, ok in checks.items():
            bc.say(f"{'PASS' if ok else 'FAIL'}  {label}")
        for stray in sink.strays[:10]:
            bc.say(f"  not from an outbox row: {stray}")
        for row, n in sink.received.items():
            if n > 1:
                bc.say(f"  {row} received {n} times")
        for f in failures[:10]:
            bc.say(
                f"  failure: {f.get('Name')} {f.get('Error')} x{f.get('Occurrences')}"
            )
        if not all(checks.values()):
            kept = Path(tempfile.gettempdir()) / "cpd-load-logs"
            kept.mkdir(exist_ok=True)
            for name in ("worker.log", "gunicorn.log"):
                if (tmp / name).exists():
                    shutil.copy(tmp / name, kept / name)
            bc.say(f"  logs kept in {kept}")
        return 0 if all(checks.values()) else 1
    finally:
        for proc in reversed(procs):
            bc.stop_gunicorn(proc)
        smtp.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
