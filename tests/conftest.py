import importlib
import json
import os
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from config.celery import app as celery_app

# The Stripe-compatible server and card payment settings (any test may use them).
pytest_plugins = ["tests.payments.stripe_fake"]


def pytest_configure(config):
    """Passwords in tests are hashed with MD5. Production keeps Django's
    PBKDF2 (a million iterations, about a third of a second a password on this
    machine); every factory person pays that once, which was minutes of the
    suite, and no test is about the hasher's strength (`check --deploy` runs in
    a subprocess with the production settings)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Performance counts are written only when a test asks (tests/analytics):
    # a write falling inside another test's request would add to its queries.
    settings.ANALYTICS_METRICS_FLUSH_SECONDS = 10**9
    # pytest-xdist workers after the first need a Redis of their own.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if worker != "gw0" and not config.pluginmanager.hasplugin("tests.xdist_services"):
        raise pytest.UsageError(
            "Run pytest-xdist with `-p tests.xdist_services` (as `make test` "
            "does): each worker needs a Redis of its own."
        )


@pytest.fixture(scope="session", autouse=True)
def _erasure_log_of_the_sessions_own(tmp_path_factory):
    """Every erasure appends to the erasure log (privacy.erasure_log): in tests,
    to a file of the session's own, never to the checkout's .local/."""
    from django.test import override_settings

    path = tmp_path_factory.mktemp("erasures") / "erasure-log.jsonl"
    with override_settings(ERASURE_LOG_PATH=str(path)):
        yield


@pytest.fixture(scope="session", autouse=True)
def _no_performance_counts_left_at_exit():
    """Requests made by tests add to this process's performance counts
    (analytics.metrics), which an atexit hook would write to the reused test
    database: drop them when the session ends."""
    yield
    from analytics import metrics

    metrics._take()


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """A transactional test (browser, live server, races) ends with Django's
    `flush`: on PostgreSQL one TRUNCATE of every table, which makes new files
    for each table and index, about half a second each time on this machine
    (the suite's teardowns took 79 s with it, 53 s without). Emptying the tables with DELETE leaves the same
    empty tables in a hundredth of that. DELETE would fire the row triggers
    that keep the ledger and invoices append-only, and the foreign-key checks
    (pointless when every table is emptied), so they are off for that one
    transaction (session_replication_role, as TRUNCATE skips row triggers
    too). That needs a superuser, as the tests' database user is; for any
    other user, and for a flush that resets sequences or cascades, Django's
    own TRUNCATE is kept."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables or not _superuser(self):
            return truncate(
                self,
                style,
                tables,
                reset_sequences=reset_sequences,
                allow_cascade=allow_cascade,
            )
        return [
            "SET LOCAL session_replication_role = replica;",
            # Table names come from the database's own catalogue.
            *(f"DELETE FROM {self.quote_name(t)};" for t in tables),  # noqa: S608
        ]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


def _superuser(ops) -> bool:
    with ops.connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return bool(cursor.fetchone()[0])


@pytest.fixture(autouse=True)
def _tasks_run_in_process_by_default():
    """Most tests run tasks in-process; tests about delivery start a real worker."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    return


@pytest.fixture
def redis_down(settings):
    """The cache pointed at a port nothing listens on: the first call fails
    and opens the breaker, later ones answer nothing (config/cache.py)."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ReusingRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    cache.reset_breaker()


@pytest.fixture
def verified_user(db):
    from tests.accounts.factories import UserFactory

    user = UserFactory.create()
    EmailAddress.objects.create(
        user=user, email=user.email, primary=True, verified=True
    )
    return user


@pytest.fixture
def learner_client(client, verified_user):
    client.force_login(verified_user)
    client.user = verified_user
    return client


def give_totp(user) -> Authenticator:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    return TOTP.activate(user, generate_totp_secret()).instance


def staff_client(group: str | None = None, *, totp: bool = True):
    """A client signed in as a new staff member, with two-factor set up unless
    `totp` is False, in the role `group` (or none); `client.user` is that
    person."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from tests.accounts.factories import UserFactory

    user = UserFactory.create(is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    if totp:
        give_totp(user)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def marketing_client(db):
    """Signed in as a member of the "Marketing officers" role, with two-factor."""
    from accounts import roles

    return staff_client(roles.MARKETING_OFFICERS)


@pytest.fixture
def first_policies(db):
    """The first privacy notice, cookie policy and processing purposes come from
    a data migration. A transactional test flushes them from a reused test
    database, so put them back (the migration's function is idempotent)."""
    from django.apps import apps

    for name in (
        "0002_first_policies_and_purposes",
        "0003_privacy_notice_covers_funding_imports_and_reports",
        "0004_privacy_notice_covers_organisations",
        "0005_privacy_notice_covers_bank_transfers",
        "0006_privacy_notice_covers_cards_and_services",
        "0007_privacy_notice_covers_disclosures_and_transmission",
        "0008_privacy_notice_covers_closure_corrections_and_backups",
        "0009_privacy_notice_covers_surveys_measurement_and_analytics",
        "0012_privacy_notice_covers_every_application_type",
    ):
        importlib.import_module(f"consent.migrations.{name}").forwards(apps, None)


@pytest.fixture
def private_media(settings, tmp_path):
    """Files stored during the test go to a folder of its own (the default
    storage), so tests can look for them and never see another test's."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def _transactional(item) -> bool:
    """Whether pytest-django puts this test with the transactional ones, last:
    they flush the database when they finish (the seeded rows go with it)."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", [])
    return bool(
        (marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)))
        or "transactional_db" in fixtures
        or "live_server" in fixtures
    )


def _browser_tests_outside_e2e(items) -> list[str]:
    """Tests outside tests/e2e that pytest-playwright parametrized with a
    browser: a test there that names a parameter or fixture `page`,
    `browser` or `context` gets one, and pytest then moves every browser test
    (transactional: they empty the database when they finish) next to it,
    before the tests that need the data migrations' rows."""
    return [
        item.nodeid
        for item in items
        if "browser_name" in getattr(getattr(item, "callspec", None), "params", {})
        and not item.nodeid.startswith("tests/e2e/")
    ]


def pytest_collection_modifyitems(config, items):
    """Refuses browser-parametrized tests outside tests/e2e (see
    `_browser_tests_outside_e2e`).

    Under mutation testing (`make mutation`: mutmut names the mutant in
    MUTANT_UNDER_TEST and runs from mutants/, beside its stats; and `make
    mutation-recheck`, which sets MUTATION_FAST_FIRST), run a mutant's tests
    fastest first, as mutmut's own fork runner does, so that a killed mutant
    stops at its first failing test sooner. Transactional tests stay after the
    others, as pytest-django orders them. Outside mutation testing the order is
    untouched."""
    if stray := _browser_tests_outside_e2e(items):
        raise pytest.UsageError(
            "These tests were given a browser by pytest-playwright (a parameter or"
            " fixture named page, browser or context?); rename it: "
            + ", ".join(stray[:5])
        )
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    stats = Path("mutmut-stats.json")
    wanted = "__mutmut_" in mutant or os.environ.get("MUTATION_FAST_FIRST")
    if not wanted or not stats.exists():
        return
    try:
        durations = json.loads(stats.read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: (_transactional(item), durations.get(item.nodeid, 0.0)))
