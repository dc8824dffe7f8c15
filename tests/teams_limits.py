"""A local Bot Connector that enforces Teams' rate limits for proactive messages.

It follows Microsoft's public documentation "Optimize your bot with rate limiting and best
practices in Teams" (learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit):
per bot and conversation at most 7 messages a second, 8 per 2 seconds, 60 per 30 seconds and
1,800 an hour; per app and tenant at most 50 requests a second. A send over a limit gets
``429 Too Many Requests`` with ``Retry-After`` (whole seconds, until the window has room) and
is not delivered. Faults: a share of sends answered with a 5xx at random (seeded), which also
deliver nothing. Everything else is the plain LocalConnector (201 with the activity id).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict, deque

from aiohttp import web

from reminders.rate_limit import PER_TENANT_PER_SECOND
from tests.connector import LocalConnector

SERVER_ERRORS = (500, 502, 503, 504)
#: (sends, seconds) per conversation, from the same documentation.
PER_CONVERSATION = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))


class RateLimitedConnector(LocalConnector):
    def __init__(
        self,
        failure_rate: float = 0.0,
        seed: int = 7,
        per_tenant: int = PER_TENANT_PER_SECOND,
    ) -> None:
        super().__init__()
        self.failure_rate = failure_rate
        self.random = random.Random(seed)
        self.windows = {"conversation": PER_CONVERSATION, "tenant": ((per_tenant, 1.0),)}
        self.times: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.answers: Counter[int] = Counter()
        self.accepted_at: list[float] = []

    def _wait(self, scope: str, key: str, now: float) -> float:
        """Seconds until a send in this scope fits every window; 0 when it fits now."""
        times = self.times[(scope, key)]
        longest = max(seconds for _, seconds in self.windows[scope])
        while times and times[0] <= now - longest:
            times.popleft()
        wait = 0.0
        for limit, seconds in self.windows[scope]:
            inside = [t for t in list(times)[-limit:] if t > now - seconds]
            if len(inside) >= limit:
                wait = max(wait, inside[0] + seconds - now)
        return wait

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        conversation = request.match_info["cid"]
        tenant = (body.get("conversation") or {}).get("tenantId") or "-"
        now = time.monotonic()
        wait = max(self._wait("conversation", conversation, now), self._wait("tenant", tenant, now))
        if wait > 0:
            self.answers[429] += 1
            return web.json_response(
                {"error": {"code": "TooManyRequests"}},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        self.times[("conversation", conversation)].append(now)
        self.times[("tenant", tenant)].append(now)
        if self.failure_rate and self.random.random() < self.failure_rate:
            status = self.random.choice(SERVER_ERRORS)
            self.answers[status] += 1
            return web.json_response({"error": {"code": "ServiceError"}}, status=status)
        response = await super()._send(request)
        self.answers[response.status] += 1
        if response.status == 201:
            self.accepted_at.append(now)
        return response
