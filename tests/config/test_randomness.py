"""CSRF secrets and masks are drawn by config.randomness.random_string."""

import collections
import os
import re

import django.middleware.csrf
from django.middleware.csrf import CSRF_ALLOWED_CHARS, get_token
from django.test import Client, RequestFactory

from config import randomness
from config.randomness import random_string


def test_django_csrf_middleware_draws_with_random_string(monkeypatch):
    # If a Django release renames what it calls, or stops calling it, this
    # fails rather than the speed-up silently going away.
    assert django.middleware.csrf.get_random_string is random_string
    reads = []

    def counted(n: int) -> bytes:
        reads.append(n)
        return os.urandom(n)

    monkeypatch.setattr(randomness, "urandom", counted)
    assert len(django.middleware.csrf._get_new_csrf_string()) == 32
    assert reads == [48]  # one read for 32 characters
    token = get_token(RequestFactory().get("/"))
    assert len(token) == 64
    assert set(token) <= set(CSRF_ALLOWED_CHARS)


def test_random_string_is_of_the_length_and_alphabet_asked():
    for length in (0, 1, 32, 200):
        text = random_string(length, "ab")
        assert len(text) == length
        assert set(text) <= {"a", "b"}
    assert re.fullmatch(r"[a-zA-Z0-9]{32}", random_string(32))
    assert random_string(32) != random_string(32)


def test_every_character_is_equally_likely():
    """Chi-squared over 248,000 draws of 62 characters: a bias such as
    `byte % 62` without rejecting the top 8 byte values (each of the first
    eight characters a quarter more likely: a statistic of about 1,600) is far
    above 140, which an unbiased draw exceeds about once in 20 million."""
    counts = collections.Counter(random_string(248_000, CSRF_ALLOWED_CHARS))
    expected = 248_000 / 62
    chi2 = sum((counts[c] - expected) ** 2 / expected for c in CSRF_ALLOWED_CHARS)
    assert len(counts) == 62
    assert chi2 < 140


def test_a_long_alphabet_falls_back_to_djangos_draw():
    alphabet = "".join(chr(0x400 + i) for i in range(300))
    text = random_string(50, alphabet)
    assert len(text) == 50
    assert set(text) <= set(alphabet)


def test_a_form_posts_with_the_token_it_was_given(db):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/courses/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert len(token) == 64
    response = client.post(
        "/cookies/", {"analytics": "reject", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    forged = client.post(
        "/cookies/", {"analytics": "accept", "csrfmiddlewaretoken": "x" * 64}
    )
    assert forged.status_code == 403
