"""PLACEHOLDER (replaced by part A at merge): the periods the overview can be chosen for.

Simple on purpose: this year and last year, and the quarters of this year so far, newest
first."""

from __future__ import annotations

from datetime import date

from core.overview_model import Period

_QUARTER = {"da-DK": "{q}. kvartal {year}", "en-US": "Q{q} {year}"}


def _quarter(year: int, q: int, locale: str) -> Period:
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    label = _QUARTER.get(locale, _QUARTER["da-DK"]).format(q=q, year=year)
    return Period(
        key=f"{year}-Q{q}", label=label, start=start, end=date.fromordinal(end.toordinal() - 1)
    )


def selectable_periods(today: date, locale: str) -> list[Period]:
    year = today.year
    periods = [
        Period(key=str(year), label=str(year), start=date(year, 1, 1), end=date(year, 12, 31))
    ]
    periods += [_quarter(year, q, locale) for q in range((today.month - 1) // 3 + 1, 0, -1)]
    periods.append(
        Period(
            key=str(year - 1),
            label=str(year - 1),
            start=date(year - 1, 1, 1),
            end=date(year - 1, 12, 31),
        )
    )
    return periods
