"""A local Bot Connector service: the serviceUrl the bot answers to in the tests.

It follows the public Bot Connector REST API reference (learn.microsoft.com, "Bot Framework
REST API reference: Conversations"): ``POST /v3/conversations`` (create a conversation, 201
with ``{"id", "serviceUrl", "activityId"}``), ``POST /v3/conversations/{id}/activities``
(send) and ``POST …/activities/{activityId}`` (reply), both 201 with a ResourceResponse
``{"id"}``, ``PUT …/activities/{activityId}`` (update, 200, 404 for an unknown activity).
Faults can be injected per path: a queue of status codes (with ``Retry-After`` on 429).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Sent:
    conversation_id: str
    activity: dict[str, Any]
    id: str
    updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def current(self) -> dict[str, Any]:
        """The activity as the user now sees it (after any in-place update)."""
        return self.updates[-1] if self.updates else self.activity

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.current.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    @property
    def text(self) -> str | None:
        return self.current.get("text")


class LocalConnector:
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.by_id: dict[str, Sent] = {}
        self.created: list[dict[str, Any]] = []
        self.faults: list[int] = []  # status codes to answer the next sends with
        self.faults_in: dict[str, list[int]] = {}  # the same, for one conversation id
        #: The Authorization header of every send and update, in order (None: no header).
        self.authorizations: list[str | None] = []
        self._ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.changed = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def _fault(self, conversation_id: str) -> web.Response | None:
        queue = self.faults_in.get(conversation_id) or self.faults
        if not queue:
            return None
        status = queue.pop(0)
        headers = {"Retry-After": "1"} if status == 429 else {}
        return web.json_response({"error": {"code": str(status)}}, status=status, headers=headers)

    async def _create(self, request: web.Request) -> web.Response:
        params = await request.json()
        self.created.append(params)
        cid = f"a:created-{next(self._ids)}"
        return web.json_response({"id": cid, "serviceUrl": self.url}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        fault = self._fault(request.match_info["cid"])
        if fault:
            return fault
        activity = await request.json()
        sent = Sent(request.match_info["cid"], activity, str(next(self._ids)))
        self.sent.append(sent)
        self.by_id[sent.id] = sent
        self.changed.set()
        return web.json_response({"id": sent.id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        sent = self.by_id.get(request.match_info["aid"])
        if sent is None:
            return web.json_response({"error": {"code": "ActivityNotFound"}}, status=404)
        sent.updates.append(await request.json())
        self.changed.set()
        return web.json_response({"id": sent.id}, status=200)

    def reset(self) -> None:
        """Forget everything recorded so far (a benchmark between its runs)."""
        self.sent.clear()
        self.by_id.clear()
        self.created.clear()
        self.authorizations.clear()

    def in_conversation(self, conversation_id: str) -> list[Sent]:
        return [s for s in self.sent if s.conversation_id == conversation_id]
