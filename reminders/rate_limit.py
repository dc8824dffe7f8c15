"""Pace proactive sends under Teams' limits before Teams has to say 429.

Teams allows a bot 50 requests a second per tenant, and per conversation 7 a second, 8 per
2 seconds, 60 per 30 seconds and 1,800 an hour. Each limit is a sliding window: a send may go
at the earliest moment at which every window that covers it still has room. Slots are
reserved at once (no await between choosing and taking a slot), so concurrent senders in one
event loop never overbook a window.

A slot is when a send may start; between it and the moment Teams counts the request lie our
own work, the network and Teams' front door, none of which we can time. Teams counts a
request at some moment between its departure and its answer. So at departure the tenant
window is checked once more, with every earlier send counted from its departure until one
second after its answer came back: whenever Teams counts this send, every send it can see in
the second before is among those, so at most 49 others, however the delays fall. The price
is the round trip: at most 50 sends per second plus the time an answer takes. The ledger
write that marks a row as being sent happens inside that departure (after the check, before
the send is counted), so a row is "sending" only while its request is really about to leave.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

#: (sends, seconds) per conversation, from Microsoft's Teams rate-limit documentation.
PER_CONVERSATION = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
PER_TENANT_PER_SECOND = 50
#: Per-conversation windows are kept this much below Teams' figures.
SAFETY = 0.985


class SlidingWindows:
    """Send times of one scope (a tenant, a conversation) against its windows."""

    def __init__(self, windows: tuple[tuple[int, float], ...]) -> None:
        self.windows = windows
        self.times: deque[float] = deque()
        self.longest = max(seconds for _, seconds in windows)

    def earliest(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.longest:
            self.times.popleft()
        at = now
        for limit, seconds in self.windows:
            if len(self.times) >= limit:
                at = max(at, self.times[-limit] + seconds)
        return at

    def take(self, at: float) -> None:
        self.times.append(at)


class InFlightWindow:
    """Sends counted from their departure until ``seconds`` after their answer came back."""

    def __init__(self, limit: int, seconds: float = 1.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self.in_flight = 0
        self.answered: deque[float] = deque()
        self.changed = asyncio.Event()

    def wait_until(self, now: float) -> float | None:
        """When another send may leave: ``now`` or later, or None while only an answer can
        make room (``limit`` sends in flight)."""
        while self.answered and self.answered[0] <= now - self.seconds:
            self.answered.popleft()
        room = self.limit - 1 - self.in_flight  # answered sends that may still count
        if room < 0:
            return None
        if len(self.answered) <= room:
            return now
        return self.answered[len(self.answered) - room - 1] + self.seconds

    def leave(self) -> None:
        self.in_flight += 1

    def answer(self, now: float) -> None:
        self.in_flight -= 1
        self.answered.append(now)
        self.changed.set()


class TeamsPacer:
    """One tenant-wide window and one per conversation."""

    def __init__(
        self,
        per_second: int = PER_TENANT_PER_SECOND,
        per_conversation: tuple[tuple[int, float], ...] = PER_CONVERSATION,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        # Slots spread the sends evenly; the departure check holds them to the real limit.
        self.tenant = SlidingWindows(((1, window / per_second),))
        self.departures = InFlightWindow(per_second, window)
        self.per_conversation = tuple((n, s / SAFETY) for n, s in per_conversation)
        self.conversations: dict[str, SlidingWindows] = {}
        self.clock = clock
        self.sleep = sleep
        self._departing = asyncio.Lock()

    def reserve(self, conversation_id: str) -> float:
        """Take the earliest slot for a send to this conversation; returns when it is."""
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            conversation = self.conversations[conversation_id] = SlidingWindows(
                self.per_conversation
            )
        now = self.clock()
        at = max(conversation.earliest(now), self.tenant.earliest(now))
        conversation.take(at)
        self.tenant.take(at)
        if len(self.conversations) > 10_000:  # forget quiet conversations
            for cid in [c for c, w in self.conversations.items() if not w.times]:
                del self.conversations[cid]
        return at

    async def wait(self, conversation_id: str) -> None:
        delay = self.reserve(conversation_id) - self.clock()
        if delay > 0:
            await self.sleep(delay)

    async def depart(self, before: Callable[[], Awaitable[None]] | None = None) -> None:
        """Wait, if need be, until the tenant window has room at this very moment; then run
        ``before`` (the ledger write) and count the send as in flight, as the request leaves
        right after. Call :meth:`answered` when its answer (or the end of waiting) comes. One
        send departs at a time, so nothing else leaves meanwhile; if ``before`` fails, nothing
        departs."""
        async with self._departing:
            while True:
                now = self.clock()
                at = self.departures.wait_until(now)
                if at is not None and at <= now:
                    break
                self.departures.changed.clear()
                if at is None:
                    await self.departures.changed.wait()
                else:
                    await self.sleep(at - now)
            if before is not None:
                await before()
            self.departures.leave()

    def answered(self) -> None:
        """The answer to a departed send came back, or the sender stopped waiting for it."""
        self.departures.answer(self.clock())

    def hold(self, seconds: float) -> None:
        """Teams said 429 with Retry-After: no send to anyone before that has passed."""
        until = self.clock() + seconds - self.tenant.windows[0][1]
        if not self.tenant.times or until > self.tenant.times[-1]:
            self.tenant.take(until)
