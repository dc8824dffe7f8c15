"""The anonymous overview for the APV and MED: periods, the suppression of small groups, and
the figures built from counts (free of botbuilder and of the store).

**What is counted.** store/overview.py counts, per unit (the employee's department when the
dialogue's employee was chosen; ``""`` when it was not given), with GROUP BY in SQL:
agreements (the newest version of each dialogue) by decision and by state, the days a week
and the systematic share of the agreements in force, follow-up items by kind and status,
self-checks with a problem per topic (T1–T4), weekly pulse answers marked a problem per topic
and week, and the employees the reminders could not reach. Never a name, a free text or one
answer: only counts reach this module, and only counts and shares leave it.

**Periods and differencing.** Every figure but the pulse is a *snapshot*: the state of
things on the period's last day (or today, for the running period), so a year, its last
quarter and its last month show exactly the same snapshot, and subtracting one selectable
period from another that ends on the same day gives zero. Two snapshots on different days
differ by the net change between those days, which is not the count of any group (people
come and go in both directions), so subtraction between periods reveals no group. The
pulse is counted per ISO week (a week belongs to the month of its Thursday, so months nest
in quarters and years); a week's cells are computed and suppressed on their own, the same in
every period that shows the week, and no period total of pulses is published, so summing or
subtracting weeks gives nothing that is not already shown.

**Anonymity (k, default 5).** The suppression (core/suppression.py) runs over the *whole*
published table of the period, every unit and the municipality together, before anything is
filtered for the viewer, so two viewers with different units see cells of one and the same
suppressed table and cannot combine them. A unit with fewer than k people shows nothing but
its suppressed head count. Every figure is treated as a table whose rows (units, and the
municipality as their sum) and columns (its categories, with the row's total as their sum)
are all known to a reader, which is stricter than what the page shows.

**Shares.** A share is a table of two parts, with and without the problem. It is shown only
when both parts are shown: the part with the problem must be 0 or at least k, the part
without it at least k (a 0 there would say "everybody in the unit has the problem", so it
is protected like a small count). "Nobody has the problem" is shown: it describes no one's
difficulty. A share of nothing (no answers) is shown as suppressed, with the note saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from typing import Any

from core import policy as policies
from core.answers import Decision
from core.overview_grid import Grid
from core.overview_model import (
    Cell,
    ChartKind,
    Figure,
    Measure,
    Overview,
    Period,
    Series,
    UnitOverview,
)
from core.reminders import PULSE_TOPICS, week_of
from core.suppression import Key, suppress
from core.texts import Texts, pick_locale, texts_for

#: The anonymity threshold's default and the range OVERVIEW_MIN_GROUP may take.
DEFAULT_K, MIN_K, MAX_K = 5, 3, 25
#: The unit key of employees whose unit was not given.
NO_UNIT = ""
#: A suppressed cell (the model is frozen: one serves them all).
HIDDEN = Cell(value=None, suppressed=True)


@lru_cache(maxsize=4096)
def _shown(value: float) -> Cell:
    """A published cell. Built without validation, and once per value (the model is frozen,
    so cells of the same value can be one object): the whole municipality's overview has
    some 20,000 cells, of a few hundred different values (counts, shares to one decimal)."""
    return Cell.model_construct(value=value, suppressed=False)


DECISIONS: tuple[Decision, ...] = ("approved", "approved_with_conditions", "not_approved")
#: An agreement version's state on the snapshot day.
AGREEMENT_STATES = ("awaiting_employee", "confirmed", "disputed")
#: Days a week from home: occasional (or less than a day a week), then 1–5.
DAY_CATEGORIES = ("occasional", "1", "2", "3", "4", "5")
#: A follow-up item on the snapshot day.
ITEM_STATES = ("open", "overdue", "done", "not_needed")
#: The four dialogue topics and the self-check step that belongs to each.
TOPICS = ("T1", "T2", "T3", "T4")
TOPIC_OF_SELF_CHECK_STEP = {
    "sc_work": "T1",
    "sc_contact": "T2",
    "sc_equipment": "T3",
    "sc_ergonomics": "T4",
}

_YEAR, _QUARTER, _MONTH = (
    re.compile(r"(\d{4})"),
    re.compile(r"(\d{4})-Q([1-4])"),
    re.compile(r"(\d{4})-(0[1-9]|1[0-2])"),
)


# --- periods ---------------------------------------------------------------------------------


def _last_day(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def parse_period(key: str, locale: str) -> Period:
    """ "2026" (a year), "2026-Q3" (a quarter), "2026-09" (a month) as a Period with its
    label; ValueError with a plain message for anything else."""
    t = texts_for(pick_locale(locale))
    key = key.strip()
    if (m := _YEAR.fullmatch(key)) and 2000 <= int(m[1]) <= 2999:
        year = int(m[1])
        return Period(
            key=key,
            label=t("overview.figures.periods.year", year=year),
            start=date(year, 1, 1),
            end=date(year, 12, 31),
        )
    if (m := _QUARTER.fullmatch(key)) and 2000 <= int(m[1]) <= 2999:
        year, quarter = int(m[1]), int(m[2])
        return Period(
            key=key,
            label=t("overview.figures.periods.quarter", year=year, quarter=quarter),
            start=date(year, 3 * quarter - 2, 1),
            end=_last_day(year, 3 * quarter),
        )
    if (m := _MONTH.fullmatch(key)) and 2000 <= int(m[1]) <= 2999:
        year, month = int(m[1]), int(m[2])
        name = t(f"overview.figures.months.m{month:02d}")
        return Period(
            key=key,
            label=t("overview.figures.periods.month", year=year, month=name),
            start=date(year, month, 1),
            end=_last_day(year, month),
        )
    raise ValueError(
        f"{key!r} is not a period: use a year (2026), a quarter (2026-Q3) or a month (2026-09)"
    )


def selectable_periods(today: date, locale: str) -> list[Period]:
    """The periods a viewer can pick, newest end first (longer first among equal ends): the
    last 2 years, the last 8 quarters and the last 12 months, the running ones included."""
    keys = [str(today.year - n) for n in range(2)]
    quarter = (today.month - 1) // 3
    for n in range(8):
        q = quarter - n
        keys.append(f"{today.year + q // 4}-Q{q % 4 + 1}")
    for n in range(12):
        m = today.month - 1 - n
        keys.append(f"{today.year + m // 12}-{m % 12 + 1:02d}")
    periods = [parse_period(k, locale) for k in keys]
    return sorted(periods, key=lambda p: (p.end, p.end - p.start), reverse=True)


def snapshot_day(period: Period, today: date) -> date:
    """The day the snapshot figures describe: the period's last day, or today while it runs."""
    return min(period.end, today)


def weeks_in(period: Period, today: date) -> list[str]:
    """The ISO weeks of the period (each in the month of its Thursday) that have begun by
    ``today``, oldest first."""
    thursday = period.start + timedelta(days=(3 - period.start.weekday()) % 7)
    weeks = []
    while thursday <= period.end and thursday - timedelta(days=3) <= today:
        weeks.append(week_of(thursday))
        thursday += timedelta(weeks=1)
    return weeks


# --- the counts the store hands over ---------------------------------------------------------


@dataclass
class Counts:
    """Counts per unit key (``NO_UNIT`` for "not given"); the municipality is their sum."""

    #: The unit's name as the directory spells it, by unit key.
    unit_names: dict[str, str] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    #: (unit, decision) of the newest agreement version of each dialogue.
    decisions: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (unit, state on the snapshot day) of the same versions.
    states: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (unit, day category) of the agreements in force.
    days: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (unit, "yes"/"no") the agreements in force say the unit works from home systematically.
    systematic: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (unit, action key, item state) of the items of the versions in force.
    items: dict[tuple[str, str, str], int] = field(default_factory=dict)
    #: Employees with a finished self-check, and those with a problem per topic.
    self_checks: dict[str, int] = field(default_factory=dict)
    self_check_problems: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (unit, week) pulse answers, and (unit, week, pulse topic) of those marked a problem.
    pulses: dict[tuple[str, str], int] = field(default_factory=dict)
    pulse_problems: dict[tuple[str, str, str], int] = field(default_factory=dict)
    #: (unit, "unreachable"/"reached") employees the weekly reminders go to.
    reach: dict[tuple[str, str], int] = field(default_factory=dict)

    def units(self) -> list[str]:
        """Every unit with a count, in name order, "not given" last."""
        pairs: list[dict[Any, int]] = [
            self.decisions,
            self.states,
            self.days,
            self.systematic,
            self.items,
            self.self_check_problems,
            self.pulses,
            self.pulse_problems,
            self.reach,
        ]
        found: set[str] = {
            *self.people,
            *self.self_checks,
            *(k[0] for table in pairs for k in table),
        }
        return sorted(found, key=self._order)

    def _order(self, unit: str) -> tuple[bool, str]:
        return unit == NO_UNIT, self.unit_names.get(unit, unit).casefold()


# --- the published table ----------------------------------------------------------------------

#: A cell key: (table, unit or None for the municipality, column).
CellKey = tuple[str, str | None, str]


def _count2(table: Mapping[tuple[str, str], int], second: str, unit: str) -> int:
    return table.get((unit, second), 0)


def _count3(table: Mapping[tuple[str, str, str], int], second: str, third: str, unit: str) -> int:
    return table.get((unit, second, third), 0)


def _item_count(table: Mapping[tuple[str, str, str], int], kind: str, unit: str, state: str) -> int:
    return table.get((unit, kind, state), 0)


def build_grid(counts: Counts, weeks: Sequence[str], policy: policies.Policy) -> Grid:
    grid = Grid(counts.units())
    grid.table("people", "people#", ("n",), lambda u, _c: counts.people.get(u, 0))
    grid.table("decision", "agreements", DECISIONS, lambda u, c: counts.decisions.get((u, c), 0))
    grid.table("state", "agreements", AGREEMENT_STATES, lambda u, c: counts.states.get((u, c), 0))
    grid.table("days", "in_force", DAY_CATEGORIES, lambda u, c: counts.days.get((u, c), 0))
    grid.table(
        "systematic",
        "in_force",
        ("yes", "no"),
        lambda u, c: counts.systematic.get((u, c), 0),
    )
    for kind in item_kinds(policy):
        grid.table(
            f"items:{kind}",
            f"items#{kind}",
            ITEM_STATES,
            partial(_item_count, counts.items, kind),
        )
    for topic in TOPICS:
        grid.shares(
            f"self_check:{topic}",
            "self_checks",
            lambda u: counts.self_checks.get(u, 0),
            partial(_count2, counts.self_check_problems, topic),
        )
    for week in weeks:
        for topic in PULSE_TOPICS:
            grid.shares(
                f"pulse:{week}:{topic}",
                f"pulses#{week}",
                partial(_count2, counts.pulses, week),
                partial(_count3, counts.pulse_problems, week, topic),
            )
    grid.table(
        "reach",
        "recipients",
        ("unreachable", "reached"),
        lambda u, c: counts.reach.get((u, c), 0),
    )
    return grid


def small_units(counts: Counts, k: int, units: Iterable[str] | None = None) -> set[str]:
    """The units of fewer than k people (of ``units``, when the caller has them)."""
    return {u for u in (counts.units() if units is None else units) if counts.people.get(u, 0) < k}


def hidden_cells(grid: Grid, counts: Counts, k: int) -> frozenset[Key]:
    """The suppression of the whole table: small groups, and whatever would give them away.
    Every cell of a unit with fewer than k people is hidden."""
    small = small_units(counts, k, grid.units)
    forced = (
        [key for key in grid.values if isinstance(key, tuple) and key[1] in small] if small else []
    )
    return suppress(
        grid.values,
        grid.lines,
        k,
        protect_zero=grid.protect_zero,
        forced=forced,
        index=grid.index,
    )


def item_kinds(policy: policies.Policy) -> list[str]:
    """The follow-up actions that become items (the policy's actions of kind "action")."""
    return [a.key for a in policy.actions if a.kind == "action"]


# --- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _View:
    grid: Grid
    hidden: frozenset[Key]

    def count(self, key: CellKey) -> Cell:
        if key in self.hidden:
            return HIDDEN
        return _shown(float(self.grid.values[key]))

    def share(self, name: str, unit: str | None) -> Cell:
        """Called some 15,000 times for a year's overview: each step once."""
        hidden = self.hidden
        problem = (name, unit, "problem")
        if problem in hidden:
            return HIDDEN
        ok = (name, unit, "ok")
        if ok in hidden:
            return HIDDEN
        values = self.grid.values
        p = values[problem]
        n = p + values[ok]
        if n == 0:
            return HIDDEN
        return _shown(round(100 * p / n, 1))


def _figure(
    t: Texts,
    key: str,
    measure: Measure,
    chart: ChartKind,
    category_keys: Sequence[str],
    categories: Sequence[str],
    series: Sequence[Series],
) -> Figure:
    note_key = f"overview.figures.{key}.note"
    return Figure(
        key=key,
        title=t(f"overview.figures.{key}.title"),
        measure=measure,
        chart=chart,
        categories=tuple(categories),
        category_keys=tuple(category_keys),
        series=tuple(series),
        note=t(note_key) if t.has(note_key) else None,
    )


def _counts_figure(
    t: Texts,
    view: _View,
    key: str,
    table: str,
    unit: str | None,
    columns: Sequence[str],
    chart: ChartKind = "bar",
) -> Figure:
    labels = [t(f"overview.figures.{key}.categories.{c}") for c in columns]
    series = Series(
        key=key,
        label=t(f"overview.figures.{key}.series"),
        cells=tuple(view.count((table, unit, c)) for c in columns),
    )
    return _figure(t, key, "count", chart, columns, labels, [series])


def unit_figures(
    t: Texts, view: _View, unit: str | None, weeks: Sequence[str], policy: policies.Policy
) -> tuple[Figure, ...]:
    kinds = item_kinds(policy)
    items = _figure(
        t,
        "action_items",
        "count",
        "stacked_bar",
        kinds,
        [t(f"actions.{kind}") for kind in kinds],
        [
            Series(
                key=state,
                label=t(f"overview.figures.action_items.series.{state}"),
                cells=tuple(view.count((f"items:{kind}", unit, state)) for kind in kinds),
            )
            for state in ITEM_STATES
        ],
    )
    systematic = _figure(
        t,
        "systematic_share",
        "percent",
        "bar",
        ("systematic",),
        [t("overview.figures.systematic_share.category")],
        [
            Series(
                key="systematic",
                label=t("overview.figures.systematic_share.series"),
                cells=(_systematic_share(view, unit),),
            )
        ],
    )
    self_check = _figure(
        t,
        "self_check_problems",
        "percent",
        "bar",
        TOPICS,
        [t(f"overview.figures.topics.{topic}") for topic in TOPICS],
        [
            Series(
                key="problem",
                label=t("overview.figures.self_check_problems.series"),
                cells=tuple(view.share(f"self_check:{topic}", unit) for topic in TOPICS),
            )
        ],
    )
    pulse = _figure(
        t,
        "pulse_trend",
        "percent",
        "line",
        weeks,
        [t("overview.figures.pulse_trend.week", week=int(w.split("-W")[1])) for w in weeks],
        [
            Series(
                key=topic,
                label=t(f"pulse.topics.{topic}"),
                cells=tuple(view.share(f"pulse:{w}:{topic}", unit) for w in weeks),
            )
            for topic in PULSE_TOPICS
        ],
    )
    reach = _figure(
        t,
        "unreachable",
        "count",
        "bar",
        ("unreachable",),
        [t("overview.figures.unreachable.category")],
        [
            Series(
                key="unreachable",
                label=t("overview.figures.unreachable.series"),
                cells=(view.count(("reach", unit, "unreachable")),),
            )
        ],
    )
    return (
        _counts_figure(t, view, "agreements_by_decision", "decision", unit, DECISIONS),
        _counts_figure(t, view, "agreements_by_state", "state", unit, AGREEMENT_STATES),
        _counts_figure(t, view, "home_days", "days", unit, DAY_CATEGORIES),
        systematic,
        items,
        self_check,
        pulse,
        reach,
    )


def _systematic_share(view: _View, unit: str | None) -> Cell:
    yes, no = ("systematic", unit, "yes"), ("systematic", unit, "no")
    if yes in view.hidden or no in view.hidden:
        return HIDDEN
    y, n = view.grid.values[yes], view.grid.values[yes] + view.grid.values[no]
    return _shown(round(100 * y / n, 1)) if n else HIDDEN


def build_overview(
    counts: Counts,
    *,
    period: Period,
    weeks: Sequence[str],
    visible: frozenset[str] | None,
    locale: str,
    k: int,
    generated_at: datetime,
    policy: policies.Policy | None = None,
) -> Overview:
    """Suppress the whole table, then keep the units the viewer may see (``visible``:
    casefolded unit keys; None: every unit), in name order, and the municipality last."""
    if not MIN_K <= k <= MAX_K:
        raise ValueError(f"the anonymity threshold must be between {MIN_K} and {MAX_K}")
    policy = policy or policies.active()
    locale = pick_locale(locale)
    t = texts_for(locale)
    grid = build_grid(counts, weeks, policy)
    view = _View(grid, hidden_cells(grid, counts, k))
    small = small_units(counts, k, grid.units)
    shown = [u for u in grid.units if visible is None or u in visible]
    units = [
        UnitOverview(
            unit=counts.unit_names.get(u, u) if u != NO_UNIT else NO_UNIT,
            label=(t("overview.figures.no_unit") if u == NO_UNIT else counts.unit_names.get(u, u)),
            people=view.count(("people", u, "n")),
            figures=unit_figures(t, view, u, weeks, policy) if u not in small else (),
        )
        for u in shown
    ]
    units.append(
        UnitOverview(
            unit=None,
            label=t("overview.figures.municipality"),
            people=view.count(("people", None, "n")),
            figures=unit_figures(t, view, None, weeks, policy),
        )
    )
    return Overview(
        period=period, k=k, locale=locale, units=tuple(units), generated_at=generated_at
    )


def published(overview: Overview) -> Mapping[tuple[str | None, str, str, str], float | None]:
    """Every cell of an overview by (unit, figure, series, category): what a reader sees."""
    return {
        (u.unit, f.key, s.key, c): cell.value
        for u in overview.units
        for f in u.figures
        for s in f.series
        for c, cell in zip(f.category_keys, s.cells, strict=True)
    }
