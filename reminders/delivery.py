"""Send a week's pending reminders: paced under Teams' limits, retried politely, each once.

For every pending ledger row: find the person's chat, compose the message, let the transport
prepare the send (connector client, activity, the bot's token), then in one place
(``Delivery._depart``): wait until the tenant has room, mark the row ``sending``, make the
request; and record the outcome. A 429 holds every send for its ``Retry-After``; 412/5xx,
timeouts and dropped connections are retried with jittered backoff; 403/404 mark the
recipient unreachable and are never retried. One person's rows go one at a time (the pacer's
per-conversation gap relies on it). Only the holder of the sender lease sends; the lease is
renewed while it works and released at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from core.reminders import (
    BACKOFF_BASE_SECONDS,
    MAX_ATTEMPTS,
    RETRY,
    SENT,
    UNREACHABLE,
    classify,
    retry_delay,
)
from reminders.rate_limit import TeamsPacer
from store import reminders as ledger
from store.reminders import LedgerRow, ReminderStore

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
BATCH = 200
CONCURRENCY = 8
SEND_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SendOutcome:
    status: int | None  # None: no answer (timeout, connection reset)
    retry_after: float | None = None


@dataclass(frozen=True)
class Recipient:
    conversation_id: str
    locale: str
    address: Any = None  # the transport's own: where and how to send


class Transport(Protocol):
    async def find(self, user_id: str) -> Recipient | None:
        """The user's 1:1 chat with the bot; None when the bot has none (unreachable)."""
        ...

    async def prepare(
        self, recipient: Recipient, message: Any
    ) -> Callable[[], Awaitable[SendOutcome]]:
        """Everything a send needs before its request (may raise: retried like no answer).
        Returns the send: awaiting it makes the one request and reports the answer."""
        ...


#: Builds the message for a row (None: nothing to say this week).
Compose = Callable[[LedgerRow, Recipient], Awaitable[Any | None]]


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)
    lease_lost: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {**dict(self.counts), "lease_lost": self.lease_lost}


class RowTaken(Exception):
    """The row was no longer pending when its message was about to leave."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Delivery:
    def __init__(
        self,
        store: ReminderStore,
        transport: Transport,
        compose: Compose,
        *,
        pacer: TeamsPacer | None = None,
        holder: str | None = None,
        backoff_base: float = BACKOFF_BASE_SECONDS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.transport = transport
        self.compose = compose
        self.pacer = pacer or TeamsPacer()
        self.holder = holder or uuid.uuid4().hex
        self.backoff_base = backoff_base
        self.clock = clock
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the sends under way, start no new one (graceful shutdown)."""
        self._stopping.set()

    async def deliver(self, week: str) -> Report:
        report = Report()
        if not await self.store.take_lease(self.holder, self.clock(), LEASE_SECONDS):
            report.lease_lost = True
            return report
        lost = asyncio.Event()
        keeper = asyncio.create_task(self._keep_lease(lost))
        try:
            await self._drain(week, report, lost)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if not lost.is_set():
                await self.store.release_lease(self.holder)
        report.lease_lost = lost.is_set()
        return report

    async def _keep_lease(self, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            if not await self.store.take_lease(self.holder, self.clock(), LEASE_SECONDS):
                log.error("reminders: the sender lease was taken over; stopping")
                lost.set()
                return

    async def _drain(self, week: str, report: Report, lost: asyncio.Event) -> None:
        gate = asyncio.Semaphore(CONCURRENCY)
        busy: set[str] = set()  # people with a send under way: one at a time each
        tasks: set[asyncio.Task[None]] = set()
        while not (self._stopping.is_set() or lost.is_set()):
            rows = []
            for row in await self.store.due(week, self.clock(), BATCH):
                if row.recipient_id not in busy:
                    busy.add(row.recipient_id)
                    rows.append(row)
            for row in rows:
                task = asyncio.create_task(self._one(row, gate, report, lost))
                tasks.add(task)
                task.add_done_callback(
                    lambda t, who=row.recipient_id: (tasks.discard(t), busy.discard(who))
                )
            if rows:
                await asyncio.sleep(0)
                # Fetch more when the queue runs low, not for every row.
                while len(tasks) > CONCURRENCY * 2 and not lost.is_set():
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            if tasks:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            next_at = await self.store.next_due_at(week)
            if next_at is None:
                return  # every row of the week is done
            await self._sleep_until(next_at)
        if tasks:
            await asyncio.wait(tasks)

    async def _sleep_until(self, moment: datetime) -> None:
        delay = (moment - self.clock()).total_seconds()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.01, min(delay, 60)))

    async def _one(
        self, row: LedgerRow, gate: asyncio.Semaphore, report: Report, lost: asyncio.Event
    ) -> None:
        async with gate:
            if self._stopping.is_set() or lost.is_set():
                return
            try:
                await self._send(row, report)
            except Exception as error:  # noqa: BLE001 - one row must not stop the week
                log.error("reminders: a %s send failed: %s", row.kind, type(error).__name__)
                for was in (ledger.SENDING, ledger.PENDING):
                    if await self.store.mark(row, ledger.FAILED, expected=was):
                        break
                report.counts["failed"] += 1

    async def _send(self, row: LedgerRow, report: Report) -> None:
        recipient = await self.transport.find(row.recipient_id)
        if recipient is None:
            await self.store.mark(row, ledger.UNREACHABLE, expected=ledger.PENDING)
            report.counts["unreachable"] += 1
            return
        message = await self.compose(row, recipient)
        if message is None:
            await self.store.mark(row, ledger.SKIPPED, expected=ledger.PENDING)
            report.counts["skipped"] += 1
            return
        try:
            send = await asyncio.wait_for(
                self.transport.prepare(recipient, message), SEND_TIMEOUT_SECONDS
            )
        except Exception as error:  # noqa: BLE001 - not even ready: retried like no answer
            log.info("reminders: a %s could not be prepared (%s)", row.kind, type(error).__name__)
            await self._record(row, SendOutcome(None), ledger.PENDING, report)
            return
        outcome = await self._depart(row, recipient.conversation_id, send)
        if outcome is not None:
            await self._record(row, outcome, ledger.SENDING, report)

    async def _depart(
        self, row: LedgerRow, conversation_id: str, send: Callable[[], Awaitable[SendOutcome]]
    ) -> SendOutcome | None:
        """The last steps of a send, in this order and nothing between them: wait until the
        tenant has room, mark the row ``sending``, make the request. A sender killed while
        rows wait here leaves them pending; only a row whose request is on its way can be
        left ``sending`` (uncertain for the next sender). None: stopped before it left."""
        async with self.pacer.departure(conversation_id):
            if self._stopping.is_set():
                return None  # the row stays pending for the next run
            if not await self.store.mark(row, ledger.SENDING, expected=ledger.PENDING):
                raise RowTaken  # another sender has it (cannot happen while the lease holds)
            try:
                return await asyncio.wait_for(send(), SEND_TIMEOUT_SECONDS)
            except TimeoutError:
                return SendOutcome(None)

    async def _record(self, row: LedgerRow, outcome: SendOutcome, was: str, report: Report) -> None:
        """Move the row from ``was`` to what the answer means: sent, unreachable, pending
        again for a retry (after a 429's Retry-After, which holds every send, or a jittered
        backoff), or failed after the last attempt."""
        verdict = classify(outcome.status)
        attempts = row.attempts + 1
        if verdict == SENT:
            await self.store.mark(
                row, ledger.SENT, expected=was, status=outcome.status, attempts=attempts
            )
            report.counts["sent"] += 1
        elif verdict == UNREACHABLE:
            await self.store.mark(
                row,
                ledger.UNREACHABLE,
                expected=was,
                status=outcome.status,
                attempts=attempts,
            )
            report.counts["unreachable"] += 1
        elif verdict == RETRY and attempts < MAX_ATTEMPTS:
            if outcome.status == 429 and outcome.retry_after is not None:
                self.pacer.hold(outcome.retry_after)
            delay = retry_delay(attempts - 1, outcome.retry_after, base=self.backoff_base)
            await self.store.mark(
                row,
                ledger.PENDING,
                expected=was,
                status=outcome.status,
                attempts=attempts,
                not_before=self.clock() + timedelta(seconds=delay),
            )
            report.counts[f"retry_{outcome.status or 'no_answer'}"] += 1
        else:
            await self.store.mark(
                row,
                ledger.FAILED,
                expected=was,
                status=outcome.status,
                attempts=attempts,
            )
            report.counts["failed"] += 1
            log.warning("reminders: a %s gave up after %s attempts", row.kind, attempts)
