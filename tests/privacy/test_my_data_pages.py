""" "Your data" costs the same however much is held about the person: where
imported data came from is one grouped query per category that records
imports (not every row of every category), and the list of times their data
was shared comes twenty at a time, newest first."""

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from config.paging import PER_PAGE
from privacy import registry, services
from privacy.models import Disclosure
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_every_model_that_records_imports_is_a_category_data_sources_reads():
    """A model given `import_source` and `imported_at` is listed on "Your
    data" only through its privacy category: a new one must be registered."""
    recording = {
        m._meta.label
        for m in apps.get_models()
        if {"import_source", "imported_at"} <= {f.name for f in m._meta.get_fields()}
    }
    assert recording
    assert recording <= {c.model._meta.label for c in registry.categories()}


def test_where_imported_data_came_from_is_counted_in_a_query_per_category(
    django_assert_max_num_queries,
):
    when = timezone.now() - dt.timedelta(days=3)
    person = UserFactory.create(import_source="Westmoor HR list", imported_at=when)
    for days in range(30):
        BookingFactory.create(
            person=person,
            import_source="Old booking system",
            imported_at=when - dt.timedelta(days=days),
        )
    BookingFactory.create(person=person, import_source="Second list", imported_at=when)
    BookingFactory.create(person=person)  # booked here

    importing = {
        c.model
        for c in registry.categories()
        if {"import_source", "imported_at"}
        <= {f.name for f in c.model._meta.get_fields()}
    }
    with django_assert_max_num_queries(len(importing)):
        sources = services.data_sources(person)
    assert sources == [
        {
            "category": "account",
            "source": "Westmoor HR list",
            "imported_at": when,
            "count": 1,
        },
        {
            "category": "bookings",
            "source": "Old booking system",
            # The first import from that source.
            "imported_at": when - dt.timedelta(days=29),
            "count": 30,
        },
        {
            "category": "bookings",
            "source": "Second list",
            "imported_at": when,
            "count": 1,
        },
    ]


def _shared(person, n: int) -> list[str]:
    """n disclosures about the person (logged as they happen, so created
    oldest first); returns their recipients, the newest first."""
    names = [f"Provider {i:02d}" for i in range(n)]
    for name in reversed(names):
        Disclosure.objects.create(
            person=person,
            recipient=name,
            fields="name, email",
            purpose="running the session",
        )
    return names


def test_times_we_shared_their_data_come_a_page_at_a_time(learner_client):
    names = _shared(learner_client.user, PER_PAGE + 3)
    withheld = Disclosure.objects.create(
        person=learner_client.user,
        recipient="Withheld recipient",
        fields="name",
        purpose="crime prevention",
        withheld_at=timezone.now(),
        withhold_exemption=Disclosure.Exemption.CRIME,
        withhold_reason="An open police investigation",
    )
    first = learner_client.get("/my-data/").content.decode()
    assert all(f"{n}<br>" in first for n in names[:PER_PAGE])
    assert not any(f"{n}<br>" in first for n in names[PER_PAGE:])
    assert first.index(names[0]) < first.index(names[1])
    assert 'href="?shared=2#shared" rel="next"' in first
    assert withheld.recipient not in first

    older = learner_client.get("/my-data/?shared=2").content.decode()
    assert all(f"{n}<br>" in older for n in names[PER_PAGE:])
    assert f"{names[0]}<br>" not in older
    assert 'href="?shared=1#shared" rel="prev"' in older
    for odd in ("²", "0", "x", "9" * 40):
        page = learner_client.get("/my-data/", {"shared": odd})
        assert page.status_code == 200
        assert names[0] in page.content.decode()


def test_a_person_never_sees_anothers_disclosures(learner_client):
    _shared(UserFactory.create(), 3)
    page = learner_client.get("/my-data/").content.decode()
    assert "We have not shared your data with anyone." in page
