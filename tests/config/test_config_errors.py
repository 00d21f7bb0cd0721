"""A wrong setting stops each process with one line that names the variable,
what is wrong and a good example, and exit status 1: no traceback (issue 18).
So does a management command against a database that is down."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "EMAIL_URL")


def run(args: list[str], **env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"SECRET_KEY": "tests-only", "DEBUG": "0", **env_vars})
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


BAD = [
    (
        {"DATABASE_URL": "notaurl"},
        "Configuration error: DATABASE_URL='notaurl' is not valid: it must be a "
        "postgres:// or sqlite:/// URL. For example: "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd",
    ),
    (
        {"DATABASE_URL": "mysql://root:hunter2@db/cpd"},
        "Configuration error: DATABASE_URL='mysql://root:***@db/cpd' is not "
        "valid: it must be a postgres:// or sqlite:/// URL. For example: "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd",
    ),
    (
        {"LOGIN_FAILURES_PER_ACCOUNT": "five"},
        "Configuration error: LOGIN_FAILURES_PER_ACCOUNT='five' is not valid: it "
        "must be a whole number. For example: LOGIN_FAILURES_PER_ACCOUNT=5",
    ),
    (
        {"DEBUG": "maybe"},
        "Configuration error: DEBUG='maybe' is not valid: use 1 or 0 (true or "
        "false). For example: DEBUG=0",
    ),
    (
        {"EMAIL_URL": "smpt://mail.example:25"},
        "Configuration error: EMAIL_URL='smpt://mail.example:25' is not valid: "
        "unknown mail scheme; use smtp://, smtp+tls://, consolemail:// or "
        "filemail://. For example: EMAIL_URL=smtp://127.0.0.1:1025",
    ),
    (
        {"REDIS_URL": "127.0.0.1:6379"},
        "Configuration error: REDIS_URL='127.0.0.1:6379' is not valid: it must "
        "start with redis:// or rediss:// or unix://. For example: "
        "REDIS_URL=redis://127.0.0.1:6379/0",
    ),
    (
        # A publishable key pasted where the secret goes: named, never shown.
        {"STRIPE_SECRET_KEY": "pk_live_hunter2"},
        "Configuration error: STRIPE_SECRET_KEY='<hidden>' is not valid: it must "
        "start with sk_ or rk_. For example: STRIPE_SECRET_KEY=sk_live_...",
    ),
    (
        # PgBouncer's statement mode cannot run transactions at all.
        {"DATABASE_POOLER": "statement"},
        "Configuration error: DATABASE_POOLER='statement' is not valid: use "
        "transaction, session or leave unset. For example: "
        "DATABASE_POOLER=transaction",
    ),
    (
        {"SITE_URL": "cpd.example.org"},
        "Configuration error: SITE_URL='cpd.example.org' is not valid: it must "
        "start with http:// or https://. For example: "
        "SITE_URL=http://127.0.0.1:8000",
    ),
]


@pytest.mark.parametrize(("bad", "line"), BAD, ids=[next(iter(b)) for b, _ in BAD])
def test_a_wrong_setting_stops_manage_py_with_one_line(bad, line):
    result = run(["manage.py", "check"], **bad)
    assert result.returncode == 1
    assert result.stderr.strip() == line
    assert "Traceback" not in result.stdout + result.stderr
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize("entry", ["config.wsgi", "config.celery"])
def test_the_web_server_and_worker_stop_with_the_same_line(entry):
    result = run(["-c", f"import {entry}"], DATABASE_URL="notaurl")
    assert result.returncode == 1
    assert result.stderr.strip().startswith(
        "Configuration error: DATABASE_URL='notaurl' is not valid"
    )
    assert "Traceback" not in result.stderr


def test_migrate_against_a_database_that_is_down_is_one_line():
    result = run(
        ["manage.py", "migrate", "--noinput"],
        DATABASE_URL="postgres://postgres:pw@127.0.0.1:1/cpd",
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        "Database error: cannot reach the database at 127.0.0.1:1 (DATABASE_URL):"
    )
    assert "Is it running, and is DATABASE_URL right?" in lines[0]
    assert "pw@" not in lines[0]


def test_every_variable_the_settings_read_is_in_env_example():
    settings_text = (ROOT / "config" / "settings.py").read_text()
    read = set()
    import re

    for pattern in (
        r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"',
        r'require_url\(\s*env,\s*"([A-Z][A-Z0-9_]+)"',
    ):
        read |= set(re.findall(pattern, settings_text))
    example = (ROOT / ".env.example").read_text()
    missing = sorted(v for v in read if not re.search(rf"^#?\s*{v}=", example, re.M))
    assert missing == [], f"add these to .env.example with their meaning: {missing}"
