"""The Teams activity handler: turns activities into an ``Actor`` and text or card data, asks
the router, and delivers the ``TurnResult`` (replace the submitted card, send the replies)."""

from __future__ import annotations

import logging
import re

from botbuilder.core import (
    ActivityHandler,
    ConversationState,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
)

from bot.card_message import card_message
from bot.invoke_bodies import invoke_message
from bot.proactive import ProactiveSender
from core.texts import pick_locale
from dialogs.routes import Router
from dialogs.turn import Actor, Reply, TurnResult
from store.conversations import ConversationStore

log = logging.getLogger(__name__)
_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


def tenant_id(activity: Activity) -> str | None:
    """Teams sends the tenant in channelData; some activities only in the conversation, as
    ``conversation.tenantId``. botbuilder's ConversationAccount maps its ``tenant_id`` to the
    key ``tenantID``, so Teams' ``tenantId`` arrives among its additional properties."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant")
    found = tenant.get("id") if isinstance(tenant, dict) else None
    conversation = activity.conversation
    if not found and conversation is not None:
        extra = getattr(conversation, "additional_properties", None) or {}
        found = conversation.tenant_id or extra.get("tenantId")
    return found if isinstance(found, str) and found else None


def actor_of(activity: Activity, forced_locale: str = "") -> Actor:
    sender = activity.from_property or ChannelAccount()
    conversation_type = activity.conversation.conversation_type if activity.conversation else None
    return Actor(
        user_id=sender.aad_object_id or sender.id,
        name=sender.name or "",
        locale=forced_locale or pick_locale(activity.locale),
        tenant_id=tenant_id(activity),
        personal=conversation_type in (None, "personal"),
    )


def _activities(replies: list[Reply]) -> list[Activity]:
    activities = []
    for reply in replies:
        if reply.card is not None:
            activities.append(card_message(reply.card))
        elif reply.text:
            activities.append(MessageFactory.text(reply.text))
    return activities


def message_text(activity: Activity) -> str:
    """The typed text without the bot's @mention (group chats)."""
    text = activity.text if isinstance(activity.text, str) else ""
    try:
        text = TurnContext.remove_recipient_mention(activity) or text
    except (AttributeError, TypeError, KeyError):  # an odd mention entity: tag removed below
        pass
    return _AT_TAG.sub("", text).strip()


class HomeWorkBot(ActivityHandler):
    def __init__(
        self,
        router: Router,
        conversations: ConversationStore,
        conversation_state: ConversationState,
        proactive: ProactiveSender,
        forced_locale: str = "",
    ) -> None:
        self.router = router
        self.proactive = proactive
        self.forced_locale = forced_locale
        self.conversations = conversations
        self.conversation_state = conversation_state
        self._pointer = conversation_state.create_property("active_dialogue")

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        try:
            await self.conversation_state.save_changes(turn_context)
        except KeyError:
            # eTag conflict: another turn of this chat saved first (a double click). The state
            # only points at the last dialogue used; the other turn's value is as good.
            log.info("conversation state changed by a concurrent turn; kept the newer one")

    async def _remember(self, turn_context: TurnContext) -> bool:
        activity = turn_context.activity
        actor = actor_of(activity, self.forced_locale)
        reference = TurnContext.get_conversation_reference(activity)
        reference.activity_id = None  # per message; a proactive message needs none
        return await self.conversations.remember(
            user_id=actor.user_id,
            conversation_id=activity.conversation.id,
            tenant_id=actor.tenant_id,
            service_url=activity.service_url,
            reference=reference.serialize(),
            user_name=activity.from_property.name if activity.from_property else None,
        )

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        actor = actor_of(activity, self.forced_locale)
        await self._remember(turn_context)
        pointer = await self._pointer.get(turn_context, None)
        if isinstance(activity.value, dict) and activity.value:
            result = await self.router.on_card(actor, activity.value, pointer)
        elif activity.value is not None:
            result = TurnResult.say(actor.texts("notices.unknown_action"))
        else:
            result = await self.router.on_text(actor, message_text(activity), pointer)
        if result.dialogue_id:
            await self._pointer.set(turn_context, result.dialogue_id)
        await self._deliver(turn_context, result)

    async def _welcome_once(self, turn_context: TurnContext) -> None:
        if await self._remember(turn_context):
            await self._deliver(
                turn_context,
                self.router.welcome(actor_of(turn_context.activity, self.forced_locale)),
            )

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome_once(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m is not None and m.id == bot_id for m in members_added or ()):
            await self._welcome_once(turn_context)

    async def _deliver(self, turn_context: TurnContext, result: TurnResult) -> None:
        reply_to = turn_context.activity.reply_to_id
        if result.replace is not None and reply_to:
            replacement = card_message(result.replace)
            replacement.id = reply_to
            try:
                await turn_context.update_activity(replacement)
            except Exception as error:  # noqa: BLE001 - the answer still goes out
                log.warning("could not replace the submitted card: %s", type(error).__name__)
        activities = _activities(result.replies)
        if activities:
            await turn_context.send_activities(activities)
        for notice in result.notify:
            sent = notice.user_id is not None and await self.proactive.send(
                notice.user_id, _activities(notice.replies), turn_context
            )
            said = notice.if_reached if sent else notice.if_unreachable
            if said:
                await turn_context.send_activity(MessageFactory.text(said))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Action.Execute (adaptiveCard/action) is answered like a submit; our own cards use
        Action.Submit, but Teams clients and other cards may send it."""
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return InvokeResponse(status=200)
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        data = dict(action.get("data")) if isinstance(action.get("data"), dict) else {}
        if "verb" not in data and isinstance(action.get("verb"), str):
            data["verb"] = action["verb"]
        actor = actor_of(activity, self.forced_locale)
        await self._remember(turn_context)
        result = await self.router.on_card(actor, data, await self._pointer.get(turn_context, None))
        result.replace = None  # an invoke has no card message to replace
        await self._deliver(turn_context, result)
        return InvokeResponse(status=200, body=invoke_message(""))

    async def on_unrecognized_activity_type(self, turn_context: TurnContext) -> None:
        if turn_context.activity.type == ActivityTypes.installation_update:
            return
