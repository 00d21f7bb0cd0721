"""Private PostgreSQL, Redis and SMTP servers for fault tests.

Nothing here touches the shared servers: each fixture starts its own instance
on a free port under a temporary directory and removes it afterwards, so a
test may stop, kill or restart it. `on_private_db` points this process's
database connection (every thread's: the settings dict is shared) at the
private cluster for one test, outside pytest-django's test database; data
written there is committed for real, as a live server or worker would see it.
"""

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = next(
    (p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)),
    None,
)


def worker_env(
    *, database_url: str, broker_url: str, cache_url: str, smtp_port: int, **extra
) -> dict:
    """The environment of a worker or web process on the private servers."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "EMAIL_"))
    }
    env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        REDIS_URL=cache_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        # The test process signs the session cookies the server must read.
        SECRET_KEY=settings.SECRET_KEY,
        DEBUG="0",
        SITE_URL="http://testserver",
        ALLOWED_HOSTS="127.0.0.1,testserver",
        PYTHONUNBUFFERED="1",
        **{k: str(v) for k, v in extra.items()},
    )
    return env


class Processes:
    """Processes a test starts (gunicorn servers, Celery workers) on the
    private servers, each logging to its own file `<name>.log` in `log_dir`;
    `stop()` ends whichever are still running."""

    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()  # the child has its own copy
        self.running.append(process)
        return process

    def server(self, name: str) -> str:
        """gunicorn serving the app on a free port: its address, once it
        answers /healthz."""
        port = free_port()
        self.start(
            name,
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b",
             f"127.0.0.1:{port}", "-w", "2", "--threads", "4", "--timeout", "60"],
        )  # fmt: skip
        return f"http://127.0.0.1:{port}"

    def worker(self, name: str, *options: str) -> subprocess.Popen:
        """A Celery worker: the same command as `make worker`, one process,
        named apart as two machines' workers are."""
        return self.start(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool",
             "solo", "-n", f"{name}@%h", "--without-mingle", "--without-gossip",
             *options, "-l", "info"],
        )  # fmt: skip

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def logs(self, tail: int = 3000) -> str:
        """The end of every log, for a failing assertion's message."""
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}"
            for p in sorted(self.log_dir.glob("*.log"))
        )

    def stop(self, timeout: float = 20) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def answers_health(base: str) -> bool:
    """Whether the server at `base` answers /healthz with 200."""
    try:
        return requests.get(base + "/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _as_postgres(*args, **kwargs):
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 60),
        **kwargs,
    )


class PrivatePostgres:
    def __init__(self, root: Path):
        self.data = root / "data"
        self.socket_dir = root
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/cpd"

    def initdb(self) -> None:
        _as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
        )

    def _ctl(self, *args) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", *args)

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=60"
        )
        self._ctl("-o", opts, "-l", str(self.socket_dir / "log"), "start")

    def stop(self, mode="fast") -> None:
        self._ctl("-m", mode, "stop")

    def restart(self) -> None:
        self.stop("fast")
        self.start()


@pytest.fixture(scope="session")
def private_postgres():
    """A PostgreSQL cluster of our own, migrated, for the whole session."""
    if PG_BIN is None or shutil.which("runuser") is None:
        pytest.fail("PostgreSQL binaries (/usr/lib/postgresql/*/bin) are needed")
    root = Path(tempfile.mkdtemp(prefix="cpd-faults-pg-"))
    shutil.chown(root, "postgres", "postgres")
    pg = PrivatePostgres(root)
    pg.initdb()
    pg.start()
    try:
        _as_postgres(
            str(PG_BIN / "createdb"), "-h", str(root), "-p", str(pg.port), "cpd"
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": pg.url},
            check=True,
            capture_output=True,
            timeout=300,
        )
        yield pg
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            pg.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


class PrivateRedis:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        assert wait_for(lambda: self._answers(client), timeout=10)

    @staticmethod
    def _answers(client) -> bool:
        try:
            return client.ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis():
    root = Path(tempfile.mkdtemp(prefix="cpd-faults-redis-"))
    server = PrivateRedis(root)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def on_private_db(private_postgres, django_db_blocker):
    """This process's database connection, in every thread, on the private
    cluster for the test (committed writes, no test transaction), emptied
    first."""
    from django.db import connection

    with django_db_blocker.unblock():
        connection.close()
        saved = dict(connection.settings_dict)
        connection.settings_dict.update(
            NAME="cpd",
            HOST="127.0.0.1",
            PORT=str(private_postgres.port),
            USER="postgres",
            PASSWORD="",
        )
        try:
            _empty_private_database()
            yield private_postgres
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


def _empty_private_database() -> None:
    """Each test starts from the migrated state: no rows of another test's
    (a campaign to "everyone" or the outbox sweep would reach them)."""
    import importlib

    from django.apps import apps
    from django.core.management import call_command

    call_command("flush", "--no-input", verbosity=0)
    importlib.import_module(
        "consent.migrations.0002_first_policies_and_purposes"
    ).forwards(apps, None)


class ScriptedSmtp:
    """An aiosmtpd handler that answers each message with the next scripted
    reply ("451 ...", "550 ...") and accepts once the script is used up."""

    def __init__(self, replies=()):
        self.replies = list(replies)
        self.accepted: list[tuple[list[str], bytes]] = []
        self.arrived: list[list[str]] = []
        self.refused = 0
        self.pause_at: int | None = None  # the n-th message waits, then is kept
        self.pause_seconds = 0.0

    async def handle_DATA(self, server, session, envelope):
        self.arrived.append(list(envelope.rcpt_tos))
        if self.pause_at is not None and len(self.arrived) == self.pause_at:
            await asyncio.sleep(self.pause_seconds)
        if self.replies:
            self.refused += 1
            return self.replies.pop(0)
        self.accepted.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def private_smtp():
    from aiosmtpd.controller import Controller

    handler = ScriptedSmtp()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


def _reset_producer_pool(app) -> None:
    # Forget pooled broker connections so the next publish uses the new URL.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_on_private_redis(private_redis, settings, monkeypatch):
    """Celery in this process publishes to (and in-thread workers consume from)
    the private Redis, db 1. Celery reads CELERY_BROKER_URL from the
    environment before its own configuration, so both are set."""
    from config.celery import app

    url = private_redis.url(1)
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    original = app.conf.broker_url
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    _reset_producer_pool(app)
    assert app.conf.broker_url == url
    yield private_redis
    monkeypatch.undo()
    app.conf.broker_url = original
    _reset_producer_pool(app)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test`) the fault tests run one after another in
    one worker (tests/xdist_services.py schedules them as one unit), so one
    private PostgreSQL cluster (`private_postgres`, made and migrated once per
    process) serves them all and two never start at once. They go first
    (after pytest-django's ordering, hence trylast): they use no test
    database, and run last, as they are without xdist, their two minutes
    would be one worker's alone at the end of the run."""
    if not (hasattr(config, "workerinput") or config.getoption("numprocesses", 0)):
        return
    here = Path(__file__).parent
    faults = [item for item in items if here in Path(item.fspath).parents]
    items[:] = faults + [item for item in items if item not in faults]
