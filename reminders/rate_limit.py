"""Pace proactive sends under Teams' limits before Teams has to say 429.

Teams allows an app 50 requests a second per tenant, and a bot 7 a second, 8 per 2 seconds,
60 per 30 seconds and 1,800 an hour per conversation; every request counts, failed ones too.
The pacer keeps what can bind and nothing else:

- **The tenant's 50 a second.** Teams counts a request at some moment between its departure
  and its answer, which we cannot time. So a send leaves only when, counting every earlier
  send from its departure until one second after its answer came back, at most 49 others
  remain: whenever Teams counts this send, every send it can see in the second before is
  among those, however the network delays fall. The price is the round trip: at most 50
  sends per second plus the time an answer takes.
- **A 429 holds every send** for its ``Retry-After``.
- **Per conversation, 0.3 s from one answer to the next departure.** A person gets at most
  three reminders a week: the send ledger holds one row per recipient, kind and ISO week,
  there are three kinds (pulse, digest, nudge), and each goes to the person's one 1:1 chat.
  With at most ``MAX_ATTEMPTS`` (8) attempts a row that is 24 requests a week, so 60 per 30
  seconds and 1,800 an hour cannot bind, and three messages cannot reach 7 a second. Quick
  retries could (three rows failing fast, each retried after a jittered 0-0.25 s, then
  0-0.5 s, ...), and the gap is what keeps them apart: the delivery sends to one person at a
  time, so Teams counts that person's requests in the order they leave, each at least 0.3 s
  after the one before; at most 4 in a second, 7 in two. It costs a send only what its
  backoff had not already waited.

No even spacing between sends: it is not a limit, and the check above already keeps any
second to 50. The bot's other messages (answers in a dialogue, the notices one side of a
dialogue sends the other) are not paced here; each follows someone's action.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

PER_TENANT_PER_SECOND = 50
#: Seconds between an answer in a conversation and the next send to it (see above).
PER_CONVERSATION_GAP = 0.3


class TeamsPacer:
    def __init__(
        self,
        per_second: int = PER_TENANT_PER_SECOND,
        window: float = 1.0,
        gap: float = PER_CONVERSATION_GAP,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self.limit = per_second
        self.window = window
        self.gap = gap
        self.clock = clock
        self.sleep = sleep
        self.in_flight = 0
        self.answered: deque[float] = deque()  # answer times within the last window
        self.held_until = -math.inf
        self.quiet_until: dict[str, float] = {}  # conversation -> its next send's earliest
        self._an_answer = asyncio.Event()
        self._departing = asyncio.Lock()  # first come, first to leave

    def _earliest(self, now: float) -> float | None:
        """When the next send may leave (``now`` or later), or None while only an answer can
        make room (the limit is in flight)."""
        while self.answered and self.answered[0] <= now - self.window:
            self.answered.popleft()
        room = self.limit - 1 - self.in_flight  # answered sends that may still count
        if room < 0:
            return None
        at = now if len(self.answered) <= room else self.answered[-room - 1] + self.window
        return max(at, self.held_until)

    @contextlib.asynccontextmanager
    async def departure(self, conversation_id: str) -> AsyncIterator[None]:
        """Wait until a send to this conversation may leave; the body is the send. It counts
        against the tenant from the moment the body starts until a window after it ends, so
        whatever the body does before its request leaves (the ledger write) only counts it a
        little early. Only one send to a conversation at a time (the delivery sees to it)."""
        quiet = self.quiet_until.pop(conversation_id, -math.inf) - self.clock()
        if quiet > 0:
            await self.sleep(quiet)
        async with self._departing:
            while True:
                now = self.clock()
                at = self._earliest(now)
                if at is not None and at <= now:
                    break
                self._an_answer.clear()
                if at is None:
                    await self._an_answer.wait()
                else:
                    await self.sleep(at - now)
            self.in_flight += 1
        try:
            yield
        finally:
            now = self.clock()
            self.in_flight -= 1
            self.answered.append(now)
            self._an_answer.set()
            self.quiet_until[conversation_id] = now + self.gap
            if len(self.quiet_until) > 1_000:  # forget conversations that are quiet anyway
                self.quiet_until = {c: t for c, t in self.quiet_until.items() if t > now}

    def hold(self, seconds: float) -> None:
        """Teams said 429 with Retry-After: no send to anyone before that has passed."""
        self.held_until = max(self.held_until, self.clock() + seconds)
