"""A small Microsoft Graph client on aiohttp: bearer tokens from one azure-identity credential,
retries that honour Retry-After, JSON batching and paging.

Transient failures (429, 500, 502, 503, 504, timeouts, reset connections) are retried a few
times here; when they last longer, ``GraphUnavailable`` tells the caller (the syncer keeps its
work in the outbox and tries again later). Logs carry methods, status codes and counts only,
never URLs with names or bodies.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
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

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT

    def retry_after(self) -> float | None:
        for name, value in self.headers.items():
            if name.lower() == "retry-after":
                try:
                    return max(0.0, float(value))
                except ValueError:
                    return None
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

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait: Retry-After when Graph gave one, else exponential with jitter."""
        if retry_after is not None:
            return retry_after * self.wait_scale
        return min(60.0, 0.5 * 2.0**attempt) * random.uniform(0.5, 1.0) * self.wait_scale

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
        """One attempt. Timeouts and broken connections come back as status 0."""
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
                body: Any = None
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = raw
                return Response(response.status, dict(response.headers), body)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return Response(0, {}, {"error": {"code": "timeout"}})
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
            return Response(0, {}, {"error": {"code": type(error).__name__}})

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
        or GraphUnavailable when the transient failures did not stop."""
        last = Response(0)
        for attempt in range(self.attempts):
            last = await self.send(method, path, json_body=json_body, data=data, headers=headers)
            if last.status and not last.transient:
                return last
            wait = self.backoff(attempt, last.retry_after())
            log.info(
                "graph %s answered %s, retry in %.2fs",
                method,
                last.status or last.error_code(),
                wait,
            )
            if attempt + 1 < self.attempts:
                await self.sleep(wait)
        raise GraphUnavailable(
            last.status, reason_of(last) if last.status else last.error_code(), last
        )

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
        return found


def batch_body(content: bytes, content_type: str) -> dict[str, Any]:
    """The body and headers of a non-JSON request inside a $batch: base64 with its type."""
    return {
        "body": base64.b64encode(content).decode("ascii"),
        "headers": {"Content-Type": content_type},
    }
