"""Payment references: "CPD-" and five characters, then a hyphen and one check
character, e.g. CPD-4K7QM-X.

The alphabet is 31 characters with nothing easily misread (no 0/O, 1/I, U/V
pairs). 31 is prime, so a weighted sum modulo 31 with pairwise distinct,
non-zero weights catches every single-character substitution and every swap
of two characters (adjacent or not): a substitution changes the sum by
w·(a-b), a swap by (wi-wj)·(a-b), neither of which is 0 modulo a prime. A
mistyped reference is therefore never taken for someone else's.

Banks drop hyphens and spaces and may change case, so `find_references` reads
"cpd 4k7qm x", "CPD4K7QMX" and "CPD-4K7QM-X" alike, and also picks up
reference-shaped text with characters outside the alphabet (a 0 typed for an
O) so that it is reported as mistyped rather than ignored.
"""

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTVWXYZ"
MODULUS = len(ALPHABET)  # 31, prime
PREFIX = "CPD"
BODY_LENGTH = 5
# Weights for the five body characters then the check character.
WEIGHTS = (2, 3, 4, 5, 6, 1)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}

_SHAPE = re.compile(
    rf"(?<![A-Z0-9]){PREFIX}[\s\-]*([A-Z0-9]{{{BODY_LENGTH}}})[\s\-]*([A-Z0-9])(?![A-Z0-9])"
)

if len(set(ALPHABET)) != MODULUS or MODULUS != 31:
    raise ImportError("The reference alphabet must be 31 distinct characters.")


def check_character(body: str) -> str:
    total = sum(w * _VALUE[c] for w, c in zip(WEIGHTS, body, strict=False))
    # Choose c with total + 1·c ≡ 0 (mod 31).
    return ALPHABET[(-total) % MODULUS]


def is_valid(body: str, check: str) -> bool:
    if len(body) != BODY_LENGTH or any(c not in _VALUE for c in body + check):
        return False
    return check_character(body) == check


def format_reference(body: str) -> str:
    return f"{PREFIX}-{body}-{check_character(body)}"


def new_reference() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return format_reference(body)


def normalise(text: str) -> tuple[str, str] | None:
    """(body, check) of the first reference-shaped text, whether valid or not."""
    found = find_references(text)
    return found[0] if found else None


def find_references(text: str) -> list[tuple[str, str]]:
    """Every reference-shaped piece of text as (body, check), in order."""
    return [(m[1], m[2]) for m in _SHAPE.finditer(text.upper())]
