import pytest

from config.spreadsheet import safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+cmd", "'+cmd"),
        ("@x", "'@x"),
        ("\t=1", "'\t=1"),
        ("-3.50", "-3.50"),
        ("Safeguarding", "Safeguarding"),
        (None, ""),
        (12, "12"),
    ],
)
def test_a_cell_never_starts_like_a_formula(value, cell):
    assert safe_cell(value) == cell
