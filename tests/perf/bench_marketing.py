"""Benchmark of campaign sending: correctness under opt-outs, speed, memory.

Builds (every run, in its own database `cpd_bench_mkt`) 100,000 people: 70 %
agreed to marketing by email, 30 % agreed and later opted out. Then, twice,
sends an email campaign through a real Celery worker (`celery worker`, prefork
pool of --workers processes, default 2; the Redis broker on db 7) to an SMTP
sink (aiosmtpd on loopback, counting every recipient):

- to 20,000 people (a job-title audience), with 200 of them opting out while
  it is being sent;
- to all 100,000, with 1,000 more opting out while it is being sent.

Each run checks that exactly the people who could be contacted at their moment
of sending got the message, each once; that no one who had opted out before
their turn got anything; and that every person has one delivery row. It prints
messages per second per worker process and the largest worker process's peak
RSS (VmHWM), which must not grow with the audience: the audience is streamed as ids in batches.

    .venv/bin/python tests/perf/bench_marketing.py [--people 100000] [--small 20000]

Needs PostgreSQL and Redis on 127.0.0.1. Takes a few minutes; each run is
bounded by --timeout seconds. Exits 0 whatever the figures, 1 if a check fails.
"""

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DB = "cpd_bench_mkt"
PG = "postgres://postgres@127.0.0.1:5432"
BROKER = "redis://127.0.0.1:6379/7"


def say(msg: str) -> None:
    print(msg, flush=True)


class Sink:
    """An SMTP server that only counts recipients."""

    def __init__(self) -> None:
        self.recipients: Counter = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def start_sink() -> tuple[Sink, object, int]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return sink, controller, port


def environment(smtp_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB}",
        "CELERY_BROKER_URL": BROKER,
        "REDIS_URL": "redis://127.0.0.1:6379/8",
        "SECRET_KEY": "bench",
        "DEBUG": "0",
        "SITE_URL": "http://127.0.0.1:8000",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "MARKETING_SEND_RATE_PER_SECOND": "0",  # unlimited: measure the worker
        "MARKETING_BATCH_SIZE": "500",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def fresh_database(env: dict[str, str]) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def build_people(n: int, small: int) -> None:
    from django.utils import timezone

    from accounts.models import Profile, User
    from consent.models import ConsentRecord

    started = time.monotonic()
    users = (
        User(
            email=f"bench{i}@example.org",
            first_name=f"P{i}",
            password="!",  # unusable
            is_active=True,
        )
        for i in range(n)
    )
    User.objects.bulk_create(users, batch_size=5000)
    ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
    Profile.objects.bulk_create(
        (
            Profile(user_id=pk, job_title="Nurse" if i < small else "Teacher")
            for i, pk in enumerate(ids)
        ),
        batch_size=5000,
    )
    rng = random.Random(8)
    opted_out = set(rng.sample(ids, k=int(n * 0.3)))
    now = timezone.now()
    granted = (
        ConsentRecord(
            person_id=pk,
            purpose="marketing",
            channel="email",
            granted=True,
            source="signup",
            recorded_at=now,
        )
        for pk in ids
    )
    ConsentRecord.objects.bulk_create(granted, batch_size=5000)
    withdrawn = (
        ConsentRecord(
            person_id=pk,
            purpose="marketing",
            channel="email",
            granted=False,
            source="preferences",
            recorded_at=now,
        )
        for pk in sorted(opted_out)
    )
    ConsentRecord.objects.bulk_create(withdrawn, batch_size=5000)
    with psycopg.connect(f"{PG}/{DB}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    say(
        f"built {n:,} people ({len(opted_out):,} opted out) "
        f"in {time.monotonic() - started:.0f}s"
    )


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def worker_rss_kb(pid: int, field: str) -> int:
    """The largest of the pool's worker processes (they do the sending)."""
    return max((rss_kb(c, field) for c in children(pid)), default=0)


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def opt_out_while_sending(person_ids, campaign_id, stop, done_ids, per_second):
    """Withdraw consent for each person, through the consent service, at a
    steady pace once the campaign has started sending."""
    from django.db import connection

    from accounts.models import User
    from consent.services import record_consent
    from marketing.models import Delivery

    try:
        while not Delivery.objects.filter(campaign_id=campaign_id).exists():
            if stop.is_set():
                return
            time.sleep(0.05)
        for pk in person_ids:
            if stop.is_set():
                return
            record_consent(User(pk=pk), "marketing", "email", False, "unsubscribe")
            done_ids.append(pk)
            time.sleep(1 / per_second)
    finally:
        connection.close()


def run(
    label: str, campaign, late_count: int, env, sink, timeout: float, workers: int
) -> tuple[bool, int]:
    from django.db.models import Max, Min

    from consent.models import ConsentRecord
    from consent.selectors import can_contact  # noqa: F401 (the rule checked)
    from marketing import selectors, services
    from marketing.models import Campaign, Delivery

    audience = list(selectors.campaign_audience_ids(campaign))  # for checks only
    contactable_before = set(
        selectors.campaign_recipients(campaign).values_list("pk", flat=True)
    )
    rng = random.Random(len(audience))
    late = rng.sample(sorted(contactable_before), k=late_count)
    sink.recipients.clear()

    from config.celery import app

    app.control.purge()
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            f"--concurrency={workers}",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    stop = threading.Event()
    done_ids: list[int] = []
    try:
        time.sleep(3)  # worker boot
        rss_idle = worker_rss_kb(worker.pid, "VmRSS")
        started = time.monotonic()
        services.send_campaign(campaign)
        opt_outs = threading.Thread(
            target=opt_out_while_sending,
            args=(late, campaign.pk, stop, done_ids, 50),
        )
        opt_outs.start()
        samples = []
        deadline = started + timeout
        while time.monotonic() < deadline:
            status = Campaign.objects.values_list("status", flat=True).get(
                pk=campaign.pk
            )
            if status == "sent":
                break
            samples.append(worker_rss_kb(worker.pid, "VmRSS"))
            time.sleep(1)
        else:
            say(f"{label}: TIMEOUT after {timeout:.0f}s")
            return False, 0
        elapsed = time.monotonic() - started
        stop.set()
        opt_outs.join()
        peak = worker_rss_kb(worker.pid, "VmHWM")
    finally:
        stop.set()
        worker.terminate()
        worker.wait(30)

    deliveries = Delivery.objects.filter(campaign=campaign)
    window = deliveries.aggregate(first=Min("created_at"), last=Max("created_at"))
    send_seconds = (window["last"] - window["first"]).total_seconds()
    sent = dict(deliveries.filter(status="sent").values_list("person_id", "created_at"))
    from accounts.models import User

    emails = set(User.objects.filter(pk__in=sent).values_list("email", flat=True))
    withdrawn_at = dict(
        ConsentRecord.objects.filter(
            person_id__in=done_ids, source="unsubscribe", granted=False
        ).values_list("person_id", "recorded_at")
    )
    checks = {
        "one delivery row per person": deliveries.count() == len(audience),
        "nobody opted out beforehand got it": not (set(sent) - contactable_before),
        "everyone else contactable got it": (contactable_before - set(done_ids))
        <= set(sent),
        "late opt-outs: only messages claimed before the opt-out": all(
            sent[pk] < withdrawn_at[pk] for pk in done_ids if pk in sent
        ),
        "sink got exactly the sent people": set(sink.recipients) == emails,
        "each person at most once": max(sink.recipients.values(), default=1) == 1,
    }
    late_sent = sum(1 for pk in done_ids if pk in sent)
    say(
        f"\n== {label}: audience {len(audience):,}, contactable when queued "
        f"{len(contactable_before):,}, opted out while sending {len(done_ids):,} "
        f"({late_sent} of them had already been sent it, {len(done_ids) - late_sent} "
        f"were skipped)"
    )
    say(
        f"   sent {len(sent):,} messages; sink received "
        f"{sum(sink.recipients.values()):,} for {len(sink.recipients):,} addresses"
    )
    say(
        f"   {len(sent) / send_seconds / workers:,.0f} messages/s per worker process "
        f"({len(audience) / send_seconds / workers:,.0f} recipients/s; {workers} "
        f"processes: {len(sent) / send_seconds:,.0f} messages/s in all; send window "
        f"{send_seconds:.1f}s, {elapsed:.1f}s from 'send' to 'sent')"
    )
    say(
        f"   worker process RSS: {rss_idle / 1024:.0f} MiB idle, peak (VmHWM) "
        f"{peak / 1024:.0f} MiB; sampled max {max(samples, default=0) / 1024:.0f} MiB"
    )
    for name, ok in checks.items():
        say(f"   [{'ok' if ok else 'FAIL'}] {name}")
    return all(checks.values()), peak


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args = parser.parse_args()

    sink, controller, port = start_sink()
    env = environment(port)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    fresh_database(env)

    import django

    django.setup()
    from marketing.models import Campaign

    build_people(args.people, args.small)
    results = []
    small = Campaign.objects.create(
        name="bench small",
        channel="email",
        audience="chosen",
        job_titles="Nurse",
        subject="Hello {first_name}",
        body="Hello {first_name},\n\nNew courses are open.",
    )
    results.append(
        run(
            f"{args.small:,} people",
            small,
            args.small // 100,
            env,
            sink,
            args.timeout,
            args.workers,
        )
    )
    big = Campaign.objects.create(
        name="bench everyone",
        channel="email",
        subject="Hello {first_name}",
        body="Hello {first_name},\n\nNew courses are open.",
    )
    results.append(
        run(f"{args.people:,} people", big, 1000, env, sink, args.timeout, args.workers)
    )
    controller.stop()
    (ok_small, peak_small), (ok_big, peak_big) = results
    say(
        f"\nworker peak RSS {peak_small / 1024:.0f} MiB at {args.small:,} vs "
        f"{peak_big / 1024:.0f} MiB at {args.people:,} "
        f"({(peak_big - peak_small) / 1024:+.0f} MiB)"
    )
    return 0 if ok_small and ok_big else 1


if __name__ == "__main__":
    sys.exit(main())
