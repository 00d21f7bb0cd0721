"""The catalogue's filter form is rendered field by field through a per-process
memo keyed by what varies (catalogue.filter_form). Whatever the query string,
valid or not, the HTML must be exactly Django's own rendering of the form:
each query string here is rendered both ways, with the memo already holding
the fields of all the others."""

import itertools
import random

import pytest
from django.http import QueryDict

from courses import selectors
from courses.forms import CatalogueForm
from courses.templatetags.catalogue import FILTER_FIELDS, filter_form
from tests.courses.factories import ProviderFactory, TopicFactory

pytestmark = pytest.mark.django_db

VALUES = {
    "q": ["", "safeguarding", "first aid", "<b>&\"'x", "x" * 201, "²"],
    "topic": ["", "reading", "no-such-topic"],
    "mode": ["", "in_person", "e_learning", "teleport"],
    "provider": ["", "PROVIDER", "99999", "abc"],
    "from": ["", "2027-01-15", "2027-02-31", "yesterday"],
    "from_day": ["", "1", "31", "²", "x"],
    "from_month": ["", "2", "13"],
    "from_year": ["", "2027", "27"],
    "to": ["", "2027-01-01", "2026-12-31"],
    "free": ["", "1", "on", "no"],
    "available": ["", "1"],
    "sort": ["", "soonest", "title", "sideways"],
}


def _query_strings(n: int, provider_id: int) -> list[QueryDict]:
    rng = random.Random(15)
    out = []
    for _ in range(n):
        q = QueryDict(mutable=True)
        for name, values in VALUES.items():
            value = rng.choice(values).replace("PROVIDER", str(provider_id))
            if value:
                q[name] = value
        out.append(q)
    # Every value of each field alone, too.
    for name, values in VALUES.items():
        for value in itertools.islice(values, 1, None):
            q = QueryDict(mutable=True)
            q[name] = value.replace("PROVIDER", str(provider_id))
            out.append(q)
    return out


def test_the_memo_renders_every_query_string_exactly_as_django_does():
    TopicFactory.create(name="Reading", slug="reading")
    TopicFactory.create(name="Maths", slug="maths")
    provider = ProviderFactory.create(name="Hub & Co")
    topics = list(selectors.topics_all())
    providers = list(selectors.providers_all())
    FILTER_FIELDS.clear()
    for query in _query_strings(300, provider.pk):
        form = CatalogueForm(query, topics=topics, providers=providers)
        form.is_valid()
        assert filter_form(form) == str(form), query.urlencode()
    assert len(FILTER_FIELDS) > 9  # the memo was really used


def test_a_new_topic_shows_in_the_form_at_once():
    TopicFactory.create(name="Reading", slug="reading")
    form = CatalogueForm(QueryDict(), topics=list(selectors.topics_all()), providers=[])
    form.is_valid()
    assert "Phonics" not in filter_form(form)
    TopicFactory.create(name="Phonics", slug="phonics")
    form = CatalogueForm(QueryDict(), topics=list(selectors.topics_all()), providers=[])
    form.is_valid()
    assert '<option value="phonics">Phonics</option>' in filter_form(form)
