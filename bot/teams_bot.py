"""The Teams bot, for either SDK: turns an activity into an ``Actor`` and text or card data,
asks the router, and delivers the ``TurnResult`` (replace the submitted card, send the
replies, tell other users). The SDK's side of a turn is a :class:`bot.turn_port.Turn`."""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

from bot.activity_facts import actor_of, adds_the_bot, card_data
from bot.dialogue_pointer import DialoguePointer
from bot.invoke_bodies import invoke_error, invoke_message
from bot.proactive import ProactiveSender
from bot.turn_port import Turn
from core.texts import pick_locale, texts_for
from dialogs.routes import Router
from dialogs.turn import Reply, TurnResult
from store.conversations import ConversationStore

log = logging.getLogger(__name__)


def where(error: BaseException) -> str:
    """Where an error happened (file:line in function), without its message: messages can
    carry what a user typed, and logs must not."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    return " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in reversed(frames)
    )


class HomeWorkBot:
    def __init__(
        self,
        router: Router,
        conversations: ConversationStore,
        pointer: DialoguePointer,
        proactive: ProactiveSender,
        forced_locale: str = "",
    ) -> None:
        self.router = router
        self.proactive = proactive
        self.forced_locale = forced_locale
        self.conversations = conversations
        self.pointer = pointer

    async def on_turn(self, turn: Turn) -> None:
        activity = turn.activity
        if activity.type == "message":
            await self._on_message(turn)
        elif activity.type == "installationUpdate":
            if (activity.action or "").lower() in ("add", "add-upgrade"):
                await self._welcome_once(turn)
        elif activity.type == "conversationUpdate":
            if adds_the_bot(activity):
                await self._welcome_once(turn)
        elif activity.type == "invoke":
            await turn.answer_invoke(await self._on_invoke(turn))

    async def on_error(self, turn: Turn, error: Exception) -> None:
        """A turn failed: the user is told, in their language, with no details."""
        log.error("turn failed: %s at %s", type(error).__name__, where(error))
        texts = texts_for(self.forced_locale or pick_locale(turn.activity.locale))
        try:
            if turn.activity.type == "invoke":
                # The invoke still gets its HTTP 200, with the error in the body.
                await turn.answer_invoke(invoke_error(texts("commands.error")))
            await turn.send([Reply(text=texts("commands.error"))])
        except Exception as send_error:  # noqa: BLE001 - nothing more to do
            log.error("could not tell the user about the error: %s", type(send_error).__name__)

    async def _remember(self, turn: Turn) -> bool:
        activity = turn.activity
        actor = actor_of(activity, self.forced_locale)
        return await self.conversations.remember(
            user_id=actor.user_id,
            conversation_id=activity.conversation.id,
            tenant_id=actor.tenant_id,
            service_url=activity.service_url,
            reference=turn.reference(),
            user_name=activity.from_property.name if activity.from_property else None,
        )

    def _pointer_key(self, turn: Turn) -> str:
        activity = turn.activity
        return self.pointer.key(str(activity.channel_id), activity.conversation.id)

    async def _on_card_or_text(self, turn: Turn, data: dict | None) -> TurnResult:
        """The router's answer to card data (or to the typed text, with ``data`` None), with
        the chat's active dialogue read before and saved after."""
        activity = turn.activity
        actor = actor_of(activity, self.forced_locale)
        await self._remember(turn)
        key = self._pointer_key(turn)
        pointer, etag = await self.pointer.read(key)
        if data is not None:
            result = await self.router.on_card(actor, data, pointer)
        elif activity.value is not None:
            result = TurnResult.say(actor.texts("notices.unknown_action"))
        else:
            result = await self.router.on_text(actor, turn.typed_text(), pointer)
        if result.dialogue_id and result.dialogue_id != pointer:
            await self.pointer.write(key, result.dialogue_id, etag)
        return result

    async def _on_message(self, turn: Turn) -> None:
        value = turn.activity.value
        data = value if isinstance(value, dict) and value else None
        await self._deliver(turn, await self._on_card_or_text(turn, data))

    async def _welcome_once(self, turn: Turn) -> None:
        if await self._remember(turn):
            await self._deliver(
                turn, self.router.welcome(actor_of(turn.activity, self.forced_locale))
            )

    async def _deliver(self, turn: Turn, result: TurnResult) -> None:
        """Replace the submitted card and send the replies, both at once (two requests to
        the Bot Connector that do not wait for each other); then tell the others."""
        card, reply_to = result.replace, turn.activity.reply_to_id
        jobs = []
        if card is not None and reply_to:
            jobs.append(self._replace(turn, card, reply_to))
        if result.replies:
            jobs.append(turn.send(result.replies))
        await asyncio.gather(*jobs)  # a failed send fails the turn (on_error tells the user)
        for notice in result.notify:
            sent = notice.user_id is not None and await self.proactive.send(
                notice.user_id, notice.replies, turn
            )
            said = notice.if_reached if sent else notice.if_unreachable
            if said:
                await turn.send([Reply(text=said)])

    @staticmethod
    async def _replace(turn: Turn, card: dict[str, Any], activity_id: str) -> None:
        """A card that cannot be replaced stays as it was: the answer still goes out."""
        try:
            await turn.replace(card, activity_id)
        except Exception as error:  # noqa: BLE001 - the answer still goes out
            log.warning("could not replace the submitted card: %s", type(error).__name__)

    async def _on_invoke(self, turn: Turn) -> dict | None:
        """Action.Execute (adaptiveCard/action) is answered like a submit; our own cards use
        Action.Submit, but Teams clients and other cards may send it."""
        if turn.activity.name != "adaptiveCard/action":
            return None
        result = await self._on_card_or_text(turn, card_data(turn.activity))
        result.replace = None  # an invoke has no card message to replace
        await self._deliver(turn, result)
        return invoke_message("")
