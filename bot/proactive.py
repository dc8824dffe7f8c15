"""Messages to a user who did not just write to the bot: the employee's invitation and
confirmation request, the manager's news of a confirmation or a dispute.

The user's stored 1:1 conversation is continued; with none stored, the 1:1 conversation is
created through the connector with the tenant id (Teams allows it when the app is installed
for the user). A refusal (403: app blocked or removed, 404: unknown user) means "unreachable":
the caller tells the acting user what to do, and nothing is retried.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)

from store.conversations import ConversationStore

log = logging.getLogger(__name__)


class ProactiveSender:
    def __init__(
        self, adapter: CloudAdapter, conversations: ConversationStore, app_id: str
    ) -> None:
        self.adapter = adapter
        self.conversations = conversations
        self.app_id = app_id

    async def send(self, user_id: str, activities: list[Activity], via: TurnContext) -> bool:
        """Deliver ``activities`` to ``user_id``; False when the user cannot be reached."""
        outcome: dict[str, Any] = {"sent": False}

        async def deliver(context: TurnContext) -> None:
            try:
                await context.send_activities(activities)
                outcome["sent"] = True
            except Exception as error:  # noqa: BLE001 - reported as "unreachable"
                outcome["error"] = type(error).__name__

        stored = await self.conversations.for_user(user_id)
        for reference in stored:
            await self.adapter.continue_conversation(
                ConversationReference().deserialize(reference), deliver, self.app_id
            )
            if outcome["sent"]:
                return True
        if not stored:
            # Never talked with the bot: open the 1:1 chat. A refused stored chat (403: the
            # app is blocked or removed) is not worked around.
            await self._create_and_send(user_id, via, deliver)
        if not outcome["sent"]:
            log.warning(
                "user unreachable for a proactive message (%s)", outcome.get("error", "no chat")
            )
        return bool(outcome["sent"])

    async def _create_and_send(self, user_id: str, via: TurnContext, deliver) -> None:
        activity = via.activity
        tenant = None
        if isinstance(activity.channel_data, dict):
            tenant = (activity.channel_data.get("tenant") or {}).get("id")
        tenant = tenant or (activity.conversation.tenant_id if activity.conversation else None)
        parameters = ConversationParameters(
            is_group=False,
            bot=activity.recipient,
            members=[ChannelAccount(id=user_id, aad_object_id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )

        async def deliver_and_remember(context: TurnContext) -> None:
            await deliver(context)
            reference = TurnContext.get_conversation_reference(context.activity)
            reference.activity_id = None
            await self.conversations.remember(
                user_id=user_id,
                conversation_id=context.activity.conversation.id,
                tenant_id=tenant,
                service_url=activity.service_url,
                reference=reference.serialize(),
            )

        try:
            await self.adapter.create_conversation(
                self.app_id,
                deliver_and_remember,
                parameters,
                activity.channel_id,
                activity.service_url,
            )
        except Exception as error:  # noqa: BLE001 - the user is unreachable
            log.warning("could not create a 1:1 chat: %s", type(error).__name__)
