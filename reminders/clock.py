"""The reminders' notion of now: the system clock, or the system clock moved to a chosen
moment (a test, a rerun of a past week); a moved clock keeps running, so waits still end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.offset = timedelta(0)

    def set(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        """Today in the municipality's time zone."""
        return self.now().astimezone(self.zone).date()
