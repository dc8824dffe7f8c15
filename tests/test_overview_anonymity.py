"""The overview's anonymity: no figure describes fewer than k people, and none can be worked
out from the others, whatever the population. Populations are generated around k; the
attacks solve for the hidden cells from everything published (an own exact solver, apart
from core/suppression.py's) and subtract units from the municipality, categories from a
total, one period from another, and weeks from each other."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import policy as policies
from core.overview import (
    AGREEMENT_STATES,
    DECISIONS,
    Counts,
    build_grid,
    build_overview,
    hidden_cells,
    parse_period,
    published,
    selectable_periods,
    small_units,
    snapshot_day,
    weeks_in,
)
from core.overview_grid import Grid
from core.reminders import PULSE_TOPICS
from core.suppression import Line, suppress

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
WEEKS = ["2026-W47", "2026-W48"]


# --- the attacker: an exact solver of its own --------------------------------------------------


def derivable(lines: list[Line], values: dict, hidden: frozenset) -> dict:
    """The hidden cells a reader can work out exactly from the published cells and the sums,
    with the value they get: Gauss–Jordan over fractions with the right-hand sides."""
    unknowns = sorted({m for ln in lines for m in ln.members if m in hidden}, key=repr)
    index = {u: n for n, u in enumerate(unknowns)}
    rows = []
    for ln in lines:
        if not any(m in hidden for m in ln.members):
            continue
        row = [Fraction(0)] * (len(unknowns) + 1)
        for member, sign in ((ln.total, 1), *((p, -1) for p in ln.parts)):
            if member in hidden:
                row[index[member]] += sign
            else:
                row[-1] -= sign * values[member]
        rows.append(row)
    pivot_of = {}
    r = 0
    for col in range(len(unknowns)):
        found = next((n for n in range(r, len(rows)) if rows[n][col] != 0), None)
        if found is None:
            continue
        rows[r], rows[found] = rows[found], rows[r]
        rows[r] = [x / rows[r][col] for x in rows[r]]
        for n in range(len(rows)):
            if n != r and rows[n][col] != 0:
                f = rows[n][col]
                rows[n] = [x - f * y for x, y in zip(rows[n], rows[r], strict=True)]
        pivot_of[col] = r
        r += 1
    solved = {}
    for col, n in pivot_of.items():
        if all(rows[n][c] == 0 for c in range(len(unknowns)) if c != col):
            solved[unknowns[col]] = rows[n][-1]
    return solved


def sensitive(values: dict, hidden: frozenset, protect_zero: set, small: set, k: int) -> set:
    return {
        c
        for c in hidden
        if 0 < values[c] < k
        or (c in protect_zero and values[c] < k)
        or (c[1] in small and values[c] > 0)
    }


# --- populations around k ------------------------------------------------------------------------


@st.composite
def populations(draw: st.DrawFn) -> tuple[Counts, int]:
    k = draw(st.sampled_from((3, 5)))
    counts = Counts()
    for n in range(draw(st.integers(2, 5))):
        unit = f"enhed {n}"
        counts.unit_names[unit] = f"Enhed {n}"
        people = draw(st.integers(1, 3 * k))
        counts.people[unit] = people
        agreements = draw(st.integers(0, people))
        split = draw(st.lists(st.integers(0, agreements), min_size=2, max_size=2))
        a, b = sorted(split)
        for decision, value in zip(DECISIONS, (a, b - a, agreements - b), strict=True):
            counts.decisions[(unit, decision)] = value
        a, b = sorted(draw(st.lists(st.integers(0, agreements), min_size=2, max_size=2)))
        for state, value in zip(AGREEMENT_STATES, (a, b - a, agreements - b), strict=True):
            counts.states[(unit, state)] = value
        checks = draw(st.integers(0, people))
        counts.self_checks[unit] = checks
        for topic in ("T2", "T3"):
            counts.self_check_problems[(unit, topic)] = draw(st.integers(0, checks))
        for week in WEEKS:
            answered = draw(st.integers(0, people))
            counts.pulses[(unit, week)] = answered
            counts.pulse_problems[(unit, week, "breaks")] = draw(st.integers(0, answered))
        reached = draw(st.integers(0, people))
        counts.reach[(unit, "unreachable")] = draw(st.integers(0, people - reached))
        counts.reach[(unit, "reached")] = reached
    return counts, k


POLICY = policies.active()


def overview(
    counts: Counts, k: int, visible: frozenset[str] | None = None, period: str = "2026-11"
):
    chosen = parse_period(period, "da-DK")
    return build_overview(
        counts,
        period=chosen,
        weeks=[w for w in WEEKS if w in weeks_in(chosen, TODAY)],
        visible=visible,
        locale="da-DK",
        k=k,
        generated_at=NOW,
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_no_hidden_group_below_k_can_be_worked_out_from_everything_published(population):
    counts, k = population
    grid = build_grid(counts, WEEKS, POLICY)
    hidden = hidden_cells(grid, counts, k)
    solved = derivable(grid.lines, grid.values, hidden)
    for cell, value in solved.items():
        assert value == grid.values[cell], "the attacker's solution is the true value"
    leaked = sensitive(grid.values, hidden, grid.protect_zero, small_units(counts, k), k) & set(
        solved
    )
    assert not leaked, f"worked out: {[(c, grid.values[c]) for c in leaked]}"
    # Nothing below k is shown at all.
    for cell, value in grid.values.items():
        if cell not in hidden:
            assert value == 0 or value >= k or cell[0] == "people" and cell[1] is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_the_municipality_minus_the_other_units_reveals_no_small_unit(population):
    counts, k = population
    shown = published(overview(counts, k))
    units = [u for u in counts.units()]
    names = {u: counts.unit_names[u] for u in units}
    for (unit, figure, series, category), value in shown.items():
        if (
            unit is not None
            or value is None
            or figure not in ("agreements_by_decision", "agreements_by_state")
        ):
            continue
        parts = [shown.get((names[u], figure, series, category)) for u in units]
        missing = [u for u, v in zip(units, parts, strict=True) if v is None]
        if len(missing) == 1:
            # One unit's figure left to subtract: it must be a unit that shows it anyway.
            pytest.fail(
                f"{figure}/{category}: the municipality minus the others gives {missing[0]}"
            )
        known = sum(v for v in parts if v is not None)
        if not missing:
            assert known == value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_a_figure_total_minus_the_other_categories_reveals_nothing(population):
    counts, k = population
    grid = build_grid(counts, WEEKS, POLICY)
    hidden = hidden_cells(grid, counts, k)
    for line in grid.lines:
        hidden_members = [m for m in line.members if m in hidden]
        assert len(hidden_members) != 1, f"one hidden member in a sum: {hidden_members}"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_every_viewer_sees_cells_of_one_and_the_same_suppressed_table(population):
    counts, k = population
    everything = published(overview(counts, k))
    for unit in counts.units():
        own = published(overview(counts, k, visible=frozenset({unit})))
        assert {key[0] for key in own} == {counts.unit_names[unit], None} or small_units(counts, k)
        for key, value in own.items():
            assert everything[key] == value


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_weeks_are_the_same_in_every_period_so_periods_cannot_be_subtracted(population):
    counts, k = population
    month, quarter, year = (
        published(overview(counts, k, period=p)) for p in ("2026-11", "2026-Q4", "2026")
    )
    for key, value in month.items():
        assert quarter[key] == value == year[key]
    assert snapshot_day(parse_period("2026", "da-DK"), TODAY) == snapshot_day(
        parse_period("2026-12", "da-DK"), TODAY
    )


def test_a_unit_below_k_shows_only_that_its_head_count_is_hidden():
    counts = Counts(unit_names={"a": "A", "b": "B", "c": "C"})
    for unit, people in (("a", 3), ("b", 40), ("c", 30)):
        counts.people[unit] = people
        counts.decisions[(unit, "approved")] = people
    result = overview(counts, 5)
    by_unit = {u.unit: u for u in result.units}
    assert by_unit["A"].people.suppressed and by_unit["A"].people.value is None
    assert by_unit["A"].figures == ()
    assert [u.unit for u in result.units] == ["A", "B", "C", None]
    # The municipality's total is shown, so one of the big units' head counts must be hidden
    # too, or 73 - 40 - 30 would give A's 3.
    assert by_unit[None].people.value == 73
    assert by_unit["C"].people.suppressed
    decisions = {u.unit: u.figures[0].series[0].cells[0] for u in result.units if u.figures}
    assert decisions["C"].suppressed and decisions[None].value == 73


def test_a_share_where_everybody_has_the_problem_is_hidden_and_nobody_is_shown():
    counts = Counts(unit_names={"a": "A", "b": "B"})
    for unit in ("a", "b"):
        counts.people[unit] = 20
        counts.self_checks[unit] = 10
    counts.self_check_problems[("a", "T3")] = 10  # all of them
    counts.self_check_problems[("b", "T3")] = 0  # none of them
    result = overview(counts, 5)
    share = {
        u.unit: next(f for f in u.figures if f.key == "self_check_problems").series[0].cells[2]
        for u in result.units
    }
    assert share["A"].suppressed and share["A"].value is None
    assert share["B"].suppressed, "hidden too, or the municipality's 50 % would give A away"
    assert share[None].value == 50.0


def test_the_suppression_hides_a_second_part_next_to_a_lone_small_cell():
    values = {"total": 20, "a": 2, "b": 8, "c": 10}
    hidden = suppress(values, [Line("total", ("a", "b", "c"))], 5)
    assert hidden == {"a", "b"}


def test_a_chain_of_sums_that_pins_a_cell_is_broken():
    # Two units, two categories: after hiding a (=1) and its partners by lines, the grand
    # sums could still pin it; the solver step must leave it undetermined.
    values = {"R1": 11, "R2": 30, "C1": 12, "C2": 29, "G": 41, "a": 1, "b": 10, "c": 11, "d": 19}
    lines = [
        Line("R1", ("a", "b")),
        Line("R2", ("c", "d")),
        Line("C1", ("a", "c")),
        Line("C2", ("b", "d")),
        Line("G", ("R1", "R2")),
        Line("G", ("C1", "C2")),
    ]
    hidden = suppress(values, lines, 5)
    assert "a" not in derivable(lines, values, hidden)


def test_the_threshold_must_be_between_3_and_25():
    counts = Counts(unit_names={"a": "A"}, people={"a": 10})
    with pytest.raises(ValueError):
        overview(counts, 2)
    with pytest.raises(ValueError):
        overview(counts, 26)


# --- the table the attacker reads ----------------------------------------------------------------


def test_the_grid_has_every_sum_a_reader_knows_and_nothing_else():
    grid = Grid(["a", "b"])
    grid.table("x", "T", ("p", "q"), lambda u, c: {"a": 1, "b": 2}[u] * (1 if c == "p" else 10))
    grid.shares("y", "T", lambda u: {"a": 11, "b": 22}[u], lambda u: {"a": 3, "b": 4}[u])
    rows = ("a", "b", None)
    expected = [
        *(Line(("T", r, ""), (("x", r, "p"), ("x", r, "q"))) for r in rows),
        Line(("x", None, "p"), (("x", "a", "p"), ("x", "b", "p"))),
        Line(("x", None, "q"), (("x", "a", "q"), ("x", "b", "q"))),
        Line(("T", None, ""), (("T", "a", ""), ("T", "b", ""))),  # once for the shared total
        *(Line(("T", r, ""), (("y", r, "problem"), ("y", r, "ok"))) for r in rows),
        Line(("y", None, "problem"), (("y", "a", "problem"), ("y", "b", "problem"))),
        Line(("y", None, "ok"), (("y", "a", "ok"), ("y", "b", "ok"))),
    ]
    assert list(grid.lines) == expected
    assert grid.values[("T", None, "")] == 33
    assert grid.values[("y", None, "ok")] == 26
    assert grid.protect_zero == {("y", "a", "ok"), ("y", "b", "ok"), ("y", None, "ok")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_every_sum_of_the_grid_adds_up_and_the_index_names_each_cells_sums(population):
    counts, _k = population
    grid = build_grid(counts, WEEKS, POLICY)
    scanned: dict = {}
    for n, line in enumerate(grid.lines):
        assert grid.values[line.total] == sum(grid.values[p] for p in line.parts), line
        for member in line.members:
            scanned.setdefault(member, []).append(n)
    assert set(scanned) == set(grid.values)
    assert {cell: list(grid.index[cell]) for cell in grid.values} == scanned
    with pytest.raises(KeyError):
        grid.index[("pulse:2026-W47:breaks", "no such unit", "ok")]


# --- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "start", "end", "da", "en"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2026", "2026"),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), "3. kvartal 2026", "Q3 2026"),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), "februar 2026", "February 2026"),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31), "december 2026", "December 2026"),
    ],
)
def test_period_keys_name_their_days_in_both_languages(key, start, end, da, en):
    period = parse_period(key, "da-DK")
    assert (period.key, period.start, period.end, period.label) == (key, start, end, da)
    assert parse_period(key, "en-US").label == en


@pytest.mark.parametrize(
    "key", ["", "26", "2026-13", "2026-Q5", "2026-Q0", "2026-1", "x", "2026-W05"]
)
def test_a_period_that_does_not_parse_is_refused_plainly(key):
    with pytest.raises(ValueError, match="not a period"):
        parse_period(key, "da-DK")


def test_the_selectable_periods_are_the_last_years_quarters_and_months_newest_first():
    periods = selectable_periods(TODAY, "da-DK")
    keys = [p.key for p in periods]
    assert keys[:3] == ["2026", "2026-Q4", "2026-12"]
    assert len(keys) == 2 + 8 + 12 and len(set(keys)) == len(keys)
    assert "2025-Q1" in keys and "2024-Q4" not in keys and "2025-12" not in keys
    assert [p.end for p in periods] == sorted((p.end for p in periods), reverse=True)


def test_the_weeks_of_the_months_make_up_the_weeks_of_the_year():
    year = weeks_in(parse_period("2025", "da-DK"), TODAY)
    months = [
        w for m in range(1, 13) for w in weeks_in(parse_period(f"2025-{m:02d}", "da-DK"), TODAY)
    ]
    assert months == year and len(year) == 52
    assert weeks_in(parse_period("2026-12", "da-DK"), TODAY) == ["2026-W49"]
    assert all(t in PULSE_TOPICS for t in ("breaks", "rest"))
