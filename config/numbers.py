"""The one way to read a whole number from a request.

`str.isdigit()` is true for characters that `int()` refuses ("²", "①") and
`int()` accepts characters nobody typed on purpose ("٣", " 3 ", "+3", "3_0").
Views, forms and selectors read every number from a query string, a form or a
path through `parse_int`, which takes ASCII digits only and a range.
"""

import re

_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")


def parse_int(
    raw: object,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """`raw` as an int when it is 1-18 ASCII digits within [minimum, maximum];
    otherwise `default`. Never raises."""
    if not isinstance(raw, str) or not _ASCII_DIGITS.fullmatch(raw):
        return default
    value = int(raw)
    if minimum is not None and value < minimum:
        return default
    if maximum is not None and value > maximum:
        return default
    return value


def parse_ids(raws, *, limit: int = 10_000) -> set[int]:
    """The valid positive ids among `raws` (e.g. `request.POST.getlist(...)`);
    anything else is dropped. At most `limit` values are read."""
    ids = set()
    for raw in list(raws)[:limit]:
        value = parse_int(raw, minimum=1)
        if value is not None:
            ids.add(value)
    return ids
