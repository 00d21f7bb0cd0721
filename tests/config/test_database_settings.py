"""Production database settings (issue 15): connections kept and checked when
a DATABASE_URL is set, sessions read through Redis when REDIS_URL is, and
what PgBouncer's transaction mode needs. Each case starts the settings in a
process of its own, with only the environment it names."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; print(json.dumps({'age': d['CONN_MAX_AGE'], "
    "'checks': d['CONN_HEALTH_CHECKS'], "
    "'cursors': d.get('DISABLE_SERVER_SIDE_CURSORS', False), "
    "'prepare': d.get('OPTIONS', {}).get('prepare_threshold', 'unset'), "
    "'sessions': s.SESSION_ENGINE}))"
)


def settings_with(**env_vars: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "CONN_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="tests-only",
        DEBUG="0",
        **env_vars,
    )
    result = subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


POSTGRES = "postgres://postgres@127.0.0.1:5432/cpd"


def test_with_a_database_url_connections_are_kept_and_checked():
    found = settings_with(DATABASE_URL=POSTGRES)
    assert found["age"] == 60
    assert found["checks"] is True
    # Nothing else changes without a pooler.
    assert found["cursors"] is False
    assert found["prepare"] == "unset"


def test_the_environment_overrides_the_connection_defaults():
    found = settings_with(
        DATABASE_URL=POSTGRES, CONN_MAX_AGE="0", CONN_HEALTH_CHECKS="0"
    )
    assert (found["age"], found["checks"]) == (0, False)


def test_the_embedded_sqlite_file_opens_a_connection_per_request():
    found = settings_with()
    assert (found["age"], found["checks"]) == (0, False)
    assert found["sessions"] == "django.contrib.sessions.backends.db"


def test_sessions_are_read_through_redis_when_it_is_set():
    found = settings_with(DATABASE_URL=POSTGRES, REDIS_URL="redis://127.0.0.1:6379/0")
    assert found["sessions"] == "config.sessions"  # cached_db, cached briefly
    assert settings_with(DATABASE_URL=POSTGRES)["sessions"] == (
        "django.contrib.sessions.backends.db"
    )


def test_pgbouncer_in_transaction_mode_gets_no_server_side_cursors_or_prepares():
    found = settings_with(DATABASE_URL=POSTGRES, DATABASE_POOLER="transaction")
    assert found["cursors"] is True
    assert found["prepare"] is None
    session_mode = settings_with(DATABASE_URL=POSTGRES, DATABASE_POOLER="session")
    assert (session_mode["cursors"], session_mode["prepare"]) == (False, "unset")


def test_a_session_is_cached_briefly_and_read_from_the_database_after(
    db, client, settings
):
    """With Redis, a signed-in page reads the session from the cache, which
    keeps it at most SESSION_CACHE_SECONDS (not the session's two weeks): a
    copy left behind by a sign-out during an outage soon expires by itself."""
    from django.contrib.sessions.models import Session
    from django.core.cache import cache

    from tests.accounts.factories import UserFactory

    assert settings.SESSION_ENGINE == "config.sessions"
    person = UserFactory.create()
    client.force_login(person)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/bookings/").status_code == 200

    cache_key = cache.make_and_validate_key(f"django.contrib.sessions.cached_db{key}")
    ttl = cache._cache.get_client(cache_key).ttl(cache_key)
    assert 0 < ttl <= settings.SESSION_CACHE_SECONDS
    # The database is the record: its row lasts the session's full age.
    row = Session.objects.get(session_key=key)
    assert (row.expire_date - timezone_now()).total_seconds() > 24 * 3600


def timezone_now():
    from django.utils import timezone

    return timezone.now()
