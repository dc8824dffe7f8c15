"""PLACEHOLDER (replaced by part A at merge): the anonymous overview's figures from the store.

Honest but simple: the latest version of each agreement concluded in the period, counted by
decision for each unit the viewer may see and for the whole municipality; a count below k is
suppressed, and so is a unit's head count below k."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import select

from core.overview import selectable_periods
from core.overview_model import Cell, Figure, Overview, Series, UnitOverview
from core.texts import texts_for
from store.database import Database
from store.schema import agreements

_DECISIONS = ("approved", "approved_with_conditions", "not_approved")
_WHOLE = {"da-DK": "Hele kommunen", "en-US": "The whole municipality"}


async def _latest(db: Database) -> list[tuple[str, str, str]]:
    """(unit, decision, created_at) of each dialogue's latest agreement version."""
    a = agreements.c
    rows = await db.fetchall(select(a.dialogue_id, a.version, a.decision, a.record, a.created_at))
    latest: dict[str, tuple[int, str, str, str]] = {}
    for row in rows:
        unit = json.loads(row["record"]).get("unit") or ""
        if row["dialogue_id"] not in latest or row["version"] > latest[row["dialogue_id"]][0]:
            latest[row["dialogue_id"]] = (row["version"], unit, row["decision"], row["created_at"])
    return [(unit, decision, at) for _, unit, decision, at in latest.values()]


async def known_units(db: Database) -> list[str]:
    return sorted({unit for unit, _, _ in await _latest(db) if unit}, key=str.casefold)


def _cell(value: int, k: int) -> Cell:
    return Cell(value=None, suppressed=True) if value < k else Cell(value=float(value))


async def load_overview(
    db: Database,
    *,
    units: frozenset[str] | None,
    period: str,
    locale: str,
    k: int,
    today: date,
) -> Overview:
    chosen = next((p for p in selectable_periods(today, locale) if p.key == period), None)
    if chosen is None:
        raise ValueError(f"unknown period {period!r}")
    t = texts_for(locale)
    rows = [
        (unit, decision)
        for unit, decision, at in await _latest(db)
        if chosen.start.isoformat() <= at[:10] <= chosen.end.isoformat()
    ]
    names = await known_units(db)
    shown = [u for u in names if units is None or u.casefold() in units]

    def unit_overview(unit: str | None, label: str) -> UnitOverview:
        counts = Counter(d for u, d in rows if unit is None or u.casefold() == unit.casefold())
        figure = Figure(
            key="agreements_by_decision",
            title=t("fields.decision.label"),
            measure="count",
            chart="bar",
            categories=tuple(t(f"fields.decision.choices.{d}") for d in _DECISIONS),
            category_keys=_DECISIONS,
            series=(
                Series(
                    key="agreements",
                    label=t("fields.decision.label"),
                    cells=tuple(_cell(counts[d], k) for d in _DECISIONS),
                ),
            ),
        )
        return UnitOverview(
            unit=unit, label=label, people=_cell(sum(counts.values()), k), figures=(figure,)
        )

    return Overview(
        period=chosen,
        k=k,
        locale=t.locale,
        units=(
            *(unit_overview(u, u) for u in shown),
            unit_overview(None, _WHOLE.get(t.locale, _WHOLE["da-DK"])),
        ),
        generated_at=datetime.now(UTC),
    )
