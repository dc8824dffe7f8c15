"""The botbuilder 4.17 host: its CloudAdapter (bot/adapter.py) carries the activities in and
the bot's messages out; a turn is a botbuilder TurnContext wrapped as a
:class:`bot.turn_port.Turn`."""

from __future__ import annotations

import logging
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

from bot.activity_facts import without_mentions
from bot.adapter import create_adapter
from bot.card_message import card_message
from bot.host import ActivityUnreadable
from bot.reminder_transport import ReminderTransport
from bot.teams_bot import HomeWorkBot
from bot.turn_port import Turn, attempt, messages
from dialogs.turn import Reply
from settings import Settings
from store.conversations import ConversationStore

log = logging.getLogger(__name__)


def _messages(replies: list[Reply]) -> list[Activity]:
    return messages(replies, MessageFactory.text, card_message)


def _reference_of(activity: Activity) -> dict[str, Any]:
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    return reference.serialize()


class BotbuilderTurn:
    def __init__(self, context: TurnContext) -> None:
        self.context = context

    @property
    def activity(self) -> Activity:
        return self.context.activity

    def reference(self) -> dict[str, Any]:
        return _reference_of(self.activity)

    def typed_text(self) -> str:
        text = self.activity.text if isinstance(self.activity.text, str) else ""
        try:
            text = TurnContext.remove_recipient_mention(self.activity) or text
        except (AttributeError, TypeError, KeyError):  # an odd mention entity: tag removed below
            pass
        return without_mentions(text)

    async def send(self, replies: list[Reply]) -> None:
        activities = _messages(replies)
        if activities:
            await self.context.send_activities(activities)

    async def replace(self, card: dict[str, Any], activity_id: str) -> None:
        replacement = card_message(card)
        replacement.id = activity_id
        await self.context.update_activity(replacement)

    async def answer_invoke(self, body: dict[str, Any] | None) -> None:
        await self.context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
            )
        )


class BotbuilderChannel:
    def __init__(self, adapter: Any, app_id: str) -> None:
        self.adapter = adapter
        self.app_id = app_id

    async def continue_with(self, reference: dict[str, Any], replies: list[Reply]) -> str | None:
        outcome: dict[str, str | None] = {"error": "not sent"}

        async def deliver(context: TurnContext) -> None:
            outcome["error"] = await attempt(lambda: context.send_activities(_messages(replies)))

        await self.adapter.continue_conversation(
            ConversationReference().deserialize(reference), deliver, self.app_id
        )
        return outcome["error"]

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
        found: dict[str, Any] = {"reference": None, "error": "not sent"}

        async def deliver(context: TurnContext) -> None:
            found["reference"] = _reference_of(context.activity)
            found["error"] = await attempt(lambda: context.send_activities(_messages(replies)))

        try:
            await self.adapter.create_conversation(
                self.app_id, deliver, parameters, activity.channel_id, activity.service_url
            )
        except Exception as error:  # noqa: BLE001 - the user is unreachable
            log.warning("could not create a 1:1 chat: %s", type(error).__name__)
            return None, type(error).__name__
        return found["reference"], found["error"]


class BotbuilderHost:
    name = "botbuilder"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.adapter = create_adapter(settings)
        self.auth = self.adapter.bot_framework_authentication
        self.channel_tokens = self.auth.channel_tokens
        self.channel = BotbuilderChannel(self.adapter, settings.microsoft_app_id)
        self._bot: HomeWorkBot | None = None

    def serve(self, bot: HomeWorkBot) -> None:
        self._bot = bot

        async def on_error(context: TurnContext, error: Exception) -> None:
            await bot.on_error(BotbuilderTurn(context), error)

        self.adapter.on_turn_error = on_error

    def read(self, body: dict[str, Any]) -> Activity:
        try:
            return Activity().deserialize(body)
        except (DeserializationError, ValueError, TypeError, AttributeError):
            raise ActivityUnreadable from None

    async def authenticate(self, activity: Activity, auth_header: str) -> Any:
        return await self.auth.authenticate_request(activity, auth_header)

    async def process(self, identity: Any, activity: Activity) -> tuple[int, Any] | None:
        bot = self._bot
        assert bot is not None, "serve(bot) first"

        async def turn(context: TurnContext) -> None:
            await bot.on_turn(BotbuilderTurn(context))

        response = await self.adapter.process_activity(identity, activity, turn)
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
