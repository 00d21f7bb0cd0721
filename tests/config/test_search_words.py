"""Every typed search of names is read by `config.search`: the same words
(at most five), each anywhere in a field, in any case. A new search written
by hand (its own split and icontains) fails here, so the searches of
workplaces, members, providers and the admin's filters cannot drift apart."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import Organisation
from config.search import SEARCH_WORDS, holding_every_word, search_words

pytestmark = pytest.mark.django_db

LOOP_OVER_WORDS = re.compile(r"^\s*for \w+ in (.*\.split\(|\w*words\b)")


def hand_written(text: str) -> bool:
    """A loop over a text's words with an icontains within five lines."""
    lines = text.splitlines()
    return any(
        LOOP_OVER_WORDS.match(line) and "icontains" in "\n".join(lines[n : n + 6])
        for n, line in enumerate(lines)
    )


def test_no_search_of_names_is_written_by_hand():
    root = Path(settings.BASE_DIR)
    found = [
        str(path.relative_to(root))
        for path in root.glob("*/**/*.py")
        if not {".venv", "tests", "node_modules"} & set(path.parts)
        and path.name != "search.py"
        and hand_written(path.read_text())
    ]
    assert found == []


def test_each_word_anywhere_in_any_case_and_at_most_five():
    for name in ("St Mary's Surgery, York", "Mary Street Practice", "Yorkshire Care"):
        Organisation.objects.create(name=name)
    names = Organisation.objects.order_by("name")

    def found(text):
        return list(
            holding_every_word(names, text, "name").values_list("name", flat=True)
        )

    assert found("  MARY   york ") == ["St Mary's Surgery, York"]
    assert found("york") == ["St Mary's Surgery, York", "Yorkshire Care"]
    assert found("") == list(names.values_list("name", flat=True))
    words = [f"w{n}" for n in range(SEARCH_WORDS + 3)]
    assert search_words(" ".join(words)) == words[:SEARCH_WORDS]
