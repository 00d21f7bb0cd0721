"""Cells for CSV files that people open in spreadsheets."""


def safe_cell(value) -> str:
    """The value as text, with a leading ' when it would start like a formula
    (=, +, -, @, tab, return): spreadsheets run those. Numbers such as -3.50 are
    left as they are."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
