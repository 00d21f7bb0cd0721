"""Small-number suppression for tables shared outside (commissioners, funders)
and for survey results (surveys.selectors).

`suppress_table` is one pure function: counts in, a mask of what to hide out.

The table is seen with its margins, as an (m+1) x (n+1) grid: the cells, a
column of row totals, a row of column totals and the grand total. Every line
of that grid (a row or a column, margins included) is one equation a reader
knows: the cells of the line add up to its total.

1. Primary suppression: a cell, or a published total, of 1 to threshold-1 is
   hidden. A 0 is always shown as 0 (so a reader knows a hidden value is at
   least 1).
2. Secondary suppression, until nothing changes:
   a. a line with exactly one unknown (a hidden value) gives it away by
      subtraction: hide the next smallest non-zero value of that line too;
   b. every hidden value must still not be recoverable once the other
      equations and the bounds (each hidden cell at least 1) are combined. With
      the margins' signs flipped, every line of the grid sums to zero, so the
      values a reader cannot see can change only along cycles of the bipartite
      graph whose vertices are the grid's lines and whose edges are the hidden
      entries, one step up and the next down. A hidden entry is recoverable
      exactly when no such cycle through it can move by one without taking
      some hidden entry below its bound (conformal decomposition: any other
      table consistent with what is published differs by a sum of such
      cycles). For each hidden entry we look for that cycle; if there is none,
      we hide the smallest value that closes one, or, if no single value
      does, the smallest value in its row or column and look again.

The result protects each table on its own: the same figures cut two ways (by
course and by provider, say) are not protected against each other.

Totals that are not published (say, column totals of a table whose rows
overlap) are unknowns to the reader, with no bound but 0, and are never shown.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

# An entry of the grid: (row, column); row == m is the column totals' row,
# column == n the row totals' column.
Entry = tuple[int, int]


@dataclass(frozen=True)
class Suppressed:
    """What to hide: `cells[i][j]`, `row_totals[i]`, `column_totals[j]` and
    `grand_total` are True when that value must be shown as suppressed."""

    cells: tuple[tuple[bool, ...], ...]
    row_totals: tuple[bool, ...]
    column_totals: tuple[bool, ...]
    grand_total: bool

    @property
    def any(self) -> bool:
        return (
            any(any(r) for r in self.cells)
            or any(self.row_totals)
            or any(self.column_totals)
            or self.grand_total
        )


def suppress_table(
    table: Sequence[Sequence[int]],
    *,
    threshold: int,
    row_totals: bool = True,
    column_totals: bool = True,
    grand_total: bool = True,
) -> Suppressed:
    """Which cells and totals of `table` (non-negative counts, every row the
    same length) to hide so that none below `threshold` is shown and none
    hidden can be worked out from what is shown. The `*_totals` flags say
    which margins will be published; an unpublished margin is never hidden
    (it is not shown) but is unknown to the reader."""
    rows = [list(map(int, r)) for r in table]
    m = len(rows)
    n = len(rows[0]) if m else 0
    if any(len(r) != n for r in rows):
        raise ValueError("Every row of the table must have the same length.")
    if any(v < 0 for r in rows for v in r):
        raise ValueError("Counts cannot be negative.")
    if m == 0 or n == 0:
        return Suppressed((), (), (), False)

    grid = _grid(rows)
    published = {
        (i, j): (
            (i < m and j < n)
            or (i < m and j == n and row_totals)
            or (i == m and j < n and column_totals)
            or (i == m and j == n and grand_total)
        )
        for i in range(m + 1)
        for j in range(n + 1)
    }
    hidden = {e for e, shown in published.items() if shown and 0 < grid[e] < threshold}
    unknown = {e for e, shown in published.items() if not shown}

    while True:
        changed = _protect_lines(grid, published, hidden, unknown, m, n)
        if not changed:
            changed = _protect_cycles(grid, published, hidden, unknown, m, n)
        if not changed:
            break

    return Suppressed(
        cells=tuple(tuple((i, j) in hidden for j in range(n)) for i in range(m)),
        row_totals=tuple((i, n) in hidden for i in range(m)),
        column_totals=tuple((m, j) in hidden for j in range(n)),
        grand_total=(m, n) in hidden,
    )


def _grid(rows: list[list[int]]) -> dict[Entry, int]:
    m, n = len(rows), len(rows[0])
    grid = {(i, j): rows[i][j] for i in range(m) for j in range(n)}
    for i in range(m):
        grid[(i, n)] = sum(rows[i])
    for j in range(n):
        grid[(m, j)] = sum(rows[i][j] for i in range(m))
    grid[(m, n)] = sum(grid[(i, n)] for i in range(m))
    return grid


def _lines(m: int, n: int) -> list[list[Entry]]:
    return [[(i, j) for j in range(n + 1)] for i in range(m + 1)] + [
        [(i, j) for i in range(m + 1)] for j in range(n + 1)
    ]


def _smallest(grid, published, hidden, candidates) -> Entry | None:
    """The smallest non-zero shown value among `candidates`; cells before
    totals on a tie."""
    options = [
        e for e in candidates if published[e] and e not in hidden and grid[e] > 0
    ]
    if not options:
        return None
    return min(options, key=lambda e: (grid[e], e))


def _protect_lines(grid, published, hidden, unknown, m, n) -> bool:
    """Step 2a: no line with exactly one unknown that is shown as hidden."""
    changed = False
    for line in _lines(m, n):
        unknowns = [e for e in line if e in hidden or e in unknown]
        if len(unknowns) == 1 and unknowns[0] in hidden:
            extra = _smallest(grid, published, hidden, line)
            if extra is not None:
                hidden.add(extra)
                changed = True
    return changed


def _vertex_row(i: int) -> tuple[str, int]:
    return ("r", i)


def _vertex_col(j: int) -> tuple[str, int]:
    return ("c", j)


def _sign(e: Entry, m: int, n: int) -> int:
    # Margins enter the zero-sum grid negated; the grand total twice negated.
    i, j = e
    return -1 if (i == m) != (j == n) else 1


def _arcs(e: Entry, grid, unknown, m, n) -> list[tuple[tuple, tuple]]:
    """The residual arcs of unknown entry `e`: row->column when its signed
    value may go up by one, column->row when it may go down by one."""
    i, j = e
    lower = 0 if e in unknown else 1
    sign = _sign(e, m, n)
    value = grid[e]
    up_ok = sign > 0 or value - 1 >= lower  # signed +1 is value -1 for margins
    down_ok = sign < 0 or value - 1 >= lower
    arcs = []
    if up_ok:
        arcs.append((_vertex_row(i), _vertex_col(j)))
    if down_ok:
        arcs.append((_vertex_col(j), _vertex_row(i)))
    return arcs


class _Residual:
    """The residual graph: arcs of every unknown entry, kept both ways round
    (vertex -> [(next vertex, entry)]) and grown as entries are hidden."""

    def __init__(self, entries, grid, unknown, m, n):
        self.grid, self.unknown, self.m, self.n = grid, unknown, m, n
        self.forward: dict = {}
        self.backward: dict = {}
        # For the quick look for a rectangle: unknown rows of each column,
        # unknown columns of each row, and which way each entry may move.
        self.rows_of: dict[int, set[int]] = {}
        self.cols_of: dict[int, set[int]] = {}
        self.moves: dict[Entry, tuple[bool, bool]] = {}
        for e in entries:
            self.add(e)

    def arcs(self, e: Entry):
        return _arcs(e, self.grid, self.unknown, self.m, self.n)

    def add(self, e: Entry) -> None:
        up = down = False
        for a, b in self.arcs(e):
            self.forward.setdefault(a, []).append((b, e))
            self.backward.setdefault(b, []).append((a, e))
            up, down = (True, down) if a[0] == "r" else (up, True)
        i, j = e
        self.rows_of.setdefault(j, set()).add(i)
        self.cols_of.setdefault(i, set()).add(j)
        self.moves[e] = (up, down)

    def _up(self, e: Entry) -> bool:
        return e in self.moves and self.moves[e][0]

    def _down(self, e: Entry) -> bool:
        return e in self.moves and self.moves[e][1]

    def on_a_rectangle(self, e: Entry) -> bool:
        """A cycle of four: e, another entry in its row, one in its column and
        the one where those meet, moving up, down, up, down in turn."""
        i, j = e
        up, down = self.moves[e]
        for j2 in self.cols_of.get(i, ()):
            if j2 == j:
                continue
            # e up: (i2, j) down, (i2, j2) up, (i, j2) down; e down: reversed.
            for e_up, need in ((True, up), (False, down)):
                if not need:
                    continue
                if e_up and not self._down((i, j2)):
                    continue
                if not e_up and not self._up((i, j2)):
                    continue
                for i2 in self.rows_of.get(j, set()) & self.rows_of.get(j2, set()):
                    if i2 == i:
                        continue
                    if e_up and self._down((i2, j)) and self._up((i2, j2)):
                        return True
                    if not e_up and self._up((i2, j)) and self._down((i2, j2)):
                        return True
        return False

    def reach(self, start, *, without: Entry, goal=None, reverse=False) -> set:
        """Vertices reachable from `start` (leading to it when `reverse`) by
        arcs of entries other than `without`; stops once `goal` is reached."""
        graph = self.backward if reverse else self.forward
        seen = {start}
        queue = deque([start])
        while queue:
            v = queue.popleft()
            for w, e in graph.get(v, ()):
                if e != without and w not in seen:
                    seen.add(w)
                    if w == goal:
                        return seen
                    queue.append(w)
        return seen

    def on_a_cycle(self, e: Entry) -> bool:
        if self.on_a_rectangle(e):
            return True
        # A path back from b to a closes a cycle through e's arc a->b.
        return any(a in self.reach(b, without=e, goal=a) for a, b in self.arcs(e))


def _protect_cycles(grid, published, hidden, unknown, m, n) -> bool:
    """Step 2b: every hidden entry on a cycle that can move; hide more where
    one is not."""
    changed = False
    residual = _Residual(hidden | unknown, grid, unknown, m, n)
    for e in sorted(hidden):
        if residual.on_a_cycle(e):
            continue
        extra = _closing_entry(e, residual, published, hidden)
        if extra is None:
            i, j = e
            line = [(i, k) for k in range(n + 1)] + [(k, j) for k in range(m + 1)]
            extra = _smallest(grid, published, hidden, line)
        if extra is None:
            extra = _smallest(grid, published, hidden, list(grid))
        if extra is not None:
            hidden.add(extra)
            residual.add(extra)
            changed = True
    return changed


def _closing_entry(e: Entry, residual: _Residual, published, hidden) -> Entry | None:
    """The smallest shown value with an arc from a vertex reachable after one
    of e's arcs to a vertex that leads back to that arc's start."""
    grid, m, n = residual.grid, residual.m, residual.n
    options = set()
    for a, b in residual.arcs(e):
        forward = residual.reach(b, without=e)
        backward = residual.reach(a, without=e, reverse=True)
        for kind, k in forward:
            # From a row an entry's arc goes up to a column; from a column,
            # down to a row.
            line = (
                [((k, j), ("c", j)) for j in range(n + 1)]
                if kind == "r"
                else [((i, k), ("r", i)) for i in range(m + 1)]
            )
            for f, other in line:
                if (
                    other in backward
                    and published[f]
                    and f not in hidden
                    and grid[f] > 0
                    and ((kind, k), other) in residual.arcs(f)
                ):
                    options.add(f)
    if not options:
        return None
    return min(options, key=lambda f: (grid[f], f))
