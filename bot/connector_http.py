"""Our one Bot Connector client: the three operations on every turn's path, over aiohttp.

It follows the Bot Framework REST API reference, "Conversations" operations
(https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference):

- Send to conversation: ``POST {serviceUrl}/v3/conversations/{conversationId}/activities``
- Reply to activity: ``POST {serviceUrl}/v3/conversations/{conversationId}/activities/{activityId}``
- Update activity: ``PUT {serviceUrl}/v3/conversations/{conversationId}/activities/{activityId}``

each with the Activity as its JSON body, ``Authorization: Bearer <token>`` when the bot has an
app id (the reference's "Authentication" section), and a ResourceResponse ``{"id"}`` in the
answer (200, 201 or 202). Any other status raises :class:`ConnectorResponseError`, whose
``response`` has the ``status_code``, ``headers`` (``Retry-After`` on a 429) and ``text``,
as botbuilder's own ``ErrorResponseException.response`` has. Nothing is retried here: the
turn's error handler and the reminder delivery decide that.

Why not botbuilder's client for these three: its msrest client hands every request to
``requests`` on a thread of the default executor (a turn's sends then wait for a free
thread, which made the p99 at 50 conversations miss its budget) and serialises the free-form
JSON of a card value by value in Python. Here only public APIs are used:

- the Activity is written by bot/activity_json.py: the plain fields of a bot's message
  directly, with the schema's key names, and anything else by the schema model's own
  ``serialize()``; either way the same JSON msrest writes;
- the token comes from the app credentials' ``get_access_token()``, which can block (msal
  may call Entra), so it runs on a thread, and is kept for a few minutes (below);
- the proxy comes from the environment (``HTTPS_PROXY``/``HTTP_PROXY`` through the standard
  library's ``getproxies()``, and ``NO_PROXY``), read once when a client is made for a service
  URL: aiohttp's ``trust_env`` would look it up on a thread for every request.

Every other operation (create a conversation, members, delete, attachments …), and any of
the three when called with msrest options (``custom_headers``, ``raw``, …), is botbuilder's
own client, unchanged.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from botbuilder.schema import Activity, ResourceResponse
from botframework.connector.auth import AppCredentials, AuthenticationConstants

from bot.activity_json import activity_body

#: The statuses the reference answers these operations with.
ACCEPTED = (200, 201, 202)
#: botbuilder's (msrest's) timeout for a Bot Connector request.
TIMEOUT = aiohttp.ClientTimeout(total=100)
#: How long a token is used before the credentials are asked again. msal hands out a token
#: only while it has more than five minutes left, so one kept for four is still valid.
TOKEN_REUSE_SECONDS = 240.0


@dataclass(frozen=True)
class ConnectorResponse:
    """The part of a refused request a caller decides on."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive: aiohttp's headers
    text: str


class ConnectorResponseError(Exception):
    """The Bot Connector answered with a status other than 200, 201 or 202."""

    def __init__(self, response: ConnectorResponse) -> None:
        super().__init__(f"Operation returned an invalid status code {response.status_code}")
        self.response = response


class ConnectorHttp:
    """One aiohttp session for all the process's Bot Connector requests."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url``, unless ``NO_PROXY`` exempts its host
    (a comma-separated list of host names or domain suffixes, or ``*``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    exempt = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    for entry in (e.strip().lstrip(".").lower() for e in exempt.split(",")):
        if entry and (entry == "*" or host == entry or host.endswith("." + entry)):
            return None
    return urllib.request.getproxies().get(parts.scheme)


def sends_token(credentials: Any) -> bool:
    """botbuilder's rule: no token without an app id (local mode) or for an anonymous skill."""
    app_id = getattr(credentials, "microsoft_app_id", None)
    return bool(app_id) and app_id != AuthenticationConstants.ANONYMOUS_SKILL_APP_ID


class Token:
    """The bot's outbound token from its app credentials, fetched off the event loop."""

    def __init__(self, credentials: AppCredentials) -> None:
        self._credentials = credentials
        self._value: str | None = None
        self._until = 0.0
        self._lock = asyncio.Lock()

    async def header(self) -> dict[str, str]:
        if self._value is None or time.monotonic() >= self._until:
            async with self._lock:  # one fetch for every send waiting on it
                if self._value is None or time.monotonic() >= self._until:
                    self._value = await asyncio.to_thread(self._credentials.get_access_token)
                    self._until = time.monotonic() + TOKEN_REUSE_SECONDS
        return {"Authorization": f"Bearer {self._value}"}

    def forget(self) -> None:
        """After a 401: the next request asks the credentials again."""
        self._value = None


class Conversations:
    """The ``conversations`` operations of :class:`BotConnectorClient`."""

    def __init__(
        self,
        base_url: str,
        http: ConnectorHttp,
        token: Token | None,
        user_agent: str,
        sdk: Any,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._proxy = proxy_for(self._base)
        self._http = http
        self._token = token
        self._user_agent = user_agent
        self._sdk = sdk  # botbuilder's own ConversationsOperations

    def __getattr__(self, name: str) -> Any:
        """Every other operation is botbuilder's own."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._sdk, name)

    async def send_to_conversation(
        self, conversation_id: str, activity: Activity, **options: Any
    ) -> ResourceResponse | None:
        if options:
            return await self._sdk.send_to_conversation(conversation_id, activity, **options)
        return await self._request("POST", self._path(conversation_id), activity)

    async def reply_to_activity(
        self, conversation_id: str, activity_id: str, activity: Activity, **options: Any
    ) -> ResourceResponse | None:
        if options:
            return await self._sdk.reply_to_activity(
                conversation_id, activity_id, activity, **options
            )
        return await self._request(
            "POST",
            self._path(conversation_id, activity_id),
            activity,
            {"x-ms-conversation-id": conversation_id},
        )

    async def update_activity(
        self, conversation_id: str, activity_id: str, activity: Activity, **options: Any
    ) -> ResourceResponse | None:
        if options:
            return await self._sdk.update_activity(
                conversation_id, activity_id, activity, **options
            )
        return await self._request("PUT", self._path(conversation_id, activity_id), activity)

    def _path(self, conversation_id: str, activity_id: str | None = None) -> str:
        # A Teams channel thread's id has ':', '@' and ';' in it: every character is quoted.
        path = f"{self._base}/v3/conversations/{quote(str(conversation_id), safe='')}/activities"
        if activity_id is not None:
            path += f"/{quote(str(activity_id), safe='')}"
        return path

    async def _request(
        self, method: str, url: str, activity: Activity, extra: dict[str, str] | None = None
    ) -> ResourceResponse | None:
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self._user_agent,
            **(extra or {}),
        }
        if self._token is not None:
            headers.update(await self._token.header())
        body = activity_body(activity)
        async with self._http.session().request(
            method, url, data=body, headers=headers, proxy=self._proxy
        ) as response:
            text = await response.text()
            if response.status not in ACCEPTED:
                if response.status == 401 and self._token is not None:
                    self._token.forget()
                raise ConnectorResponseError(
                    ConnectorResponse(response.status, response.headers, text)
                )
        try:
            answer = json.loads(text) if text.strip() else None
        except ValueError:  # accepted, with no ResourceResponse to read
            answer = None
        if not isinstance(answer, dict):
            return None
        # The schema's ResourceResponse is {"id": string}.
        found = answer.get("id")
        return ResourceResponse(id=found if isinstance(found, str) else None)


class BotConnectorClient:
    """Shaped like botbuilder's ConnectorClient (``conversations``, ``attachments``,
    ``config``, ``close``), which is what botbuilder's CloudAdapter, TurnContext and
    TeamsInfo use of it. ``conversations`` sends, replies and updates itself; the rest is
    the wrapped botbuilder client."""

    def __init__(self, sdk_client: Any, http: ConnectorHttp) -> None:
        self._sdk = sdk_client
        credentials = sdk_client.config.credentials
        self.config = sdk_client.config
        self.attachments = sdk_client.attachments
        self.conversations = Conversations(
            sdk_client.config.base_url,
            http,
            Token(credentials) if sends_token(credentials) else None,
            sdk_client.config.user_agent,
            sdk_client.conversations,
        )

    @staticmethod
    def can_wrap(sdk_client: Any) -> bool:
        """Only a client whose token we can get through the public credentials API; any
        other stays botbuilder's own, as it is."""
        config = getattr(sdk_client, "config", None)
        credentials = getattr(config, "credentials", None)
        return (
            config is not None
            and hasattr(sdk_client, "conversations")
            and (not sends_token(credentials) or isinstance(credentials, AppCredentials))
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._sdk, name)

    async def close(self) -> None:
        """Close botbuilder's client (an async context manager; it has no ``close``). The
        aiohttp session is shared and closed by its owner."""
        await self._sdk.__aexit__(None, None, None)
