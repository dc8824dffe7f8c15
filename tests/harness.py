"""Drive the real bot over HTTP as Teams would: Teams-shaped activities are POSTed to
``/api/messages`` of a running aiohttp server, and the bot's replies and card updates are
captured by a LocalConnector at the activities' serviceUrl."""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from app import create_app
from settings import Settings
from tests.connector import LocalConnector, Sent

#: The SDKs the bot can run on (BOT_SDK).
HOSTS = ("botbuilder", "agents")


def wanted_hosts() -> tuple[str, ...]:
    """Both SDKs, unless TEST_HOSTS names fewer (quick local runs); CI runs both."""
    if os.environ.get("CI", "").lower() == "true":
        return HOSTS
    named = {n.strip() for n in os.environ.get("TEST_HOSTS", "").split(",")}
    return tuple(h for h in HOSTS if h in named) or HOSTS


TENANT = "00000000-0000-0000-0000-0000000000001"
BOT_ID = "00000000-0000-0000-0000-00000000000011"


class BotServer:
    """The real application on a loopback port; stop and start again on the same database,
    a SQLite file (a path) or a PostgreSQL database (a URL)."""

    def __init__(self, database: Path | str, **settings: Any) -> None:
        # The weekly reminders run only where a test asks for them: on a Monday morning they
        # would otherwise message the test's users in the middle of a flow.
        settings.setdefault("reminder_scheduler", "off")
        where = (
            {"database_url": database}
            if isinstance(database, str) and "://" in database
            else {"database_path": database}
        )
        self.settings = Settings(_env_file=None, port=1, **where, **settings)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self._runner = web.AppRunner(create_app(self.settings), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    @property
    def app(self) -> web.Application:
        assert self._runner is not None, "the bot is not running"
        return self._runner.app

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None


@dataclass
class User:
    name: str
    aad_object_id: str
    locale: str = "da-DK"

    @property
    def channel_id(self) -> str:
        return "29:" + self.aad_object_id


_ids = itertools.count(1)


class TeamsClient:
    """One user's 1:1 chat with the bot."""

    def __init__(
        self, session: aiohttp.ClientSession, bot: BotServer, connector: LocalConnector, user: User
    ) -> None:
        self.session = session
        self.bot = bot
        self.connector = connector
        self.user = user
        self.conversation_id = f"a:{uuid.uuid4().hex}"

    def activity(self, kind: str = "message", **extra: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "id": f"in-{next(_ids)}",
            "timestamp": "2026-11-26T10:00:00.000Z",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {
                "id": self.user.channel_id,
                "name": self.user.name,
                "aadObjectId": self.user.aad_object_id,
            },
            "conversation": {
                "conversationType": "personal",
                "id": self.conversation_id,
                "tenantId": TENANT,
            },
            "recipient": {"id": BOT_ID, "name": "Hjemmearbejde"},
            "locale": self.user.locale,
            "channelData": {"tenant": {"id": TENANT}},
            **extra,
        }

    async def post(self, activity: dict[str, Any]) -> int:
        async with self.session.post(f"{self.bot.url}/api/messages", json=activity) as response:
            await response.read()
            return response.status

    def seen(self) -> list[Sent]:
        return self.connector.in_conversation(self.conversation_id)

    async def say(self, text: str) -> list[Sent]:
        """Send a message; returns what the bot sent in answer."""
        before = len(self.seen())
        status = await self.post(self.activity(text=text, textFormat="plain"))
        assert status == 201, status
        return self.seen()[before:]

    async def submit(self, card_message: Sent, data: dict[str, Any]) -> list[Sent]:
        """Press a button on a card: Teams sends the inputs merged with the action's data."""
        before = len(self.seen())
        status = await self.post(self.activity(value=data, replyToId=card_message.id))
        assert status == 201, status
        return self.seen()[before:]

    def last_card(self) -> Sent:
        cards = [s for s in self.seen() if s.card is not None]
        assert cards, "the bot sent no card"
        return cards[-1]


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action of a card, also those inside ActionSets."""
    found = list(card.get("actions", []))

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type") == "ActionSet":
                found.extend(item["actions"])
            for key in ("items", "body"):
                walk(item.get(key, []))
            for column in item.get("columns", []):
                walk(column.get("items", []))

    walk(card.get("body", []))
    # A show-card's own buttons (the "are you sure?" of cancelling) count too.
    for action in list(found):
        if action.get("type") == "Action.ShowCard":
            found.extend(actions(action["card"]))
    return found


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type", "").startswith("Input."):
                found[item["id"]] = item
            walk(item.get("items", []))
            for column in item.get("columns", []):
                walk(column.get("items", []))

    walk(card.get("body", []))
    return found


def action_data(card: dict[str, Any], verb: str) -> dict[str, Any]:
    for action in actions(card):
        data = action.get("data")
        if isinstance(data, dict) and data.get("verb") == verb:
            return dict(data)
    raise AssertionError(f"no action with verb {verb!r}")


def texts_of(sent: list[Sent]) -> list[str]:
    return [s.text for s in sent if s.text]
