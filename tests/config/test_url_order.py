"""config/urls.py puts the busiest apps first (Django tries patterns in order).
That is safe only while no pattern can catch another's address: every named
URL, reversed with sample arguments, must resolve to the pattern it came from."""

import uuid

from django.urls import (
    NoReverseMatch,
    URLPattern,
    URLResolver,
    get_resolver,
    resolve,
    reverse,
)
from django.urls.converters import (
    IntConverter,
    PathConverter,
    SlugConverter,
    StringConverter,
    UUIDConverter,
)

SAMPLES = {
    IntConverter: 7,
    SlugConverter: "a-slug",
    StringConverter: "word",
    PathConverter: "some/path",
    UUIDConverter: uuid.UUID(int=7),
}


def _named(resolver: URLResolver, namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            yield from _named(entry, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def test_every_named_url_resolves_to_its_own_pattern():
    checked = 0
    for name, pattern in _named(get_resolver()):
        converters = getattr(pattern.pattern, "converters", None)
        if converters is None:  # a regex pattern (admin): not sampled
            continue
        kwargs = {
            key: SAMPLES.get(type(conv), "word") for key, conv in converters.items()
        }
        try:
            path = reverse(name, kwargs=kwargs)
        except NoReverseMatch:  # a regex-prefixed include (the admin)
            continue
        match = resolve(path)
        assert match.view_name == name or match.func == pattern.callback, (
            f"{path} ({name}) is caught by {match.view_name}"
        )
        checked += 1
    assert checked > 100  # the walk really saw the app's URLs


def test_the_busiest_pages_are_tried_first():
    first = get_resolver().url_patterns[0]
    assert getattr(first, "urlconf_name", None).__name__ == "courses.urls"
