"""HTTP endpoints: ``POST /api/messages`` (Bot Framework activities) and ``GET /healthz``.

The request is checked before the SDK (bot/host.py) sees it, so that a malformed request gets a clear
4xx instead of an exception: content type (415), size (413, by aiohttp's client_max_size),
JSON (400), the fields every activity has (400), and in local mode a service URL that is not
on this machine (403) so the bot never posts answers to a host it does not know; then the
channel token (401), and only after it a tenant outside ALLOWED_TENANT_IDS (403), so that the
status code tells an unauthenticated caller nothing about which tenant is allowed.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.activity_facts import tenant_id
from bot.host import ActivityUnreadable, Host
from core.version import VERSION
from settings import Settings
from store.database import Database

log = logging.getLogger(__name__)


def _bad(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def activity_problem(body: Any) -> str | None:
    """Why ``body`` is not a usable activity, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for key in ("type", "serviceUrl", "channelId"):
        if not isinstance(body.get(key), str) or not body[key]:
            return f"missing or invalid '{key}'"
    for key in ("conversation", "from"):
        part = body.get(key)
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"]:
            return f"missing or invalid '{key}.id'"
    try:
        service_url = urlsplit(body["serviceUrl"])
        service_url.hostname  # noqa: B018 - raises ValueError for a broken host part
    except ValueError:
        return "invalid 'serviceUrl'"
    if service_url.scheme not in ("http", "https"):
        return "invalid 'serviceUrl'"
    return None


class Routes:
    def __init__(self, settings: Settings, host: Host, db: Database) -> None:
        self.settings = settings
        self.host = host
        self.db = db

    def install(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.messages)
        app.router.add_get("/healthz", self.healthz)

    async def messages(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return _bad(415, "content type must be application/json")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _bad(413, "request body too large")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _bad(400, "the body is not valid JSON")
        problem = activity_problem(body)
        if problem:
            return _bad(400, problem)
        if self.settings.local_mode:
            host = (urlsplit(body["serviceUrl"]).hostname or "").lower()
            if host not in self.settings.local_hosts:
                log.warning("local mode: refused an activity for a service URL off this machine")
                return _bad(403, "local mode only answers service URLs on this machine")
        try:
            activity = self.host.read(body)
        except ActivityUnreadable:
            return _bad(400, "the activity could not be read")
        # The token first: a caller without one must not learn from the status code which
        # tenant is allowed.
        auth_header = request.headers.get("Authorization", "")
        try:
            identity = await self.host.authenticate(activity, auth_header)
        except Exception as error:  # noqa: BLE001 - a bad token is refused with many types
            log.warning(
                "refused an activity: channel authentication failed (%s)", type(error).__name__
            )
            return _bad(401, "unauthorized")
        allowed = self.settings.allowed_tenants
        if allowed and (tenant_id(activity) or "").lower() not in allowed:
            log.warning("refused an activity from a tenant that is not allowed")
            return _bad(403, "tenant not allowed")
        response = await self.host.process(identity, activity)
        if response:
            status, body_out = response
            try:
                return web.json_response(body_out, status=status)
            except (TypeError, ValueError, AttributeError):
                log.warning("could not write an invoke response")
                return _bad(400, "the invoke could not be answered")
        return web.Response(status=201)

    async def healthz(self, _request: web.Request) -> web.Response:
        try:
            schema = await self.db.schema_state()  # reads the schema revision: a round trip
            store_ok = True
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            schema, store_ok = "unknown", False
        return web.json_response(
            {
                "status": "ok" if store_ok else "degraded",
                "version": VERSION,
                "store": "ok" if store_ok else "unreachable",
                # the engine, and whether the schema is the one this code knows ("current"),
                # or newer (an instance of a newer version upgraded it)
                "engine": self.db.engine_name,
                "schema": schema,
                "mode": "local" if self.settings.local_mode else "authenticated",
                # the SDK that carries the activities (BOT_SDK)
                "sdk": self.host.name,
            },
            status=200 if store_ok else 503,
        )
