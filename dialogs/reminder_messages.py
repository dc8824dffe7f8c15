"""Compose a reminder when it is sent: the pulse card, the manager's digest, the nudge.

None means there is nothing to say this week (an empty digest, no pending item, an agreement
that ended, or the user stopped this kind after the week was planned): the ledger records the
row as skipped and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from cards.reminder_screens import ReminderScreens
from core.reminders import DIGEST, NUDGE, PULSE
from core.texts import texts_for
from reminders.delivery import Recipient
from reminders.planner import Planner
from store.reminders import LedgerRow


class ReminderMessages:
    def __init__(
        self, planner: Planner, screens: ReminderScreens, today: Callable[[], date]
    ) -> None:
        self.planner = planner
        self.screens = screens
        self.today = today

    async def __call__(self, row: LedgerRow, recipient: Recipient) -> dict[str, Any] | None:
        if row.recipient_id in await self.planner.reminders.held_back(row.kind, row.week):
            return None
        t = texts_for(recipient.locale)
        if row.kind == PULSE:
            if not await self.planner.has_active_agreement(row.recipient_id):
                return None
            own = await self.planner.employee_items(row.recipient_id)
            return self.screens.pulse(t, row.week, own)
        if row.kind == DIGEST:
            digest = await self.planner.digest(row.recipient_id, self.today())
            return None if digest.empty else self.screens.digest(t, digest)
        if row.kind == NUDGE:
            items = await self.planner.nudges(row.recipient_id, self.today())
            return self.screens.nudge(t, items) if items else None
        return None
