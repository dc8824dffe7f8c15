"""Send a week's pending reminders: paced under Teams' limits, retried politely, each once.

For every pending ledger row: find the person's chat, compose the message, let the transport
prepare the send (connector client, activity, the bot's token), then in one place
(``Delivery._depart``): wait until the tenant has room, mark the row ``sending``, make the
request; and record the outcome. A 429 holds every send for its ``Retry-After``; 412/5xx,
timeouts and dropped connections are retried with jittered backoff; 403/404 mark the
recipient unreachable and are never retried. One person's rows go one at a time (the pacer's
per-conversation gap relies on it). Only the holder of the sender lease sends; the lease is
renewed while it works and released at the end.

The lease is short (``LEASE_SECONDS``, renewed every ``RENEW_SECONDS``), so a sender that was
killed is replaced within a few seconds. The holder fences itself: it counts the lease from
the moment it *asked* for the last renewal that succeeded, and a message leaves only while
at least ``LEASE_MARGIN`` of that is left. A renewal that is slow or fails (a database round
trip, a dropped connection) pauses the departures rather than risking a second sender; a
429's hold only delays departures, never the renewals, which run on their own task. Once the
lease may have run out, or another holder has it, the sender stops at once: nothing more
leaves, the rows not yet sent stay pending for the next holder. The holders' clocks are
compared through the lease's ``until`` (instances on NTP-synchronised hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
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

#: How long the sender lease lasts unless renewed: a killed sender is replaced after at most
#: this (plus the next sender's polling).
LEASE_SECONDS = 4.0
#: How often the holder renews it: three renewals may fail or be slow before it runs out.
RENEW_SECONDS = 1.0
#: A message leaves only while the lease has at least this much left (it pauses otherwise).
LEASE_MARGIN = 1.0
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
        #: time.monotonic() when the lease may run out: asked-for moment of the last renewal
        #: that succeeded, plus LEASE_SECONDS.
        self._lease_until = -1.0
        self._renewed = asyncio.Event()

    def stop(self) -> None:
        """Finish the sends under way, start no new one (graceful shutdown)."""
        self._stopping.set()

    async def deliver(self, week: str) -> Report:
        report = Report()
        asked = time.monotonic()
        if not await self.store.take_lease(self.holder, self.clock(), LEASE_SECONDS):
            report.lease_lost = True
            return report
        self._lease_until = asked + LEASE_SECONDS
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
        """Renew the lease every RENEW_SECONDS (counted from one request to the next, so a
        slow round trip does not space them out). A renewal that fails is tried again until
        the lease may have run out, then ``lost``; a slow one that succeeds keeps it, even
        when it comes back after the previous term: it was asked for before and is counted
        from then, and it fails if another holder took the lease meanwhile."""
        asked = time.monotonic()
        while not lost.is_set():
            await asyncio.sleep(max(0.0, asked + RENEW_SECONDS - time.monotonic()))
            asked = time.monotonic()
            try:
                held = await asyncio.wait_for(
                    self.store.take_lease(self.holder, self.clock(), LEASE_SECONDS),
                    LEASE_SECONDS,  # an answer later than that has run out when it comes
                )
            except Exception as error:  # noqa: BLE001 - the database may come back in time
                if time.monotonic() >= self._lease_until:
                    self._lose(lost, f"it could not be renewed in time ({type(error).__name__})")
                    return
                log.warning("reminders: the sender lease not renewed (%s)", type(error).__name__)
                continue
            if not held:
                self._lose(lost, "another process has taken it over")
                return
            self._lease_until = max(self._lease_until, asked + LEASE_SECONDS)
            self._renewed.set()

    def _lose(self, lost: asyncio.Event, why: str) -> None:
        if not lost.is_set():
            log.error("reminders: the sender lease is lost (%s); stopping", why)
            lost.set()
            self._renewed.set()  # wake departures waiting for a renewal

    async def _lease_held(self, lost: asyncio.Event) -> bool:
        """True while the lease is surely this sender's for LEASE_MARGIN more; otherwise waits
        for the renewal under way (the keeper decides whether the lease is lost)."""
        while not lost.is_set():
            if self._lease_until - time.monotonic() > LEASE_MARGIN:
                return True
            self._renewed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._renewed.wait(), RENEW_SECONDS)
        return False

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
                await self._send(row, report, lost)
            except Exception as error:  # noqa: BLE001 - one row must not stop the week
                log.error("reminders: a %s send failed: %s", row.kind, type(error).__name__)
                for was in (ledger.SENDING, ledger.PENDING):
                    if await self.store.mark(row, ledger.FAILED, expected=was):
                        break
                report.counts["failed"] += 1

    async def _send(self, row: LedgerRow, report: Report, lost: asyncio.Event) -> None:
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
        outcome = await self._depart(row, recipient.conversation_id, send, lost)
        if outcome is not None:
            await self._record(row, outcome, ledger.SENDING, report)

    async def _depart(
        self,
        row: LedgerRow,
        conversation_id: str,
        send: Callable[[], Awaitable[SendOutcome]],
        lost: asyncio.Event,
    ) -> SendOutcome | None:
        """The last steps of a send, in this order and nothing between them: wait until the
        tenant has room, make sure the lease holds, mark the row ``sending``, make the
        request. A sender killed while rows wait here leaves them pending; only a row whose
        request is on its way can be left ``sending`` (uncertain for the next sender). None:
        stopped (or the lease lost) before it left; the row stays pending."""
        async with self.pacer.departure(conversation_id):
            if self._stopping.is_set() or not await self._lease_held(lost):
                return None  # the row stays pending for the next run
            if not await self.store.mark(row, ledger.SENDING, expected=ledger.PENDING):
                raise RowTaken  # another sender has it (cannot happen while the lease holds)
            if lost.is_set() or time.monotonic() >= self._lease_until - LEASE_MARGIN / 2:
                # The lease ran low while the row was being marked: it does not leave.
                await self.store.mark(row, ledger.PENDING, expected=ledger.SENDING)
                return None
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
