"""Who gets which reminder in a week, and what a digest or nudge says, from the store.

The week's audience is planned once (the send ledger keeps it); the content of each message
is read when it is sent, so it is as fresh as the send.

With the access checks on (``leaders``: dialogs/access.py), a manager's digest lists only the
dialogues and the employees' requests about employees they lead now (the rule of every
dialogue verb, the managers asked in $batch requests): a former manager gets nothing about an
employee Entra ID has moved. A
follow-up that is due on such an agreement goes to the employee's manager in Entra ID now
(``handed_over``, without a button: they start a new dialogue), or to nobody when Entra ID
names none. When Graph cannot answer for an employee at send time, nothing about them is sent
to anyone who could not be checked: the item is held, and the next week's run, which asks
again, lists it while it is still due.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from core.action_items import ActionItem
from core.dialogue import AWAITING_EMPLOYEE, CONFIRMED, DISPUTED, IN_PROGRESS, Dialogue
from core.reminders import (
    DIGEST,
    NUDGE,
    NUDGE_AFTER_WORKING_DAYS,
    PULSE,
    Digest,
    follow_up_due,
    previous_week,
    repeated_problems,
    week_of,
    working_days_since,
)
from store.action_items import ActionItemStore
from store.dialogues import DialogueStore
from store.reminders import ReminderStore
from store.requests import RequestStore
from store.self_checks import SelfCheckStore

#: The digest lists employees a reminder could not reach in the last four weeks.
UNREACHABLE_WEEKS = 4
#: How long the digests of a run share one read of the agreements due for a follow-up.
DUE_KEPT_SECONDS = 300.0


def _day(timestamp: str) -> date:
    return date.fromisoformat(timestamp[:10])


def active_agreement(d: Dialogue) -> bool:
    """Confirmed (also while a follow-up works on its next version), and home working was not
    refused."""
    return (
        (d.state == CONFIRMED or d.is_renewal)
        and d.employee_id is not None
        and d.answers.decision != "not_approved"
    )


class Leaders(Protocol):
    """Who leads whom now, from Entra ID (dialogs/access.py ``Access``)."""

    @property
    def on(self) -> bool: ...

    async def led_among(
        self, leader_id: str, employee_ids: Iterable[str]
    ) -> tuple[frozenset[str], frozenset[str]]: ...

    async def managers_of(self, employee_ids: Iterable[str]) -> dict[str, str | None]: ...


def due_for_follow_up(d: Dialogue, today: date) -> bool:
    """A confirmed agreement whose follow-up is due (or that has expired)."""
    return d.state == CONFIRMED and (
        follow_up_due(d.answers.follow_up_date, today) or d.expired(today)
    )


@dataclass(frozen=True)
class NudgeItem:
    what: str  # "confirm" | "self_check"
    dialogue: Dialogue


class Planner:
    def __init__(
        self,
        dialogues: DialogueStore,
        self_checks: SelfCheckStore,
        reminders: ReminderStore,
        closed: Callable[[], Container[date]],
        items: ActionItemStore | None = None,
        requests: RequestStore | None = None,
        leaders: Leaders | None = None,
    ) -> None:
        self.dialogues = dialogues
        #: Entra ID's answer to who leads whom (None, or off: the dialogue's manager leads).
        self.leaders = leaders
        #: The action items (None: the digest and the pulse do not mention them).
        self.items = items
        self.self_checks = self_checks
        #: The employees' requests for a conversation (listed in the digest).
        self.requests = requests
        self.reminders = reminders
        self.closed = closed
        #: The agreements due for a follow-up: (day, until when kept, the dialogues).
        self._due_read: tuple[date, float, list[Dialogue]] | None = None

    async def audience(self, week: str, today: date) -> list[tuple[str, str]]:
        """(recipient, kind) for every reminder of the week, minus stopped and snoozed."""
        everything = await self.dialogues.not_cancelled()
        wanted: dict[str, set[str]] = {
            PULSE: {d.employee_id for d in everything if active_agreement(d)},  # type: ignore[misc]
            DIGEST: {d.manager_id for d in everything},
            NUDGE: set(),
        }
        named = {m.lower() for m in wanted[DIGEST]}  # Graph's ids are in lower case
        wanted[DIGEST] |= {
            m for m in (await self._current_managers(everything, today)).values() if m
        } - named
        for d in everything:
            if d.employee_id and await self._nudge_for(d, today):
                wanted[NUDGE].add(d.employee_id)
        entries = []
        for kind, users in wanted.items():
            held_back = await self.reminders.held_back(kind, week)
            entries.extend((user, kind) for user in sorted(users - held_back))
        return entries

    async def _nudge_for(self, d: Dialogue, today: date) -> NudgeItem | None:
        closed = self.closed()
        if d.state == AWAITING_EMPLOYEE:
            if working_days_since(_day(d.updated_at), today, closed) >= NUDGE_AFTER_WORKING_DAYS:
                return NudgeItem("confirm", d)
        elif d.state == IN_PROGRESS:
            if working_days_since(_day(d.created_at), today, closed) < NUDGE_AFTER_WORKING_DAYS:
                return None
            done = await self.self_checks.latest_done(d.employee_id)
            if done is None or done.updated_at < d.created_at:
                return NudgeItem("self_check", d)
        return None

    async def nudges(self, employee_id: str, today: date) -> list[NudgeItem]:
        items = []
        for d in await self.dialogues.for_employee(employee_id):
            item = await self._nudge_for(d, today)
            if item:
                items.append(item)
        return items

    async def employee_items(self, employee_id: str) -> list[ActionItem]:
        """The employee's own open action items, for their weekly card."""
        return [] if self.items is None else await self.items.open_for_employee(employee_id)

    async def has_active_agreement(self, employee_id: str) -> bool:
        return any(active_agreement(d) for d in await self.dialogues.for_employee(employee_id))

    async def _current_managers(
        self, dialogues: list[Dialogue], today: date
    ) -> dict[str, str | None]:
        """For the employees of the agreements due for a follow-up: their manager in Entra ID
        now (None: none is named), left out when Graph did not answer. Empty when the checks
        are off."""
        if self.leaders is None or not self.leaders.on:
            return {}
        employees = {
            d.employee_id.lower()
            for d in dialogues
            if d.employee_id and due_for_follow_up(d, today)
        }
        return await self.leaders.managers_of(employees) if employees else {}

    async def _led(self, manager_id: str, employee_ids: set[str]) -> frozenset[str] | None:
        """Of these employees, those the manager leads now (lower case); None when the checks
        are off (the dialogue's manager leads). Those Graph could not check are held back."""
        if self.leaders is None or not self.leaders.on:
            return None
        if not employee_ids:
            return frozenset()
        led, _unchecked = await self.leaders.led_among(manager_id, employee_ids)
        return led

    async def _handed_over(
        self, manager_id: str, mine: list[Dialogue], today: date
    ) -> list[Dialogue]:
        """Agreements another manager made that are due for a follow-up, about employees
        Entra ID names ``manager_id`` the manager of now (and the manager has no dialogue of
        their own about): the newest per employee."""
        if self.leaders is None or not self.leaders.on:
            return []
        everything = [
            d for d in await self._due(today) if d.manager_id.lower() != manager_id.lower()
        ]
        current = await self._current_managers(everything, today)
        own = {d.employee_id.lower() for d in mine if d.employee_id}
        newest: dict[str, Dialogue] = {}
        for d in everything:
            employee = (d.employee_id or "").lower()
            if (
                employee
                and employee not in own
                and current.get(employee) == manager_id.lower()
                and (employee not in newest or d.updated_at > newest[employee].updated_at)
            ):
                newest[employee] = d
        return [newest[e] for e in sorted(newest)]

    async def _due(self, today: date) -> list[Dialogue]:
        """The agreements due for a follow-up, read once for the digests of a reminder run
        (one per manager: hundreds) rather than once for each, and again after a while."""
        now = time.monotonic()
        if self._due_read is None or self._due_read[0] != today or now > self._due_read[1]:
            due = [d for d in await self.dialogues.confirmed() if due_for_follow_up(d, today)]
            self._due_read = (today, now + DUE_KEPT_SECONDS, due)
        return self._due_read[2]

    async def digest(self, manager_id: str, today: date) -> Digest:
        every = [d for d in await self.dialogues.for_manager(manager_id) if d.state != "cancelled"]
        asked = await self.requests.open_for_manager(manager_id) if self.requests else []
        led = await self._led(
            manager_id,
            {d.employee_id for d in every if d.employee_id} | {r.employee_id for r in asked},
        )

        def leads(employee_id: str | None) -> bool:
            return not employee_id or led is None or employee_id.lower() in led

        mine = [d for d in every if leads(d.employee_id)]
        digest = Digest(
            awaiting_employee=[d for d in mine if d.state == AWAITING_EMPLOYEE],
            unfinished=[d for d in mine if d.state == IN_PROGRESS],
            follow_ups=[
                d
                for d in mine
                if d.state == CONFIRMED and follow_up_due(d.answers.follow_up_date, today)
            ],
            expired=[d for d in mine if d.expired(today)],
            due_now=[d for d in mine if d.follow_up_open(today)],
            disputed=[d for d in mine if d.state == DISPUTED],
        )
        digest.handed_over = await self._handed_over(manager_id, every, today)
        digest.requests = [r for r in asked if leads(r.employee_id)]
        employees = {d.employee_id: d for d in mine if d.employee_id}
        since = week_of(today - timedelta(weeks=UNREACHABLE_WEEKS))
        unreachable = await self.reminders.unreachable_since(sorted(employees), since)
        digest.unreachable = [employees[e] for e in sorted(unreachable)]
        if self.items is not None:
            kept = {d.id for d in mine}
            digest.overdue_items = [
                i
                for i in await self.items.overdue_for_manager(manager_id, today)
                if i.dialogue_id in kept
            ]
        last = previous_week(week_of(today))
        before = previous_week(last)
        for d in mine:
            if not active_agreement(d):
                continue
            answers = await self.reminders.pulses(d.employee_id, [last, before])  # type: ignore[arg-type]
            topics = repeated_problems(answers.get(last, {}), answers.get(before))
            if topics:
                digest.pulse_problems.append((d, topics))
        return digest
