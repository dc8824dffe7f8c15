"""A small Microsoft Graph client on aiohttp: bearer tokens from one azure-identity credential,
retries that honour Retry-After, JSON batching and paging.

Retry-After (on a 429 or 503, outer or inside a ``$batch``) is a window counted from the
moment its answer arrived: until it has passed, this client sends no request at all, whoever
asks. With a shared window (``SharedWindow``, the store) the moment is also written where the
other bot instances on the same store read it.

Graph throttles the app per tenant, so the instances on one store pace themselves as one:
a request leaves only with the store's *turn* (one request at a time from all of them, so no
request is already on its way when another instance is given a window), after the window
and after the pacer's gap since the previous request. The gap grows to the Retry-After that
Graph gave and eases off after each request that passes untouched, so the instances together
settle near the rate Graph allows instead of sending batches that bounce. It is kept in the
store with the turn, and read and written in the same transactions that take and give back
the turn (two short ones a request). A turn outlives any request (``timeout`` plus a margin):
an instance that dies while it has the turn holds the others back at most that long.

Transient failures (429, 500, 502, 503, 504, timeouts, reset connections) are retried a few
times here, or until a deadline (``until``, for the admin commands); when they last longer,
``GraphUnavailable`` tells the caller (the syncer keeps its work in the outbox and tries again
later). Logs carry methods, status codes and counts only, never URLs with names or bodies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import aiohttp

from core.version import VERSION

log = logging.getLogger(__name__)

USER_AGENT = f"NONISV|HjorringKommune|Hjemmearbejdsdialog/{VERSION}"
#: Graph takes at most 20 requests in one $batch.
BATCH_LIMIT = 20
#: While another instance has the turn (and the pacer's gap since it took it has passed), ask
#: again this often (seconds).
TURN_POLL = 0.005
#: A turn is held this much longer than a request may last.
TURN_MARGIN = 5.0
#: After a request that no Retry-After touched, the pacer's gap shrinks by this factor.
EASE = 0.95
TRANSIENT = frozenset({429, 500, 502, 503, 504})


class TokenSource(Protocol):
    async def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class Turn(Protocol):
    """The outcome of asking the shared store for the turn to send (see ``SharedWindow``)."""

    @property
    def taken(self) -> bool: ...
    @property
    def wait(self) -> float: ...
    @property
    def spacing(self) -> float: ...
    @property
    def window(self) -> datetime | None: ...


class SharedWindow(Protocol):
    """Where the instances that share a store keep the moment before which no request may
    reach Graph (the latest Retry-After any of them was given), with its reason; and the
    turn that lets one request at a time leave from all of them, with the pacer's gap."""

    async def graph_wait(self) -> tuple[datetime, str] | None: ...

    async def hold_graph(self, until: datetime, reason: str) -> None: ...

    async def take_graph_turn(self, seconds: float, poll: float) -> Turn: ...

    async def give_graph_turn(self, next_start: datetime, spacing: float) -> None: ...


def parse_retry_after(value: str) -> float | None:
    """Seconds to wait from a Retry-After value: delay-seconds, as Graph sends it, or an
    HTTP-date (RFC 9110, 10.2.3); None when it is neither."""
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (moment - datetime.now(UTC)).total_seconds())
    return max(0.0, seconds) if math.isfinite(seconds) else None


class GraphError(Exception):
    def __init__(self, status: int, reason: str, body: Any = None) -> None:
        super().__init__(f"Graph {status}: {reason}")
        self.status = status
        self.reason = reason
        self.body = body


class GraphUnavailable(GraphError):
    """Throttled, failing or unreachable after the retries this client makes."""


@dataclass
class Response:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    #: When the answer had arrived in full (time.monotonic()): where a Retry-After counts from.
    arrived: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT

    def retry_after(self) -> float | None:
        for name, value in self.headers.items():
            if name.lower() == "retry-after":
                return parse_retry_after(value)
        return None

    def error_code(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("error", {}).get("code", ""))
        return ""


def retry_afters(response: Response, batch: bool = False) -> list[tuple[float, Response, str]]:
    """The Retry-After seconds an answer asks for, each with the failed answer and the reason:
    the answer's own, and (``batch``) those of failed requests inside a ``$batch`` answer."""
    found: list[tuple[float, Response, str]] = []
    outer = response.retry_after()
    if outer and not response.ok:
        found.append((outer, response, reason_of(response)))
    items = response.body.get("responses") if isinstance(response.body, dict) else None
    if batch and response.ok and isinstance(items, list):
        for item in items:
            if not isinstance(item, dict):
                continue
            inner = Response(
                int(item.get("status") or 0), item.get("headers") or {}, item.get("body")
            )
            seconds = inner.retry_after()
            if seconds and not inner.ok:
                found.append((seconds, inner, f"{reason_of(inner)} inside $batch"))
    return found


def reason_of(response: Response) -> str:
    """Why a request failed, for the outbox: status and Graph's error code, no content."""
    code = response.error_code()
    if not response.status:  # no answer: a timeout or a broken connection
        return code or "no answer"
    return f"HTTP {response.status}" + (f" {code}" if code else "")


class GraphClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        credential: TokenSource,
        *,
        graph_host: str = "https://graph.microsoft.com",
        timeout: float = 30.0,
        wait_scale: float = 1.0,
        attempts: int = 4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.session = session
        self.credential = credential
        self.root = graph_host.rstrip("/")
        self.base = f"{self.root}/v1.0"
        self.scope = f"{self.root}/.default"
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.wait_scale = wait_scale
        self.attempts = attempts
        self.sleep = sleep
        #: HTTP requests sent (a $batch counts once), for the benchmark and the logs.
        self.sent = 0
        #: No request before this moment (time.monotonic()): the end of the latest
        #: Retry-After window, counted from the moment its answer arrived.
        self.not_before = 0.0
        #: The same moment shared with the other instances on the store, when there are any.
        self.window: SharedWindow | None = None
        #: Retry transient failures until this moment (time.monotonic()) instead of
        #: ``attempts`` times: the admin commands wait longer than the background syncer.
        self.until: float | None = None
        #: Told before every wait for a retry, with a line for a person (the admin commands).
        self.on_wait: Callable[[str], None] | None = None
        #: The pacer: seconds between the starts of two requests (already scaled), and the
        #: earliest start of the next one (time.monotonic()). With a shared window both come
        #: from the store, with the turn.
        self.spacing = 0.0
        self.next_start = 0.0

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait: Retry-After when Graph gave one, else exponential with jitter."""
        if retry_after is not None:
            return retry_after * self.wait_scale
        return min(60.0, 0.5 * 2.0**attempt) * random.uniform(0.5, 1.0) * self.wait_scale

    def window_left(self) -> float:
        """Seconds until this process may send again (0 when it may now)."""
        return max(0.0, self.not_before - time.monotonic())

    async def hold(self, retry_after: float, arrived: float, reason: str) -> None:
        """Graph asked for ``retry_after`` seconds in an answer that arrived at ``arrived``:
        no request before that has passed, here and (with a shared window) in every instance.
        The seconds are scaled by ``wait_scale`` (below 1 only in tests, which then give
        windows scaled alike or test the rule with the scale at 1)."""
        until = arrived + retry_after * self.wait_scale
        if until <= self.not_before:
            return
        self.not_before = until
        log.info("graph asks to wait %.2fs: %s", self.window_left(), reason)
        if self.window is not None:
            at = datetime.now(UTC) + timedelta(seconds=until - time.monotonic())
            await self.window.hold_graph(at, reason)

    async def ready(self) -> None:
        """Wait until no Retry-After window holds: this process's, and the one the other
        instances wrote to the shared store (read again after each wait, since another
        instance may have been given a longer one meanwhile)."""
        while True:
            if self.window is not None:
                shared = await self.window.graph_wait()
                if shared is not None:
                    left = (shared[0] - datetime.now(UTC)).total_seconds()
                    self.not_before = max(self.not_before, time.monotonic() + left)
            wait = self.window_left()
            if wait <= 0:
                return
            await self.sleep(wait)
            if self.window is None:
                return

    async def _note(self, response: Response, batch: bool) -> None:
        """A Retry-After (outer, or inside a batch: each request inside is throttled on its
        own, but one Retry-After holds every request) opens a window from the answer's
        arrival, the longest one counting. A 429 (throttling: too fast) also widens the
        pacer's gap to its Retry-After; an answer without one narrows the gap. A 503 says
        the service is down, not how fast to go: its window is kept, the gap is not moved."""
        asked = retry_afters(response, batch)
        throttled = [seconds for seconds, answer, _ in asked if answer.status == 429]
        if throttled:
            self.spacing = max(self.spacing, max(throttled) * self.wait_scale)
        elif not asked:
            self.spacing = self.spacing * EASE if self.spacing > 0.001 else 0.0
        if asked:
            seconds, _, reason = max(asked, key=lambda found: found[0])
            await self.hold(seconds, response.arrived, reason)

    @staticmethod
    def _moment(monotonic: float) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=monotonic - time.monotonic())

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """The right to send one request now: after any Retry-After window and the pacer's
        gap; with a shared window, also the store's turn (no other instance sends until it
        is given back, with the moment the next request may start)."""
        window = self.window
        if window is None:
            if (wait := max(self.not_before, self.next_start) - time.monotonic()) > 0:
                await self.sleep(wait)
            started = time.monotonic()
            try:
                yield
            finally:
                self.next_start = max(self.not_before, started + self.spacing)
            return
        seconds = (self.timeout.total or 60.0) + TURN_MARGIN
        while True:
            turn = await window.take_graph_turn(seconds, TURN_POLL)
            if turn.window is not None:
                left = (turn.window - datetime.now(UTC)).total_seconds()
                self.not_before = max(self.not_before, time.monotonic() + left)
            if not turn.taken:
                await self.sleep(max(turn.wait, 0.001))
                continue
            self.spacing = turn.spacing
            if (wait := self.window_left()) <= 0:
                break
            # A window is open: give the turn back until it ends, for everyone.
            await window.give_graph_turn(self._moment(self.not_before), self.spacing)
            await self.sleep(wait)
        started = time.monotonic()
        try:
            yield
        finally:
            next_start = max(self.not_before, started + self.spacing)
            with contextlib.suppress(Exception):  # else the turn runs out by itself
                await window.give_graph_turn(self._moment(next_start), self.spacing)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base}{path}"

    async def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """One attempt, with the turn to send (after any Retry-After window and the pacer's
        gap). Timeouts and broken connections come back as status 0."""
        token = await self.credential.get_token(self.scope)
        all_headers = {
            "Authorization": f"Bearer {token.token}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            **(headers or {}),
        }
        async with self._turn():
            return await self._exchange(method, path, json_body, data, all_headers)

    async def _exchange(
        self,
        method: str,
        path: str,
        json_body: Any,
        data: bytes | None,
        headers: Mapping[str, str],
    ) -> Response:
        self.sent += 1
        try:
            async with self.session.request(
                method,
                self.url(path),
                json=json_body,
                data=data,
                headers=headers,
                timeout=self.timeout,
            ) as response:
                raw = await response.read()
                arrived = time.monotonic()
                body: Any = None
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = raw
                answer = Response(response.status, dict(response.headers), body, arrived)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return Response(0, {}, {"error": {"code": "timeout"}})
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
            return Response(0, {}, {"error": {"code": type(error).__name__}})
        await self._note(answer, batch=path == "/$batch")
        return answer

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send with retries for transient failures; the final response whatever its status,
        or GraphUnavailable when the transient failures did not stop (after ``attempts``
        tries, or when the next wait would end past ``until``).

        After a Retry-After the next try waits for the window (in ``send``); otherwise it
        backs off exponentially with jitter."""
        attempt = 0
        while True:
            last = await self.send(method, path, json_body=json_body, data=data, headers=headers)
            if last.status and not last.transient:
                return last
            asked = last.retry_after() is not None
            wait = self.window_left() if asked else self.backoff(attempt)
            attempt += 1
            log.info(
                "graph %s answered %s, retry in %.2fs",
                method,
                last.status or last.error_code(),
                wait,
            )
            if not self._another_try(attempt, wait):
                raise GraphUnavailable(
                    last.status, reason_of(last) if last.status else last.error_code(), last
                )
            if self.on_wait is not None:
                self.on_wait(self._progress(last, wait, asked))
            if not asked:
                await self.sleep(wait)

    def _another_try(self, tries: int, wait: float) -> bool:
        if self.until is None:
            return tries < self.attempts
        return time.monotonic() + wait < self.until

    def _progress(self, last: Response, wait: float, asked: bool) -> str:
        why = reason_of(last)
        line = (
            f"Graph asks to wait {wait:.1f} s ({why}); trying again then"
            if asked
            else f"Graph {'answered' if last.status else 'did not answer:'} {why};"
            f" trying again in {wait:.1f} s"
        )
        if self.until is not None:
            end = datetime.now().astimezone() + timedelta(seconds=self.until - time.monotonic())
            line += f" (giving up at {end:%H:%M:%S})"
        return line

    async def json(self, method: str, path: str, body: Any = None) -> Any:
        """A request that must succeed; its JSON body."""
        response = await self.request(method, path, json_body=body)
        if not response.ok:
            raise GraphError(response.status, reason_of(response), response.body)
        return response.body

    async def pages(self, path: str) -> AsyncIterator[dict[str, Any]]:
        """Every item of a collection, following @odata.nextLink."""
        next_url: str | None = path
        while next_url:
            page = await self.json("GET", next_url)
            for item in page.get("value", []):
                yield item
            next_url = page.get("@odata.nextLink")

    async def batch(self, requests: list[dict[str, Any]]) -> dict[str, Response]:
        """One $batch of at most 20 requests; the responses by request id.

        The outer request is retried like any other; each inner request has its own status
        (a throttled inner request is a 429 inside an outer 200). Bodies that Graph returns
        base64-encoded (drive uploads) are decoded when they hold JSON.
        """
        if not 0 < len(requests) <= BATCH_LIMIT:
            raise ValueError(f"a $batch takes 1 to {BATCH_LIMIT} requests, not {len(requests)}")
        response = await self.request("POST", "/$batch", json_body={"requests": requests})
        if response.status != 200 or not isinstance(response.body, dict):
            raise GraphUnavailable(response.status, reason_of(response), response)
        return batch_answers(response, requests)


def batch_answers(response: Response, requests: list[dict[str, Any]]) -> dict[str, Response]:
    """The responses inside a $batch answer (an outer 200) by request id. Bodies that Graph
    returns base64-encoded (drive uploads) are decoded when they hold JSON; a response Graph
    left out counts as a transient failure (503)."""
    found: dict[str, Response] = {}
    items = response.body.get("responses", []) if isinstance(response.body, dict) else []
    for item in items:
        body = item.get("body")
        if isinstance(body, str):
            try:
                body = json.loads(base64.b64decode(body, validate=True))
            except ValueError:
                pass
        found[str(item.get("id"))] = Response(
            int(item.get("status", 0)), item.get("headers") or {}, body
        )
    for sub in requests:
        found.setdefault(sub["id"], Response(503, {}, {"error": {"code": "noResponse"}}))
    return found


def batch_body(content: bytes, content_type: str) -> dict[str, Any]:
    """The body and headers of a non-JSON request inside a $batch: base64 with its type."""
    return {
        "body": base64.b64encode(content).decode("ascii"),
        "headers": {"Content-Type": content_type},
    }
