"""Random strings from one read of the system's random source.

Django makes a CSRF secret for a visitor's first page, and masks it afresh for
every page with a form, with `django.utils.crypto.get_random_string`, which
asks `secrets.choice` once per character: 32 reads of `os.urandom` each, about
25 µs, so 57 µs a page for a visitor without the cookie (a cached catalogue
page costs about 400 µs in all; docs/performance.md). `random_string` draws
the same characters, each uniform over the alphabet and from the same source,
from one read. `AccountsConfig.ready` gives it to Django's CSRF middleware.
"""

from os import urandom

from django.utils.crypto import RANDOM_STRING_CHARS, get_random_string


def random_string(length: int, allowed_chars: str = RANDOM_STRING_CHARS) -> str:
    """`length` characters of `allowed_chars`, each drawn uniformly.

    A byte is kept only below the largest multiple of the alphabet's size
    (248 for 62 characters), so that every character is equally likely, as
    `secrets.choice` makes them."""
    size = len(allowed_chars)
    if not 1 < size <= 256:
        return get_random_string(length, allowed_chars)
    limit = 256 - 256 % size
    chars: list[str] = []
    while len(chars) < length:
        chars += [allowed_chars[b % size] for b in urandom(length + 16) if b < limit]
    return "".join(chars[:length])
