"""When to run the week's reminders, in this process or on an external trigger.

A run looks at the week whose send time has come (``WeeklySlot``: weekday and time in the
municipality's zone, a public holiday moves it to the next working day), plans that week's
audience once under the sender lease, then delivers what is pending. Running it again, after a
restart or in a second process, only continues what is left. A week whose send time is more
than ``CATCH_UP`` ago when the bot first sees it is not planned any more: a Monday reminder on
Friday helps no one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from core.reminders import iso_week
from core.schedule import WeeklySlot, danish_holidays
from reminders.delivery import LEASE_SECONDS, Delivery
from reminders.planner import Planner
from store.reminders import ReminderStore

log = logging.getLogger(__name__)

CATCH_UP = timedelta(days=3)
TICK_SECONDS = 60.0


def closed_days(year: int):
    return danish_holidays(range(year - 1, year + 2))


class ReminderScheduler:
    def __init__(
        self,
        store: ReminderStore,
        planner: Planner,
        delivery: Delivery,
        slot: WeeklySlot,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.planner = planner
        self.delivery = delivery
        self.slot = slot
        self.clock = clock
        self._running = asyncio.Lock()
        self._stopping = asyncio.Event()

    @property
    def busy(self) -> bool:
        return self._running.locked()

    async def run_once(self) -> dict[str, Any]:
        """Plan the due week if needed and deliver what is pending; a summary of counts.

        ``clock`` decides which week is due and what "today" is (it can be moved for a rerun
        or a test); the sender lease and retry times always use the real time."""
        async with self._running:
            now = self.clock()
            closed = closed_days(now.year)
            due = self.slot.due_week(now, closed)
            if due is None:
                return {"week": None}
            week = iso_week(*due)
            if not await self.store.is_planned(week):
                if now - self.slot.send_time(*due, closed) > CATCH_UP:
                    return {"week": week, "planned": False, "reason": "too late for this week"}
                real_now = datetime.now(UTC)  # leases and send times are real durations
                if not await self.store.take_lease(self.delivery.holder, real_now, LEASE_SECONDS):
                    return {"week": week, "planned": False, "reason": "another process sends"}
                today = now.astimezone(self.slot.zone).date()
                audience = await self.planner.audience(week, today)
                added = await self.store.plan(week, audience, real_now)
                log.info("reminders: week %s planned, %s messages", week, added)
            report = await self.delivery.deliver(week)
            if report.counts:
                log.info("reminders: week %s %s", week, report.as_dict())
            return {"week": week, **report.as_dict()}

    async def run_forever(self) -> None:
        """The in-process scheduler: a run every minute (each one cheap when nothing is due)."""
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception as error:  # noqa: BLE001 - try again at the next tick
                log.error("reminders: run failed: %s", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), TICK_SECONDS)

    def stop(self) -> None:
        """Graceful shutdown: sends under way finish, no new one starts."""
        self._stopping.set()
        self.delivery.stop()
