"""Deliver a reminder card to the user's stored 1:1 conversation (Agents SDK).

As on the botbuilder host (bot/reminder_transport.py), :meth:`prepare` does everything before
the request that can take time: the activity, addressed from the stored conversation
reference, and the bot's token for the reference's service URL (MSAL's cache, or Entra when
it has none fresh). The send it returns makes the SDK's connector client with that token and
sends a new message in the chat, then closes the client: a prepared send that is never made
(its row was taken meanwhile) leaves no open connection behind. The
connector's answer is passed back as it came (aiohttp's ``ClientResponseError`` carries the
status and ``Retry-After``); nothing is retried here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.hosting.core import ClaimsIdentity
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from bot.reminder_addresses import ReminderAddresses, outcome_of

if TYPE_CHECKING:
    from bot.agents_host import BotClientFactory
from reminders.delivery import Recipient, SendOutcome
from store.conversations import ConversationStore


class AgentsReminderTransport(ReminderAddresses):
    def __init__(
        self,
        factory: BotClientFactory,
        identity: ClaimsIdentity,
        card_message: Callable[[dict[str, Any]], Activity],
        conversations: ConversationStore,
        forced_locale: str = "",
    ) -> None:
        super().__init__(conversations, forced_locale)
        self.factory = factory
        self.identity = identity
        self.card_message = card_message

    async def prepare(
        self, recipient: Recipient, message: Any
    ) -> Callable[[], Awaitable[SendOutcome]]:
        reference = ConversationReference.model_validate(recipient.address)
        activity = self.card_message(message).apply_conversation_reference(reference)
        activity.reply_to_id = None  # a new message in the chat
        service_url = reference.service_url
        token = await self.factory.token(self.identity, service_url)

        async def send() -> SendOutcome:
            client = TeamsConnectorClient(endpoint=service_url, token=token)
            try:
                await client.conversations.send_to_conversation(activity.conversation.id, activity)
            except Exception as error:  # noqa: BLE001 - the status decides what happens next
                return outcome_of(error)
            finally:
                await client.close()
            return SendOutcome(201)

        return send
