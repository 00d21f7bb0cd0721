"""pytest-xdist: a Redis of its own for each worker after the first, and the
fault tests kept together in one worker.

`make test` runs the suite in two processes (pytest-xdist, `-n 2`). Each has
its own test database (pytest-django adds `_gw0`, `_gw1` to its name), but
both would read REDIS_URL and CELERY_BROKER_URL from the same environment: one
worker's `cache.clear()` would empty the other's cache under a running test,
and an in-thread Celery worker would take the other process's tasks. So worker
gw1 (gw2, ...) starts a redis-server on a free loopback port, nothing kept on
disk, and points both variables at it (db 0 the cache, db 1 the broker) before
Django reads its settings; gw0, and a run without xdist, keep the servers they
were given. The server stops when the worker does.

The fault tests (tests/faults) start their own PostgreSQL cluster, Redis,
gunicorn and Celery workers: they are one unit of the schedule, run one after
another by one worker, which makes that cluster once.

Loaded with `-p tests.xdist_services` (the Makefile's `test` target), which
imports it before pytest-django sets Django up.
"""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest


def worker_number() -> int:
    """0 for gw0 or a run without xdist, n for gwn."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ends_with_parent() -> None:
    """In the child: SIGTERM when the worker dies, even if killed outright."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start_redis() -> str:
    """A redis-server of this process's own: its address."""
    port = _free_port()
    folder = tempfile.mkdtemp(prefix="cpd-xdist-redis-")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_ends_with_parent,
    )  # fmt: skip

    def stop() -> None:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}"
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server for xdist worker did not start on {port}")
        time.sleep(0.05)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Runs around pytest-django's own hook, which reads the settings.
    if worker_number() > 0:
        base = _start_redis()
        os.environ["REDIS_URL"] = f"{base}/0"
        os.environ["CELERY_BROKER_URL"] = f"{base}/1"
    return (yield)


FAULTS = "tests/faults/"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Like `--dist load`, one test at a time to whichever worker is free, but
    every test under tests/faults/ as one unit to one worker. (xdist's own
    `loadgroup` marks cannot do it with this pytest: it renames the test ids
    through an attribute pytest no longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    class FaultsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return FAULTS if nodeid.startswith(FAULTS) else nodeid

    return FaultsTogether(config, log)
