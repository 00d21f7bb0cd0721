import importlib

import pytest
from django.apps import apps


@pytest.fixture(autouse=True)
def _first_policies(db):
    """The first privacy notice and cookie policy come from a data migration. A
    transactional test elsewhere flushes them from a reused test database, so
    put them back (the migration's own function is idempotent)."""
    migration = importlib.import_module(
        "consent.migrations.0002_first_policies_and_purposes"
    )
    migration.forwards(apps, None)
