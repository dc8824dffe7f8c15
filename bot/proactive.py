"""Messages to a user who did not just write to the bot: the employee's invitation and
confirmation request, the manager's news of a confirmation or a dispute.

The user's stored 1:1 conversation is continued; with none stored, the 1:1 conversation is
created through the connector with the tenant id (Teams allows it when the app is installed
for the user). A refusal (403: app blocked or removed, 404: unknown user) means "unreachable":
the caller tells the acting user what to do, and nothing is retried. The SDK's part (continue
a conversation, create one) is the host's :class:`bot.turn_port.Channel`.
"""

from __future__ import annotations

import logging

from bot.activity_facts import tenant_id
from bot.turn_port import Channel, Turn
from dialogs.turn import Reply
from store.conversations import ConversationStore

log = logging.getLogger(__name__)


class ProactiveSender:
    def __init__(self, channel: Channel, conversations: ConversationStore) -> None:
        self.channel = channel
        self.conversations = conversations

    async def send(self, user_id: str, replies: list[Reply], via: Turn) -> bool:
        """Deliver ``replies`` to ``user_id``; False when the user cannot be reached."""
        stored = await self.conversations.for_user(user_id)
        error: str | None = "no chat"
        for reference in stored:
            error = await self.channel.continue_with(reference, replies)
            if error is None:
                return True
        if not stored:
            # Never talked with the bot: open the 1:1 chat. A refused stored chat (403: the
            # app is blocked or removed) is not worked around.
            tenant = tenant_id(via.activity)
            created, error = await self.channel.create_with(user_id, tenant, via, replies)
            if created is not None:
                await self.conversations.remember(
                    user_id=user_id,
                    conversation_id=created["conversation"]["id"],
                    tenant_id=tenant,
                    service_url=via.activity.service_url,
                    reference=created,
                )
            if error is None:
                return True
        log.warning("user unreachable for a proactive message (%s)", error or "no chat")
        return False
