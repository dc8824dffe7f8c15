"""A small Microsoft Graph client on aiohttp: bearer tokens from one azure-identity credential,
retries that honour Retry-After, JSON batching and paging.

Retry-After (on a 429 or 503, outer or inside a ``$batch``) is a window counted from the
moment its answer arrived: until it has passed, this client sends no request at all, whoever
asks. With a shared window (``SharedWindow``, the store) the moment is also written where the
other bot instances on the same store read it, and read from there before every request.

Transient failures (429, 500, 502, 503, 504, timeouts, reset connections) are retried a few
times here, or until a deadline (``until``, for the admin commands); when they last longer,
``GraphUnavailable`` tells the caller (the syncer keeps its work in the outbox and tries again
later). Logs carry methods, status codes and counts only, never URLs with names or bodies.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
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
TRANSIENT = frozenset({429, 500, 502, 503, 504})


class TokenSource(Protocol):
    async def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class SharedWindow(Protocol):
    """Where the instances that share a store keep the moment before which no request may
    reach Graph (the latest Retry-After any of them was given), with its reason."""

    async def graph_wait(self) -> tuple[datetime, str] | None: ...

    async def hold_graph(self, until: datetime, reason: str) -> None: ...


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

    async def _note(self, response: Response) -> None:
        """A failed answer with Retry-After opens a window from its arrival."""
        retry_after = response.retry_after()
        if retry_after and not response.ok:
            await self.hold(retry_after, response.arrived, reason_of(response))

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
        """One attempt, after any Retry-After window has passed. Timeouts and broken
        connections come back as status 0."""
        await self.ready()
        token = await self.credential.get_token(self.scope)
        all_headers = {
            "Authorization": f"Bearer {token.token}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            **(headers or {}),
        }
        self.sent += 1
        try:
            async with self.session.request(
                method,
                self.url(path),
                json=json_body,
                data=data,
                headers=all_headers,
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
        await self._note(answer)
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
        found: dict[str, Response] = {}
        for item in response.body.get("responses", []):
            body = item.get("body")
            if isinstance(body, str):
                try:
                    body = json.loads(base64.b64decode(body, validate=True))
                except ValueError:
                    pass
            found[str(item.get("id"))] = Response(
                int(item.get("status", 0)), item.get("headers") or {}, body
            )
        for sub in requests:  # a response Graph left out counts as a transient failure
            found.setdefault(sub["id"], Response(503, {}, {"error": {"code": "noResponse"}}))
        # Each request inside is throttled on its own, but a Retry-After there holds every
        # request from this client: the longest one counts, from the batch's answer.
        asked = [
            (r.retry_after() or 0.0, r) for r in found.values() if not r.ok and r.retry_after()
        ]
        if asked:
            longest, inner = max(asked, key=lambda pair: pair[0])
            await self.hold(longest, response.arrived, f"{reason_of(inner)} inside $batch")
        return found


def batch_body(content: bytes, content_type: str) -> dict[str, Any]:
    """The body and headers of a non-JSON request inside a $batch: base64 with its type."""
    return {
        "body": base64.b64encode(content).decode("ascii"),
        "headers": {"Content-Type": content_type},
    }
