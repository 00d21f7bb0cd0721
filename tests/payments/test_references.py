"""The check character: every single-character substitution and every swap of
two adjacent characters of a reference is caught, so a mistyped reference is
never read as someone else's."""

import random

import pytest

from payments import references
from payments.references import ALPHABET, check_character, find_references, is_valid


def _sample(n=300):
    rng = random.Random(19)
    return ["".join(rng.choice(ALPHABET) for _ in range(5)) for _ in range(n)]


def test_a_new_reference_is_well_formed_and_valid():
    for _ in range(200):
        code = references.new_reference()
        assert code.startswith("CPD-")
        assert len(code) == len("CPD-XXXXX-X")
        body, check = find_references(code)[0]
        assert is_valid(body, check)


@pytest.mark.parametrize("body", _sample())
def test_every_single_substitution_is_caught(body):
    full = body + check_character(body)
    for i in range(len(full)):
        for c in ALPHABET:
            if c == full[i]:
                continue
            typo = full[:i] + c + full[i + 1 :]
            assert not is_valid(typo[:5], typo[5]), typo


@pytest.mark.parametrize("body", _sample())
def test_every_adjacent_transposition_is_caught(body):
    full = body + check_character(body)
    for i in range(len(full) - 1):
        if full[i] == full[i + 1]:
            continue
        typo = full[:i] + full[i + 1] + full[i] + full[i + 2 :]
        assert not is_valid(typo[:5], typo[5]), typo


def test_characters_outside_the_alphabet_are_never_valid():
    body = "4K7QM"
    check = check_character(body)
    for c in "01OIU":
        assert not is_valid(c + body[1:], check)


@pytest.mark.parametrize(
    "text",
    ["CPD-4K7QM-D", "cpd 4k7qm d", "CPD4K7QMD", "REF:CPD-4K7QM-D.", "x\nCPD 4K7QM-D"],
)
def test_banks_spacing_and_case_are_read_alike(text):
    assert find_references(text) == [("4K7QM", "D")]


def test_words_that_merely_start_with_the_prefix_are_not_references():
    assert find_references("CPDTRAININGFEES") == []
    assert find_references("ABCCPD-4K7QM-D") == []
