"""Keep botbuilder's outbound clients instead of building new ones on every turn.

botbuilder 4.17's CloudAdapter asks its ConnectorFactory for a new msrest ConnectorClient and
its BotFrameworkAuthentication for a new token-service client on every incoming activity.
Each construction costs about 7 ms of CPU (msrest builds its retry status list with a
quadratic loop) and opens its own HTTP session. The clients hold no per-turn state, so
through those two public seams (a BotFrameworkAuthentication and a ConnectorFactory that wrap
botbuilder's own) one client per service URL, audience and identity is kept, and closed at
shutdown. Authentication itself is not touched: every request is still validated by the
wrapped BotFrameworkAuthentication.

A kept connector client is our BotConnectorClient (bot/connector_http.py): it sends,
replies to and updates activities itself, following the Bot Connector REST API, over the one
aiohttp session kept here, and leaves every other operation to botbuilder's client.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

from bot.bearer_tokens import ChannelTokens
from bot.connector_http import BotConnectorClient, ConnectorHttp

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
            if key in self.items:  # built meanwhile by a turn that ran while this one waited
                await _close(client)
                client = self.items[key]
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
    """Close a kept client: ours has ``close``; a botbuilder ConnectorClient is an async
    context manager. botbuilder's UserTokenClient has no way to be closed: its session only
    opens a connection when the bot signs a user in, which this bot does not."""
    if isinstance(client, BotConnectorClient):
        await client.close()
    elif hasattr(client, "__aexit__"):
        await client.__aexit__(None, None, None)


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
            if BotConnectorClient.can_wrap(client):
                return BotConnectorClient(client, self._http)
            return client

        return await self._cache.get(key, build)


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):
    """With ``channel_tokens`` (an app id is set), the channel token of each activity is
    checked by bot/bearer_tokens.py, whose keys are fetched without blocking the event loop,
    instead of by botbuilder's synchronous fetch; the result is built from the wrapped
    authentication's public parts (its connector factory and originating audience)."""

    def __init__(
        self, inner: BotFrameworkAuthentication, channel_tokens: ChannelTokens | None = None
    ) -> None:
        self._inner = inner
        self._cache = _Cache()
        self._http = ConnectorHttp()
        self.channel_tokens = channel_tokens

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
        if self.channel_tokens is None:  # local mode: botbuilder's anonymous identity
            return self._wrap(await self._inner.authenticate_request(activity, auth_header))
        claims = await self.channel_tokens.claims(
            auth_header or "", activity.channel_id, activity.service_url
        )
        identity = ClaimsIdentity(claims, True, "Bearer")
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = self._inner.get_originating_audience()
        result.caller_id = None  # as botbuilder's configuration without CALLER_ID gives
        result.connector_factory = self.create_connector_factory(identity)
        return result

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
        if self.channel_tokens is not None:
            await self.channel_tokens.keys.close()
