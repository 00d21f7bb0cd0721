import pytest


@pytest.fixture(autouse=True)
def _first_policies(first_policies):
    """Every consent test sees the published first policies (tests/conftest.py)."""
