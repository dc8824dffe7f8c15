"""Pace proactive sends under Teams' limits before Teams has to say 429.

Teams allows a bot 50 requests a second per tenant, and per conversation 7 a second, 8 per
2 seconds, 60 per 30 seconds and 1,800 an hour. Each limit is a sliding window: a send may go
at the earliest moment at which every window that covers it still has room. Slots are
reserved at once (no await between choosing and taking a slot), so concurrent senders in one
event loop never overbook a window.

A slot is when a send may start; between it and the request leaving lies some work, which
varies. So the tenant window is checked once more at the moment of departure, against the
real departure times, with a small margin for the network: a send never leaves while 50
others left in the last second plus that margin. The ledger write that marks a row as being
sent happens inside that departure (after the check, before the departure is counted), so a
row is "sending" only while its request is really about to leave.
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
#: Seconds added to the tenant's one-second window at departure (network and server jitter).
DEPARTURE_MARGIN = 0.015


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


class TeamsPacer:
    """One tenant-wide window and one per conversation."""

    def __init__(
        self,
        per_second: int = PER_TENANT_PER_SECOND,
        per_conversation: tuple[tuple[int, float], ...] = PER_CONVERSATION,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        # Slots at the pace the departure check allows, so that sends do not queue there.
        self.tenant = SlidingWindows(((1, (1.0 + DEPARTURE_MARGIN) / per_second),))
        self.departures = SlidingWindows(((per_second, 1.0 + DEPARTURE_MARGIN),))
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
        ``before`` (the ledger write) and count the departure when it is done, as the request
        leaves right after. One send departs at a time, so nothing else leaves meanwhile; if
        ``before`` fails, nothing departs."""
        async with self._departing:
            while True:
                now = self.clock()
                at = self.departures.earliest(now)
                if at <= now:
                    break
                await self.sleep(at - now)
            if before is not None:
                await before()
            self.departures.take(self.clock())

    def hold(self, seconds: float) -> None:
        """Teams said 429 with Retry-After: no send to anyone before that has passed."""
        until = self.clock() + seconds - self.tenant.windows[0][1]
        if not self.tenant.times or until > self.tenant.times[-1]:
            self.tenant.take(until)
