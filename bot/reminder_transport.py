"""Deliver a reminder card to the user's stored 1:1 conversation (botbuilder).

:meth:`ReminderTransport.prepare` does all a send needs before its request: the activity,
addressed from the stored conversation reference as ``continue_conversation`` would address
it; the connector client for the reference's service URL, from the adapter's own connector
factory (so authentication and the kept clients are the bot's usual ones); and the bot's
access token, fetched on a thread if the credentials' cache has none fresh. The send it
returns is the request alone, so between the row being marked ``sending`` and the bytes
leaving there is only the activity's serialisation and a look-up of that cached token. The
adapter's turn (continue_conversation's claims, user-token client, turn context and pipeline)
is not run: a reminder needs none of it. The card goes as a new message in the chat
(``send_to_conversation``), not as a reply.

The connector's answer is passed back as it came: the HTTP status and ``Retry-After``, or no
status for a timeout or a dropped connection, so that the delivery can decide to retry, wait,
or mark the recipient unreachable. Nothing is retried here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference

from bot.card_message import card_message
from bot.reminder_addresses import ReminderAddresses, outcome_of
from reminders.delivery import Recipient, SendOutcome
from store.conversations import ConversationStore


class ReminderTransport(ReminderAddresses):
    def __init__(
        self,
        adapter: CloudAdapter,
        conversations: ConversationStore,
        app_id: str,
        forced_locale: str = "",
    ) -> None:
        super().__init__(conversations, forced_locale)
        self.adapter = adapter
        self.app_id = app_id

    async def prepare(
        self, recipient: Recipient, message: Any
    ) -> Callable[[], Awaitable[SendOutcome]]:
        reference = ConversationReference().deserialize(recipient.address)
        activity = TurnContext.apply_conversation_reference(card_message(message), reference)
        activity.reply_to_id = None  # a new message in the chat
        auth = self.adapter.bot_framework_authentication
        factory = auth.create_connector_factory(self.adapter.create_claims_identity(self.app_id))
        client = await factory.create(reference.service_url, None)
        credentials = getattr(getattr(client, "config", None), "credentials", None)
        if getattr(credentials, "microsoft_app_id", None):  # none in local mode
            await asyncio.to_thread(credentials.get_access_token)  # cached by MSAL
        conversations = client.conversations

        async def send() -> SendOutcome:
            try:
                await conversations.send_to_conversation(activity.conversation.id, activity)
            except Exception as error:  # noqa: BLE001 - the status decides what happens next
                return outcome_of(error)
            return SendOutcome(201)

        return send
