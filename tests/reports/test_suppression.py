"""The suppression function on its own: primary and secondary suppression, and
two properties over random tables checked by oracles that share no code with
it: an exhaustive search for another table consistent with everything
published (small tables), and exact linear algebra (larger ones)."""

import itertools
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.suppression import suppress_table

T = 5


def shown(table, mask):
    """The table as a reader sees it, margins included: None where hidden."""
    m, n = len(table), len(table[0])
    out = []
    for i in range(m):
        row = [None if mask.cells[i][j] else table[i][j] for j in range(n)]
        row.append(None if mask.row_totals[i] else sum(table[i]))
        out.append(row)
    totals = [
        None if mask.column_totals[j] else sum(r[j] for r in table) for j in range(n)
    ]
    totals.append(None if mask.grand_total else sum(map(sum, table)))
    out.append(totals)
    return out


def test_a_table_with_no_small_number_hides_nothing():
    mask = suppress_table([[10, 20], [30, 0]], threshold=T)
    assert not mask.any


def test_a_zero_is_shown_and_a_small_number_is_hidden_with_a_partner_in_its_lines():
    table = [[3, 40, 0], [20, 30, 50], [25, 35, 60]]
    seen = shown(table, suppress_table(table, threshold=T))
    assert seen[0][0] is None
    assert seen[0][2] == 0
    # Row 0 and column 0 each hide a second value, the smallest available.
    assert seen[0][1] is None or seen[0][3] is None
    assert sum(v is None for v in (r[0] for r in seen)) >= 2
    # Nothing else in the table is hidden without need.
    assert seen[2][2] == 60


def test_a_total_below_the_threshold_is_hidden_too():
    table = [[2, 1], [30, 40]]
    seen = shown(table, suppress_table(table, threshold=T))
    assert seen[0][2] is None  # the row total, 3


def test_one_row_table_hides_the_column_total_that_would_repeat_the_cell():
    table = [[3, 10, 12]]
    seen = shown(table, suppress_table(table, threshold=T))
    # Column 0's total equals the cell: it is hidden as well.
    assert seen[0][0] is None
    assert seen[1][0] is None


def test_two_ones_next_to_a_big_number_are_not_given_away_by_the_bounds():
    # Row 0: 1 + 1 + 100 = 102. Hiding just the two 1s leaves "two hidden
    # values of at least 1 adding up to 2": both would be known.
    table = [[1, 1, 100], [50, 50, 50]]
    mask = suppress_table(table, threshold=T)
    assert not recoverable_by_search(table, mask)
    assert mask.cells[0][2] or mask.row_totals[0]


def test_threshold_is_configurable():
    table = [[7, 30], [30, 30]]
    assert not suppress_table(table, threshold=5).any
    assert suppress_table(table, threshold=10).cells[0][0]


def test_an_empty_table_and_bad_input():
    assert not suppress_table([], threshold=T).any
    with pytest.raises(ValueError, match="same length"):
        suppress_table([[1, 2], [3]], threshold=T)
    with pytest.raises(ValueError, match="negative"):
        suppress_table([[-1]], threshold=T)


def test_unpublished_totals_are_never_hidden_and_hidden_cells_still_pair_up():
    table = [[3, 9], [9, 9], [9, 9]]
    mask = suppress_table(table, threshold=T, column_totals=False, grand_total=False)
    assert not any(mask.column_totals)
    assert not mask.grand_total
    assert sum(mask.cells[0]) + mask.row_totals[0] >= 2


# --- oracle 1: exhaustive search for another consistent table --------------------


def recoverable_by_search(table, mask) -> list:
    """Hidden entries with one possible value among all tables that show the
    same thing. If another table exists, one exists whose hidden cells are
    each within 1 of the true ones, so searching that box is exhaustive."""
    m, n = len(table), len(table[0])
    seen = shown(table, mask)
    hidden = [(i, j) for i in range(m) for j in range(n) if seen[i][j] is None]
    boxes = [range(max(1, table[i][j] - 1), table[i][j] + 2) for i, j in hidden]
    values: dict = {}
    for combo in itertools.product(*boxes):
        candidate = [row[:] for row in table]
        for (i, j), v in zip(hidden, combo, strict=True):
            candidate[i][j] = v
        other = shown(candidate, mask)
        consistent = all(
            (seen[i][j] is None and other[i][j] is not None and other[i][j] >= 1)
            or (seen[i][j] is not None and other[i][j] == seen[i][j])
            for i in range(m + 1)
            for j in range(n + 1)
        )
        if not consistent:
            continue
        full = [[*r, sum(r)] for r in candidate]
        full.append(
            [sum(r[j] for r in candidate) for j in range(n)]
            + [sum(map(sum, candidate))]
        )
        for i in range(m + 1):
            for j in range(n + 1):
                if seen[i][j] is None:
                    values.setdefault((i, j), set()).add(full[i][j])
    return [e for e, vs in values.items() if len(vs) < 2]


small_tables = st.integers(1, 3).flatmap(
    lambda m: st.integers(1, 3).flatmap(
        lambda n: st.lists(
            st.lists(
                st.one_of(st.integers(0, 6), st.integers(0, 30)),
                min_size=n,
                max_size=n,
            ),
            min_size=m,
            max_size=m,
        )
    )
)

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(small_tables)
def test_no_hidden_value_can_be_worked_out_from_what_is_published(table):
    mask = suppress_table(table, threshold=T)
    seen = shown(table, mask)
    # Nothing from 1 to threshold-1 is shown; every 0 is shown.
    for i, row in enumerate(seen):
        for j, v in enumerate(row):
            assert v is None or not 0 < v < T
            if v is None:
                assert (
                    [*table[i], sum(table[i])][j]
                    if i < len(table)
                    else [*map(sum, zip(*table, strict=True)), sum(map(sum, table))][j]
                ) > 0
    assert recoverable_by_search(table, mask) == []


# --- oracle 2: exact linear algebra on larger tables ------------------------------


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [r[:] for r in rows]
    rank, col = 0, 0
    width = len(rows[0]) if rows else 0
    while rank < len(rows) and col < width:
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            col += 1
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                f = rows[r][col] / rows[rank][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
        col += 1
    return rank


def determined_by_linear_algebra(table, mask) -> list:
    """Hidden entries fixed by the published equations alone (each row and
    column, totals included, adds up): e_k lies in the row space."""
    m, n = len(table), len(table[0])
    seen = shown(table, mask)
    unknowns = [
        (i, j) for i in range(m + 1) for j in range(n + 1) if seen[i][j] is None
    ]
    index = {e: k for k, e in enumerate(unknowns)}

    def sign(i, j):
        return -1 if (i == m) != (j == n) else 1

    equations = []
    for line in [[(i, j) for j in range(n + 1)] for i in range(m + 1)] + [
        [(i, j) for i in range(m + 1)] for j in range(n + 1)
    ]:
        row = [Fraction(0)] * len(unknowns)
        for e in line:
            if e in index:
                row[index[e]] = Fraction(sign(*e))
        if any(row):
            equations.append(row)
    if not unknowns:
        return []
    base = _rank(equations) if equations else 0
    fixed = []
    for e, k in index.items():
        probe = [Fraction(0)] * len(unknowns)
        probe[k] = Fraction(1)
        if _rank([*equations, probe]) == base:
            fixed.append(e)
    return fixed


larger_tables = st.integers(1, 7).flatmap(
    lambda m: st.integers(1, 5).flatmap(
        lambda n: st.lists(
            st.lists(
                st.one_of(st.integers(0, 5), st.integers(0, 200)),
                min_size=n,
                max_size=n,
            ),
            min_size=m,
            max_size=m,
        )
    )
)


@PROPERTY
@given(larger_tables, st.integers(2, 11))
def test_no_hidden_value_is_fixed_by_the_totals_in_larger_tables(table, threshold):
    mask = suppress_table(table, threshold=threshold)
    assert determined_by_linear_algebra(table, mask) == []
    # And every row and column, totals included, hides none or at least two.
    seen = shown(table, mask)
    for line in [*seen, *zip(*seen, strict=True)]:
        assert sum(v is None for v in line) != 1
