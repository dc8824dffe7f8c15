"""Deliver a reminder card through the user's stored conversation reference (botbuilder).

The connector's answer is passed back as it came: the HTTP status and ``Retry-After``, or no
status for a timeout or a dropped connection, so that the delivery can decide to retry, wait,
or mark the recipient unreachable. Nothing is retried here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference

from bot.card_message import card_message
from core.reminders import parse_retry_after
from core.texts import pick_locale
from reminders.delivery import Recipient, SendOutcome
from store.conversations import ConversationStore

log = logging.getLogger(__name__)


class ReminderTransport:
    def __init__(
        self,
        adapter: CloudAdapter,
        conversations: ConversationStore,
        app_id: str,
        forced_locale: str = "",
    ) -> None:
        self.adapter = adapter
        self.conversations = conversations
        self.app_id = app_id
        self.forced_locale = forced_locale
        self._references: dict[str, dict[str, Any]] = {}

    async def find(self, user_id: str) -> Recipient | None:
        """The user's 1:1 chat with the bot, if the bot has one."""
        references = await self.conversations.for_user(user_id)
        personal = [
            r
            for r in references
            if (r.get("conversation") or {}).get("conversationType") in (None, "personal")
        ]
        if not personal:
            return None
        reference = personal[0]
        self._references[user_id] = reference
        locale = self.forced_locale or pick_locale(reference.get("locale"))
        return Recipient((reference.get("conversation") or {}).get("id", ""), locale)

    async def send(
        self, user_id: str, message: Any, departure: Callable[[], Awaitable[None]]
    ) -> SendOutcome:
        reference = self._references.pop(user_id, None)
        if reference is None:
            found = await self.find(user_id)
            reference = self._references.pop(user_id, None) if found else None
        if reference is None:
            return SendOutcome(404)
        outcome: dict[str, Any] = {"status": None}

        activity = card_message(message)

        async def deliver(context: TurnContext) -> None:
            try:
                await departure()  # the last moment before the request leaves
                await context.send_activity(activity)
                outcome["status"] = 201
            except Exception as error:  # noqa: BLE001 - the status decides what happens next
                response = getattr(error, "response", None)
                if response is not None and hasattr(response, "status_code"):
                    outcome["status"] = response.status_code
                    outcome["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
                else:
                    log.info("reminder send: no answer (%s)", type(error).__name__)

        await self.adapter.continue_conversation(
            ConversationReference().deserialize(reference), deliver, self.app_id
        )
        return SendOutcome(outcome["status"], outcome.get("retry_after"))
