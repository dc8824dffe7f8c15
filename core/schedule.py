"""When the weekly reminders go out: a weekday and a time of day in the municipality's time
zone, moved to the next working day when that day is a Danish public holiday.

Times are computed in local time and converted to UTC, so Monday 09:00 stays 09:00 in
Copenhagen across the daylight-saving changes. A send belongs to the ISO week of its planned
day even when a holiday moves it (the send ledger is keyed by that week).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays


def danish_holidays(years: range) -> Container[date]:
    """Denmark's public holidays (the maintained ``holidays`` package)."""
    found: holidays.HolidayBase = holidays.country_holidays("DK", years=list(years))
    return found


@dataclass(frozen=True)
class WeeklySlot:
    weekday: int  # 0 = Monday
    at: time
    zone: ZoneInfo

    def planned_day(self, year: int, week: int) -> date:
        return date.fromisocalendar(year, week, self.weekday + 1)

    def send_time(self, year: int, week: int, closed: Container[date]) -> datetime:
        """The UTC moment of the week's send: the planned day, or the next working day."""
        day = self.planned_day(year, week)
        while day.weekday() >= 5 or day in closed:
            day += timedelta(days=1)
        return datetime.combine(day, self.at, tzinfo=self.zone).astimezone(UTC)

    def due_week(self, now: datetime, closed: Container[date]) -> tuple[int, int] | None:
        """The ISO week (year, week) whose send is due at ``now``: its send time has passed
        and the following week's has not. None before the first send of the current week."""
        local = now.astimezone(self.zone).date()
        for back in (0, 1):
            year, week, _ = (local - timedelta(weeks=back)).isocalendar()
            if self.send_time(year, week, closed) <= now:
                return year, week
        return None
