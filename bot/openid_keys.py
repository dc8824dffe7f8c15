"""Signing keys from an OpenID metadata document, fetched on the event loop without blocking it.

botbuilder 4.17 fetches the Bot Connector's metadata and JWKS with the synchronous
``requests`` library from inside the event loop: the first authenticated request (and the
daily refresh) stalls every turn for as long as the identity endpoint takes. Here the
metadata (``jwks_uri``, ``issuer``) and the keys come over aiohttp:

- warmed at start (``warm``), so the first turn finds them;
- one fetch at a time, however many turns ask (the others wait for it, nothing more);
- after ``max_age`` the keys in hand are still used while a refresh runs in the background;
- a key id that is not known fetches again at once, but at most every ``retry_after``
  seconds (a token signed with an unknown key is refused meanwhile).

The same class serves the channel tokens (the Bot Connector's metadata) and the Entra ID
tokens of the reminder endpoint (the tenant's metadata).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

MAX_AGE = 24 * 3600.0
RETRY_AFTER = 300.0
TIMEOUT = aiohttp.ClientTimeout(total=10)


class KeysUnavailable(Exception):
    """The metadata or the keys could not be fetched."""


class OpenIdKeys:
    def __init__(
        self,
        metadata_url: str,
        *,
        max_age: float = MAX_AGE,
        retry_after: float = RETRY_AFTER,
        timeout: aiohttp.ClientTimeout = TIMEOUT,
    ) -> None:
        self.metadata_url = metadata_url
        self.max_age = max_age
        self.retry_after = retry_after
        self.timeout = timeout
        self.keys: dict[str, dict[str, Any]] = {}
        self.issuer: str | None = None
        self.fetched_at = 0.0
        self.tried_at = -RETRY_AFTER
        self._fetching: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def _get(self, url: str) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        async with self._session.get(url) as response:
            response.raise_for_status()
            body = await response.json(content_type=None)
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
        return body

    async def _fetch(self) -> None:
        self.tried_at = time.monotonic()
        try:
            metadata = await self._get(self.metadata_url)
            jwks = await self._get(str(metadata["jwks_uri"]))
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
            log.warning("signing keys could not be fetched (%s)", type(error).__name__)
            raise KeysUnavailable(type(error).__name__) from None
        keys = {
            str(k["kid"]): k for k in jwks.get("keys", []) if isinstance(k, dict) and "kid" in k
        }
        self.keys, self.issuer = keys, metadata.get("issuer")
        self.fetched_at = time.monotonic()
        log.info("signing keys fetched: %d keys", len(keys))

    async def _refresh(self) -> None:
        """Fetch, or wait for the fetch under way."""
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.create_task(self._fetch())
        await asyncio.shield(self._fetching)

    def _refresh_later(self) -> None:
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.create_task(self._fetch())
            # A background refresh that fails keeps the keys in hand; it is logged in _fetch.
            self._fetching.add_done_callback(lambda task: task.cancelled() or task.exception())

    async def warm(self) -> None:
        """Fetch the keys once at start; a failure is logged and tried again on demand."""
        with contextlib.suppress(KeysUnavailable):
            await self._refresh()

    async def key(self, kid: str) -> dict[str, Any] | None:
        """The JWK with this key id, or None when the issuer does not publish it."""
        if not self.keys:
            await self._refresh()
        elif time.monotonic() - self.fetched_at > self.max_age:
            self._refresh_later()
        found = self.keys.get(kid)
        if found is None and time.monotonic() - self.tried_at >= self.retry_after:
            await self._refresh()
            found = self.keys.get(kid)
        return found

    async def close(self) -> None:
        if self._fetching is not None and not self._fetching.done():
            self._fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError, KeysUnavailable):
                await self._fetching
        if self._session is not None:
            await self._session.close()
            self._session = None
