"""The anonymous overview's shape: what the overview page, its JSON endpoint, the chat card
and the APV export all read.

The overview is a set of figures for each unit the viewer may see and for the whole
municipality, for one calendar period. Every number is a ``Cell``: either a value, or
suppressed because it (or a figure it could be worked out from) describes fewer people than
the anonymity threshold ``k``. A suppressed cell has no value at all, so nothing downstream
can show it by mistake. There is never a name, a free text or a single person's answer here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

#: What a figure's numbers are: a number of people or items, or a share in per cent.
Measure = Literal["count", "percent"]
#: How the page draws a figure.
ChartKind = Literal["bar", "stacked_bar", "line"]


class Cell(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: The figure; None exactly when suppressed.
    value: float | None
    suppressed: bool = False


class Series(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: Stable id, e.g. "approved", "open", "t3".
    key: str
    #: In the viewer's language.
    label: str
    #: One cell per category of the figure, in the same order.
    cells: tuple[Cell, ...]


class Figure(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: Stable id, e.g. "agreements_by_decision", "pulse_trend".
    key: str
    title: str
    measure: Measure
    chart: ChartKind
    #: The x axis (decisions, days a week, kinds of action, weeks...), in the viewer's
    #: language; ``category_keys`` are their stable ids, same order.
    categories: tuple[str, ...]
    category_keys: tuple[str, ...]
    series: tuple[Series, ...]
    #: A short plain-language explanation shown under the chart, or None.
    note: str | None = None


class UnitOverview(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: The unit's name as Entra ID spells the department; None for the whole municipality.
    unit: str | None
    label: str
    #: How many employees the figures cover; suppressed below k.
    people: Cell
    figures: tuple[Figure, ...]


class Period(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: "2026" (a year), "2026-Q3" (a quarter) or "2026-09" (a month).
    key: str
    label: str
    start: date
    #: Inclusive.
    end: date


class Overview(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: Period
    #: The anonymity threshold in force.
    k: int
    locale: str
    #: The viewer's units first (in name order), then the whole municipality.
    units: tuple[UnitOverview, ...]
    generated_at: datetime
