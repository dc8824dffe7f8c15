"""The host-neutral half of a reminder transport (reminders/delivery.py's ``Transport``):
finding the user's 1:1 chat with the bot, and reading a refused send's answer. Each host's
transport (bot/reminder_transport.py, bot/agents_reminder_transport.py) adds ``prepare``."""

from __future__ import annotations

import logging

import aiohttp

from core.reminders import parse_retry_after
from core.texts import pick_locale
from reminders.delivery import Recipient, SendOutcome
from store.conversations import ConversationStore

log = logging.getLogger(__name__)


def outcome_of(error: Exception) -> SendOutcome:
    """What a failed request answered. botbuilder's connector errors (msrest's
    ``ErrorResponseException``/``HttpOperationError``, and ours in bot/connector_http.py)
    carry ``response.status_code`` and ``response.headers``; the Agents SDK's connector
    raises aiohttp's ``ClientResponseError`` with ``status`` and ``headers``. Anything else
    had no answer."""
    if isinstance(error, aiohttp.ClientResponseError):
        status, headers = error.status, error.headers or {}
    else:
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        headers = getattr(response, "headers", None) or {}
    if not isinstance(status, int) or not status:
        log.info("reminder send: no answer (%s)", type(error).__name__)
        return SendOutcome(None)
    return SendOutcome(status, parse_retry_after(headers.get("Retry-After")))


class ReminderAddresses:
    def __init__(self, conversations: ConversationStore, forced_locale: str = "") -> None:
        self.conversations = conversations
        self.forced_locale = forced_locale

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
        locale = self.forced_locale or pick_locale(reference.get("locale"))
        conversation_id = (reference.get("conversation") or {}).get("id", "")
        return Recipient(conversation_id, locale, reference)
