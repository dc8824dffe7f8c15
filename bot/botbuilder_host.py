"""The botbuilder 4.17 host: its CloudAdapter (bot/adapter.py) carries the activities in and
the bot's messages out; what is botbuilder's in a turn is :data:`PARTS`
(bot/sdk_turn.py)."""

from __future__ import annotations

from typing import Any

from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import DeserializationError

from bot.activity_json import reference_json
from bot.activity_read import read_activity
from bot.adapter import create_adapter
from bot.card_message import card_message
from bot.host import ActivityUnreadable
from bot.reminder_transport import ReminderTransport
from bot.sdk_turn import Delivery, SdkHost, SdkParts
from bot.turn_port import Turn
from dialogs.turn import Reply
from settings import Settings
from store.conversations import ConversationStore


def _reference_of(activity: Activity) -> dict[str, Any]:
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    return reference_json(reference)


PARTS = SdkParts(
    text=MessageFactory.text,
    card=card_message,
    reference_of=_reference_of,
    mention_free=TurnContext.remove_recipient_mention,
    invoke_answer=lambda body: Activity(
        type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
    ),
)


class BotbuilderChannel:
    def __init__(self, adapter: Any, app_id: str) -> None:
        self.adapter = adapter
        self.app_id = app_id

    async def continue_with(self, reference: dict[str, Any], replies: list[Reply]) -> str | None:
        delivery = Delivery(PARTS, replies)
        await self.adapter.continue_conversation(
            ConversationReference().deserialize(reference), delivery.into, self.app_id
        )
        return delivery.error

    async def create_with(
        self, user_id: str, tenant: str | None, via: Turn, replies: list[Reply]
    ) -> tuple[dict[str, Any] | None, str | None]:
        activity = via.activity
        parameters = ConversationParameters(
            is_group=False,
            bot=activity.recipient,
            members=[ChannelAccount(id=user_id, aad_object_id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        delivery = Delivery(PARTS, replies)
        return await delivery.create(
            lambda: self.adapter.create_conversation(
                self.app_id,
                delivery.into_new_chat,
                parameters,
                activity.channel_id,
                activity.service_url,
            )
        )


class BotbuilderHost(SdkHost):
    name = "botbuilder"
    parts = PARTS

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.adapter = create_adapter(settings)
        self.auth = self.adapter.bot_framework_authentication
        self.channel_tokens = self.auth.channel_tokens
        self.channel = BotbuilderChannel(self.adapter, settings.microsoft_app_id)

    def read(self, body: dict[str, Any]) -> Activity:
        try:
            return read_activity(body)
        except (DeserializationError, ValueError, TypeError, AttributeError):
            raise ActivityUnreadable from None

    async def authenticate(self, activity: Activity, auth_header: str) -> Any:
        return await self.auth.authenticate_request(activity, auth_header)

    async def process(self, identity: Any, activity: Activity) -> tuple[int, Any] | None:
        response = await self.adapter.process_activity(identity, activity, self.turn)
        if not response:
            return None
        body = response.body
        if hasattr(body, "serialize"):
            body = body.serialize()
        return response.status, body

    def reminder_transport(
        self, conversations: ConversationStore, forced_locale: str
    ) -> ReminderTransport:
        return ReminderTransport(
            self.adapter, conversations, self.settings.microsoft_app_id, forced_locale
        )

    async def close(self) -> None:
        await self.auth.close()
