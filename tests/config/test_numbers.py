import pytest

from config.numbers import parse_ids, parse_int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("7", 7), ("007", 7), ("0", 0), ("123456789012345678", 123456789012345678)],
)
def test_reads_ascii_digits(raw, expected):
    assert parse_int(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "²",
        "①",
        "٣",
        "3²",
        " 3",
        "3 ",
        "+3",
        "-3",
        "3_0",
        "3.0",
        "",
        "1e3",
        "\x00",
        "1234567890123456789",
        None,
        3,
        ["3"],
    ],
)
def test_refuses_anything_else(raw):
    assert parse_int(raw, default=-1) == -1


def test_range_gives_the_default():
    assert parse_int("0", minimum=1, default=1) == 1
    assert parse_int("101", maximum=100) is None
    assert parse_int("100", maximum=100) == 100


def test_parse_ids_keeps_only_positive_ascii_ids():
    assert parse_ids(["1", "²", "2", "0", "x", "2"]) == {1, 2}
