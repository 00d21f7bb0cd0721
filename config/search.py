"""The one way a typed search of names is read: its words (up to
`SEARCH_WORDS`, split on spaces) must each appear, in any case, somewhere in
one of the fields given. The workplace search, the members search, the staff
queues' provider and workplace filters and the admin's "name contains"
filters all read a search this way. (The catalogue's full-text search is
`courses.selectors.search_terms`.)"""

import operator
from functools import reduce

from django.db.models import Q, QuerySet

SEARCH_WORDS = 5


def search_words(text: str) -> list[str]:
    return text.split()[:SEARCH_WORDS]


def holding_every_word(rows: QuerySet, text: str, *paths: str) -> QuerySet:
    """`rows` whose field at one of `paths` holds each word of `text`."""
    for word in search_words(text):
        rows = rows.filter(
            reduce(operator.or_, (Q(**{f"{path}__icontains": word}) for path in paths))
        )
    return rows
