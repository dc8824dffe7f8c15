"""Send, reply to and update activities over aiohttp instead of msrest's requests-in-a-thread.

botbuilder 4.17's connector client sends every activity through msrest: the Activity model
is validated, serialised, deserialised again and serialised once more in Python, then handed
to ``requests`` on a thread of the default executor. Measured with a sampling profiler on a
dialogue step, that path took about half of the bot's CPU per turn, and the hand-off to a
thread made the moment a message really leaves uneven, which the reminders' pacer must allow
for. So the three operations on the hot path go out on one aiohttp session per process,
following the same REST contract (Bot Framework REST API reference, Conversations):

- ``POST {serviceUrl}/v3/conversations/{conversationId}/activities`` (send to conversation),
- ``POST …/activities/{activityId}`` (reply to activity, with ``x-ms-conversation-id``),
- ``PUT …/activities/{activityId}`` (update activity),

each answered with a ResourceResponse ``{"id"}`` (200, 201 or 202). Any other status raises
:class:`ConnectorResponseError`, which carries the response's ``status_code`` and ``headers``
as msrest's ``ErrorResponseException`` does. Nothing is retried here: the turn's error
handler and the reminder delivery decide that. The URL, the Authorization header (from the
client's own app credentials) and the body are what msrest would send; the tests compare the
bodies. Every other operation, and any call with msrest-only options, stays on msrest.
"""

from __future__ import annotations

import datetime
import functools
import json
import urllib.parse
import urllib.request
from enum import Enum
from types import SimpleNamespace
from typing import Any

import aiohttp
from botbuilder.schema import ResourceResponse
from msrest.serialization import Model, Serializer

#: The status codes msrest accepts for these operations.
_ACCEPTED = (200, 201, 202)
#: msrest's default timeout for a Bot Connector request.
TIMEOUT = aiohttp.ClientTimeout(total=100)

_msrest = Serializer()


class ConnectorResponseError(Exception):
    """The Bot Connector answered with a status other than 200, 201 or 202."""

    def __init__(self, status: int, headers: Any, text: str) -> None:
        super().__init__(f"Operation returned an invalid status code {status}")
        #: Shaped like msrest's ErrorResponseException.response, which callers read.
        self.response = SimpleNamespace(status_code=status, headers=headers, text=text)


# --- the body: what msrest's Serializer.body(activity, "Activity") gives -------------------


def model_json(model: Model) -> dict[str, Any]:
    """A botbuilder model as the JSON msrest makes of it: every attribute of the model's
    attribute map under its REST key, None left out, read-only ones left out, free-form JSON
    ("object") passed through as it is for the json module to write."""
    out: dict[str, Any] = {}
    validation = type(model)._validation
    for attr, spec in type(model)._attribute_map.items():
        value = getattr(model, attr, None)
        if value is None or validation.get(attr, {}).get("readonly"):
            continue
        if attr == "additional_properties" and spec["key"] == "":
            out.update(value)
            continue
        out[spec["key"]] = _value(value, spec["type"])
    return out


def _value(value: Any, kind: str) -> Any:
    if kind == "str":
        if isinstance(value, Enum):
            return value.value
        return value if isinstance(value, str) else str(value)
    if kind in ("bool", "int", "float", "object", "{object}"):
        return value
    if kind.startswith("[") and isinstance(value, list):
        return [_value(v, kind[1:-1]) for v in value if v is not None]
    if isinstance(value, Model):
        return model_json(value)
    return _msrest.serialize_data(value, kind)  # dates, durations and the like


def _fallback(value: Any) -> Any:
    """What the json module cannot write inside free-form JSON: a model, a date, …"""
    if isinstance(value, Model):
        return model_json(value)
    if isinstance(value, datetime.datetime):
        return Serializer.serialize_iso(value)
    return _msrest.serialize_object(value)


def activity_body(activity: Model, serializer: Serializer) -> bytes:
    """The request body; anything the fast path does not expect goes through msrest."""
    try:
        body = model_json(activity)
        return json.dumps(body, ensure_ascii=False, default=_fallback).encode()
    except (TypeError, ValueError, AttributeError, KeyError):
        return json.dumps(serializer.body(activity, "Activity"), ensure_ascii=False).encode()


# --- the requests ----------------------------------------------------------------------------


class ConnectorHttp:
    """One aiohttp session for all the process's Bot Connector requests."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Not trust_env: aiohttp would then look up netrc and the proxy on a thread for
            # every request. The proxy comes from _proxy_for, once per host.
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class FastConversations:
    """A connector client's ``conversations`` with the hot operations on aiohttp."""

    def __init__(self, inner: Any, client: Any, http: ConnectorHttp) -> None:
        self._inner = inner
        self._client = client
        self._http = http

    def __getattr__(self, name: str) -> Any:  # every other operation: msrest's
        return getattr(self._inner, name)

    async def send_to_conversation(self, conversation_id, activity, **options):
        if options:
            return await self._inner.send_to_conversation(conversation_id, activity, **options)
        return await self._call("POST", conversation_id, activity)

    async def reply_to_activity(self, conversation_id, activity_id, activity, **options):
        if options:
            return await self._inner.reply_to_activity(
                conversation_id, activity_id, activity, **options
            )
        extra = {"x-ms-conversation-id": conversation_id}
        return await self._call("POST", conversation_id, activity, activity_id, extra)

    async def update_activity(self, conversation_id, activity_id, activity, **options):
        if options:
            return await self._inner.update_activity(
                conversation_id, activity_id, activity, **options
            )
        return await self._call("PUT", conversation_id, activity, activity_id)

    async def _call(
        self,
        method: str,
        conversation_id: str,
        activity: Model,
        activity_id: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> ResourceResponse | None:
        serializer = self._inner._serialize
        path = "/v3/conversations/{conversationId}/activities"
        params = {"conversationId": conversation_id}
        if activity_id is not None:
            path += "/{activityId}"
            params["activityId"] = activity_id
        url = self._client.format_url(
            path, **{k: serializer.url(k, v, "str") for k, v in params.items()}
        )
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self._client.config.user_agent,
            **(extra or {}),
        }
        headers.update(_authorization(self._client.config.credentials))
        body = activity_body(activity, serializer)
        target = urllib.parse.urlsplit(url)
        proxy = _proxy_for(target.scheme, target.hostname or "")
        async with self._http.session().request(
            method, url, data=body, headers=headers, proxy=proxy
        ) as response:
            text = await response.text()
            if response.status not in _ACCEPTED:
                raise ConnectorResponseError(response.status, response.headers, text)
        try:
            answer = json.loads(text) if text.strip() else None
        except ValueError:  # accepted, but no ResourceResponse to read
            answer = None
        return ResourceResponse(id=answer.get("id")) if isinstance(answer, dict) else None


@functools.lru_cache(maxsize=64)
def _proxy_for(scheme: str, host: str) -> str | None:
    """HTTPS_PROXY / HTTP_PROXY and NO_PROXY from the environment, as requests applied them."""
    if urllib.request.proxy_bypass_environment(host):
        return None
    return urllib.request.getproxies_environment().get(scheme)


def _authorization(credentials: Any) -> dict[str, str]:
    """The header botbuilder's app credentials would set on a requests session (none in
    local mode, where the app id is empty)."""
    if credentials is None or not hasattr(credentials, "signed_session"):
        return {}
    holder = SimpleNamespace(headers={})
    credentials.signed_session(holder)
    return holder.headers


def use_aiohttp(client: Any, http: ConnectorHttp) -> Any:
    """Put the hot operations of a botbuilder connector client on ``http``."""
    conversations = getattr(client, "conversations", None)
    if conversations is not None and not isinstance(conversations, FastConversations):
        client.conversations = FastConversations(conversations, client._client, http)
    return client
