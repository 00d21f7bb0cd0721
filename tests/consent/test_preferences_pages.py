"""The history of a person's contact choices grows at every choice (the
cookie banner's too), so the preferences page shows it twenty at a time,
newest first, and costs the same however long it is."""

import pytest

from config.paging import PER_PAGE
from consent import selectors, services
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _choices(person, n: int) -> list[str]:
    """n choices told to staff, each with its own note; the newest first."""
    staff = UserFactory.create()
    notes = [f"Phone call number {i:02d}" for i in range(n)]
    for note in reversed(notes):
        services.record_consent(
            person, "marketing", "email", True, "staff", by=staff, note=note
        )
    return notes


def test_the_history_of_choices_comes_a_page_at_a_time(client):
    person = UserFactory.create()
    client.force_login(person)
    notes = _choices(person, PER_PAGE + 4)

    first = client.get("/preferences/").content.decode()
    assert all(f"({n})" in first for n in notes[:PER_PAGE])
    assert not any(f"({n})" in first for n in notes[PER_PAGE:])
    assert first.index(notes[0]) < first.index(notes[1])
    assert 'href="?history=2#history" rel="next"' in first

    older = client.get("/preferences/?history=2").content.decode()
    assert all(f"({n})" in older for n in notes[PER_PAGE:])
    assert f"({notes[0]})" not in older
    assert 'href="?history=1#history" rel="prev"' in older
    # The choices themselves are the same on every page.
    assert 'name="marketing__email"' in older

    for odd in ("²", "0", "x", "9" * 40):
        page = client.get("/preferences/", {"history": odd})
        assert page.status_code == 200


def test_saving_choices_from_an_older_page_still_saves(client):
    person = UserFactory.create()
    client.force_login(person)
    _choices(person, PER_PAGE + 1)
    response = client.post("/preferences/?history=2", {"marketing__post": "on"})
    assert response.status_code == 302
    assert selectors.can_contact(person, "post", "marketing")
