"""Small-cell suppression for a published table of counts: which cells must be hidden so that
no count of fewer than ``k`` people can be read off or worked out from the rest.

The table is a set of cells (any hashable key, a count each) and a set of *lines*: a total
that equals the sum of its parts (the units add up to the municipality; the categories of a
figure add up to its denominator). Everything a line says is assumed known to a reader when
its cells are shown: a published total and its published parts give the hidden parts' sum.

1. **Primary:** a cell of 1 to k-1 is hidden, and so is a cell in ``protect_zero`` below k
   (there a 0 is the sensitive fact, e.g. "nobody in the unit is without the problem"), and
   every cell in ``forced`` (the cells of a unit with fewer than k people).
2. **Complementary, by lines:** a line with exactly one hidden member would give it away by
   subtraction, so a second part is hidden: the smallest shown part that is not zero (a
   hidden zero protects nothing once a reader guesses it), else the smallest part, else the
   total. Repeated until no line has exactly one hidden member.
3. **Complementary, by the whole system:** two hidden cells per line are not always enough
   (a chain of lines through several units can still pin a cell). The lines are solved as
   linear equations over the hidden cells (exactly, in integers); every sensitive cell that the
   equations determine gets one more partner hidden in one of its lines, and steps 2 and 3
   repeat until no sensitive cell is determined. Each round hides at least one more cell,
   so it ends.

Pure functions, no I/O; ``tests/test_overview_anonymity.py`` attacks the result.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

Key = Hashable


class Line:
    """``total`` is the sum of ``parts``. A plain class with slots: a whole year's table has
    17,000 lines, each made and read many times over."""

    __slots__ = ("total", "members")

    def __init__(self, total: Key, parts: tuple[Key, ...]) -> None:
        self.total = total
        #: The total and the parts.
        self.members: tuple[Key, ...] = (total, *parts)

    @property
    def parts(self) -> tuple[Key, ...]:
        return self.members[1:]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Line):
            return NotImplemented
        return self.members == other.members

    def __hash__(self) -> int:
        return hash(self.members)

    def __repr__(self) -> str:
        return f"Line({self.total!r}, {self.parts!r})"


def primary(
    values: Mapping[Key, int],
    k: int,
    protect_zero: Iterable[Key] = (),
    forced: Iterable[Key] = (),
) -> set[Key]:
    """The cells that describe fewer than k people (step 1)."""
    zero_protected = set(protect_zero)
    hidden = {c for c, v in values.items() if 0 < v < k or (c in zero_protected and v < k)}
    return hidden | {c for c in forced if c in values}


def _partner(line: Line, values: Mapping[Key, int], hidden: set[Key]) -> Key | None:
    shown = [p for p in line.parts if p not in hidden]
    if shown:
        return min(shown, key=lambda p: (values[p] == 0, values[p], repr(p)))
    return line.total if line.total not in hidden else None


#: The lines each cell is a member of, by the lines' numbers.
Index = Mapping[Key, Sequence[int]]


def _index(lines: Sequence[Line]) -> dict[Key, list[int]]:
    by_cell: dict[Key, list[int]] = {}
    for n, ln in enumerate(lines):
        for m in ln.members:
            found = by_cell.get(m)
            if found is None:
                by_cell[m] = [n]
            else:
                found.append(n)
    return by_cell


def _touched(by_cell: Index, hidden: Iterable[Key]) -> dict[int, int]:
    """How many hidden members each line has, for the lines with any (looked up from the
    hidden cells, which are few, rather than from every line)."""
    count: dict[int, int] = {}
    for cell in hidden:
        for n in by_cell.get(cell, ()):
            count[n] = count.get(n, 0) + 1
    return count


def _by_lines(
    lines: Sequence[Line],
    by_cell: Index,
    values: Mapping[Key, int],
    hidden: set[Key],
) -> None:
    """Step 2 to its fixed point: a work list of the lines with exactly one hidden member."""
    count = _touched(by_cell, hidden)
    todo = sorted(n for n, c in count.items() if c == 1)  # popped from the end, as before
    while todo:
        n = todo.pop()
        if count[n] != 1:
            continue
        partner = _partner(lines[n], values, hidden)
        if partner is None:
            continue
        hidden.add(partner)
        for other in by_cell[partner]:
            count[other] = count.get(other, 0) + 1
            if count[other] == 1:
                todo.append(other)


def determined(
    lines: Sequence[Line],
    values: Mapping[Key, int],
    hidden: set[Key],
    by_cell: Index | None = None,
) -> set[Key]:
    """The hidden cells whose value the lines fix exactly, given every shown cell."""
    if by_cell is None:
        by_cell = _index(lines)
    relevant = [lines[n] for n in sorted(_touched(by_cell, hidden))]
    # Connected groups of hidden cells (lines join them): each is solved on its own.
    parent: dict[Key, Key] = {}

    def find(x: Key) -> Key:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ln in relevant:
        cells = [m for m in ln.members if m in hidden]
        for other in cells[1:]:
            parent[find(other)] = find(cells[0])
    groups: dict[Key, list[Line]] = {}
    for ln in relevant:
        first = next(m for m in ln.members if m in hidden)
        groups.setdefault(find(first), []).append(ln)
    found: set[Key] = set()
    for group in groups.values():
        found |= _solve(group, hidden)
    return found


#: Elimination runs modulo this prime: the lines' coefficients are 0 and ±1 (a table's sums
#: form a network matrix, whose minors are 0 or ±1), so the rank is the rational one, and
#: integers keep it fast.
_PRIME = 2_147_483_647


def _solve(lines: Sequence[Line], hidden: set[Key]) -> set[Key]:
    """The unknowns of one group that the equations fix: a pivot whose reduced row has no
    free unknown in it. The right-hand sides do not matter for *whether* a cell is fixed."""
    unknowns = sorted({m for ln in lines for m in ln.members if m in hidden}, key=repr)
    index = {u: n for n, u in enumerate(unknowns)}
    rows: list[dict[int, int]] = []
    for ln in lines:
        row: dict[int, int] = {}
        if ln.total in index:
            row[index[ln.total]] = 1
        for part in ln.parts:
            if part in index:
                col = index[part]
                row[col] = (row.get(col, 0) - 1) % _PRIME
        row = {c: v for c, v in row.items() if v}
        if row:
            rows.append(row)
    reduced: dict[int, dict[int, int]] = {}  # pivot column -> its row (pivot 1)
    for row in rows:
        for col, rrow in reduced.items():
            if col in row:
                factor = row[col]
                for c, v in rrow.items():
                    row[c] = (row.get(c, 0) - factor * v) % _PRIME
                row = {c: v for c, v in row.items() if v}
        if not row:
            continue
        col = min(row)
        inverse = pow(row[col], _PRIME - 2, _PRIME)
        row = {c: v * inverse % _PRIME for c, v in row.items()}
        for other in reduced.values():
            if col in other:
                factor = other[col]
                for c, v in row.items():
                    other[c] = (other.get(c, 0) - factor * v) % _PRIME
                for c in [c for c, v in other.items() if not v]:
                    del other[c]
        reduced[col] = row
    return {unknowns[col] for col, row in reduced.items() if set(row) == {col}}


def suppress(
    values: Mapping[Key, int],
    lines: Sequence[Line],
    k: int,
    *,
    protect_zero: Iterable[Key] = (),
    forced: Iterable[Key] = (),
    index: Index | None = None,
) -> frozenset[Key]:
    """Every cell to hide: primary, then complementary until nothing sensitive can be
    worked out (the module docstring). Every member of a line must have a value. ``index``:
    the numbers of the lines each cell is in, ascending, when the caller can tell them
    without reading every line (core/overview_grid.py); else they are looked up here."""
    zero_protected = frozenset(protect_zero)
    forced_cells = frozenset(forced)
    hidden = primary(values, k, zero_protected, forced_cells)
    sensitive = {c for c in hidden if values[c] > 0 or c in zero_protected}
    by_cell = _index(lines) if index is None else index
    while True:
        _by_lines(lines, by_cell, values, hidden)
        leaks = determined(lines, values, hidden, by_cell) & sensitive
        if not leaks:
            return frozenset(hidden)
        grew = False
        for cell in sorted(leaks, key=repr):
            for ln in (lines[n] for n in by_cell.get(cell, [])):
                partner = _partner(ln, values, hidden)
                if partner is not None:
                    hidden.add(partner)
                    grew = True
                    break
        if not grew:  # no shown partner next to the leaking cells: hide their lines whole
            before = len(hidden)
            for cell in leaks:
                for n in by_cell.get(cell, []):
                    hidden.update(lines[n].members)
            if len(hidden) == before:
                return frozenset(hidden)
