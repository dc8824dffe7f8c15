"""Keep botbuilder's outbound clients instead of building new ones on every turn.

botbuilder 4.17's CloudAdapter builds a new msrest ConnectorClient and a new token-service
client for every incoming activity. Each construction costs about 7 ms of CPU (msrest builds
its retry status list with a quadratic loop) and opens its own HTTP session that is never
closed. The clients hold no per-turn state, so one per service URL and identity is kept, and
closed at shutdown. Authentication itself is not touched: every request is still validated by
the wrapped BotFrameworkAuthentication.

A kept connector client sends, replies to and updates activities over one aiohttp session
(bot/connector_http.py) instead of msrest and requests on a thread. For the operations that
stay on msrest, it serialises free-form JSON (an Adaptive Card in an attachment,
``channelData``, ``value``) with the standard library instead of msrest's per-value Python
walk, which cost about 4 ms per card sent. Anything that is not plain JSON (a model, a date)
still goes through msrest.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

from bot.connector_http import ConnectorHttp, use_aiohttp

MAX_CLIENTS = 64


def _identity_key(claims_identity: ClaimsIdentity | None) -> tuple[Any, ...]:
    claims = (claims_identity.claims if claims_identity else None) or {}
    return (claims.get("aud"), claims.get("appid") or claims.get("azp"))


class _Cache:
    def __init__(self) -> None:
        self.items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    async def get(self, key: tuple[Any, ...], build) -> Any:
        client = self.items.get(key)
        if client is None:
            client = await build()
            self.items[key] = client
            while len(self.items) > MAX_CLIENTS:
                _, old = self.items.popitem(last=False)
                await _close(old)
        else:
            self.items.move_to_end(key)
        return client

    async def close(self) -> None:
        while self.items:
            _, client = self.items.popitem()
            await _close(client)


async def _close(client: Any) -> None:
    close = getattr(client, "close", None)
    if close is not None:
        result = close()
        if hasattr(result, "__await__"):
            await result


def plain_json_objects(client: Any) -> Any:
    """Let ``client`` serialise plain-JSON "object" values with the json module."""
    serializer = getattr(client, "_serialize", None)
    types = getattr(serializer, "serialize_type", None)
    if not isinstance(types, dict) or "object" not in types:
        return client
    msrest_object = types["object"]

    def serialize_object(attr: Any, **kwargs: Any) -> Any:
        if isinstance(attr, (dict, list)):
            try:
                return json.loads(json.dumps(attr))
            except (TypeError, ValueError):
                pass
        return msrest_object(attr, **kwargs)

    types["object"] = serialize_object
    return client


class _CachingConnectorFactory(ConnectorFactory):
    def __init__(
        self,
        inner: ConnectorFactory,
        identity: tuple[Any, ...],
        cache: _Cache,
        http: ConnectorHttp,
    ) -> None:
        self._inner = inner
        self._identity = identity
        self._cache = cache
        self._http = http

    async def create(self, service_url: str, audience: str = None):  # noqa: RUF013 - botbuilder's signature
        key = ("connector", service_url, audience, *self._identity)

        async def build() -> Any:
            client = await self._inner.create(service_url, audience)
            return use_aiohttp(plain_json_objects(client), self._http)

        return await self._cache.get(key, build)


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):
    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._cache = _Cache()
        self._http = ConnectorHttp()

    def _wrap(self, result: AuthenticateRequestResult) -> AuthenticateRequestResult:
        if result.connector_factory is not None:
            result.connector_factory = _CachingConnectorFactory(
                result.connector_factory,
                _identity_key(result.claims_identity),
                self._cache,
                self._http,
            )
        return result

    async def authenticate_request(self, activity, auth_header) -> AuthenticateRequestResult:
        return self._wrap(await self._inner.authenticate_request(activity, auth_header))

    async def authenticate_streaming_request(self, auth_header, channel_id_header):
        return self._wrap(
            await self._inner.authenticate_streaming_request(auth_header, channel_id_header)
        )

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachingConnectorFactory(
            self._inner.create_connector_factory(claims_identity),
            _identity_key(claims_identity),
            self._cache,
            self._http,
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = ("token", *_identity_key(claims_identity))
        return await self._cache.get(
            key, lambda: self._inner.create_user_token_client(claims_identity)
        )

    def create_bot_framework_client(self):
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)

    async def close(self) -> None:
        await self._cache.close()
        await self._http.close()
