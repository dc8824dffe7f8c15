"""The overview's published table for core/suppression.py: every cell that could be published
for one period, and the sums between them.

The table is made of smaller tables, one per figure and topic (and week, for the pulse), each
with one row per unit and the municipality's row as their sum, and its columns (a figure's
categories) with each row's total in a shared *total* table (tables of one population, such
as the agreements by decision and by state, share it). A cell key is ``(table, unit or None
for the municipality, column)``; a total's cell is ``(total, unit or None, "")``.

The sums are the lines of the suppression, numbered table by table: each row's line (its
total is the sum of its columns), each column's line (the municipality's cell is the sum of
the units'), and once per total the line of the municipality's total. A year's table has
some 38,000 cells and 17,000 lines, of which the suppression reads only the few next to a
hidden cell; so the lines are made when they are read, and which lines a cell is in is
worked out from its key (``Grid.index``), rather than stored for every cell.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

from core.suppression import Key, Line


@dataclass(frozen=True, eq=False)
class _Table:
    name: str
    total: str
    columns: tuple[str, ...]
    column_of: dict[str, int]
    #: The number of its first line: its rows', then its columns', then (``sums_total``)
    #: the municipality's line of its total, which the first table of each total adds.
    first: int
    sums_total: bool


class Grid:
    """The cells of one period's overview (``values``, for rows ``units`` in that order and
    the municipality), the cells that are protected when 0, and the sums (``lines``)."""

    def __init__(self, units: Sequence[str]) -> None:
        self.units = list(units)
        self.values: dict[Key, int] = {}
        self.protect_zero: set[Key] = set()
        self._row_of: dict[str | None, int] = {u: n for n, u in enumerate(self.units)}
        self._row_of[None] = len(self.units)
        self._tables: list[_Table] = []
        self._firsts: list[int] = []  # each table's first line, ascending
        self._by_name: dict[str, _Table] = {}
        self._by_total: dict[str, list[_Table]] = {}
        self._line_count = 0
        self.lines: Sequence[Line] = _Lines(self)
        #: The lines each cell is in, by number, ascending.
        self.index: Mapping[Key, Sequence[int]] = _Index(self)

    def table(
        self,
        name: str,
        total: str,
        columns: Sequence[str],
        value: Callable[[str, str], int],
        *,
        zero_protected: Iterable[str] = (),
    ) -> None:
        """The units (and the municipality as their sum) by ``columns``, each row's total in
        the table ``total`` (shared by tables of the same population)."""
        by_column = [[value(u, c) for u in self.units] for c in columns]
        self._add(name, total, tuple(columns), by_column, zero_protected)

    def shares(
        self,
        name: str,
        total: str,
        denominator: Callable[[str], int],
        problems: Callable[[str], int],
    ) -> None:
        """A share as a table of two parts: with the problem, and (protected at 0) without."""
        with_problem = [problems(u) for u in self.units]
        without = [denominator(u) - p for u, p in zip(self.units, with_problem, strict=True)]
        self._add(name, total, ("problem", "ok"), [with_problem, without], ("ok",))

    def _add(
        self,
        name: str,
        total: str,
        columns: tuple[str, ...],
        by_column: list[list[int]],
        zero_protected: Iterable[str],
    ) -> None:
        """A table with each column's values given, in the order of ``units``. Built column
        by column: a year's table has some 270 of these, of 61 rows each."""
        if name in self._by_name or name in self._by_total or total in self._by_name:
            raise ValueError(f"table {name!r} (total {total!r}) is already in the grid")
        sharing = self._by_total.setdefault(total, [])
        table = _Table(
            name=name,
            total=total,
            columns=columns,
            column_of={c: n for n, c in enumerate(columns)},
            first=self._line_count,
            sums_total=not sharing,
        )
        sharing.append(table)
        self._tables.append(table)
        self._firsts.append(table.first)
        self._by_name[name] = table
        self._line_count += len(self.units) + 1 + len(columns) + table.sums_total

        rows: list[str | None] = [*self.units, None]
        values = self.values
        # Each column with the municipality's cell, the sum of the units', at its end.
        column_values = [[*unit_values, sum(unit_values)] for unit_values in by_column]
        column_keys = [[(name, row, c) for row in rows] for c in columns]
        for keys, cells in zip(column_keys, column_values, strict=True):
            values.update(zip(keys, cells, strict=True))
        row_totals = [sum(row) for row in zip(*column_values, strict=True)] or [0 for _ in rows]
        if table.sums_total:  # the tables of one population have the same row totals
            values.update(zip([(total, row, "") for row in rows], row_totals, strict=True))
        protected = set(zero_protected)
        for n, c in enumerate(columns):
            if c in protected:
                self.protect_zero.update(
                    key
                    for key, row_total in zip(column_keys[n], row_totals, strict=True)
                    if row_total > 0
                )

    def _line(self, number: int) -> Line:
        table = self._tables[bisect_right(self._firsts, number) - 1]
        name, total, units = table.name, table.total, self.units
        offset = number - table.first
        if offset <= len(units):  # a row's line
            row = units[offset] if offset < len(units) else None
            return Line((total, row, ""), tuple([(name, row, c) for c in table.columns]))
        offset -= len(units) + 1
        if offset < len(table.columns):  # a column's line
            column = table.columns[offset]
            return Line((name, None, column), tuple([(name, u, column) for u in units]))
        return Line((total, None, ""), tuple([(total, u, "") for u in units]))

    def _lines_of(self, cell: Key) -> list[int]:
        if not isinstance(cell, tuple) or len(cell) != 3:
            raise KeyError(cell)
        name, row, column = cell
        row_n = self._row_of.get(row, -1)
        if row_n < 0:
            raise KeyError(cell)
        rows = len(self.units) + 1
        table = self._by_name.get(name)
        if table is not None:
            column_n = table.column_of.get(column, -1)
            if column_n < 0:
                raise KeyError(cell)
            return [table.first + row_n, table.first + rows + column_n]
        sharing = self._by_total.get(name)
        if not sharing or column != "":
            raise KeyError(cell)
        # The total of each sharing table's row, and in the municipality's line of the total.
        summing = sharing[0]
        return sorted(
            [
                *(t.first + row_n for t in sharing),
                summing.first + rows + len(summing.columns),
            ]
        )


class _Lines(Sequence[Line]):
    """A grid's lines, each made when it is read."""

    def __init__(self, grid: Grid) -> None:
        self._grid = grid

    def __len__(self) -> int:
        return self._grid._line_count

    @overload
    def __getitem__(self, number: int) -> Line: ...

    @overload
    def __getitem__(self, number: slice) -> Sequence[Line]: ...

    def __getitem__(self, number: int | slice) -> Line | Sequence[Line]:
        if isinstance(number, slice):
            return [self[n] for n in range(len(self))[number]]
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError(number)
        return self._grid._line(number)


class _Index(Mapping[Key, Sequence[int]]):
    """Which lines each cell of a grid is in, worked out from the cell's key."""

    def __init__(self, grid: Grid) -> None:
        self._grid = grid

    def __getitem__(self, cell: Key) -> Sequence[int]:
        return self._grid._lines_of(cell)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._grid.values)

    def __len__(self) -> int:
        return len(self._grid.values)
