"""The parts of a host that are the same on both SDKs: their TurnContexts have the same
``send_activities``, ``update_activity`` and ``send_activity``, and their adapters the same
``on_turn_error`` and callback shape. What differs (the SDK's message factories, its
conversation reference, its mention removal, its invoke answer) is the host's
:class:`SdkParts`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.activity_facts import without_mentions
from bot.turn_port import attempt, messages
from dialogs.turn import Reply

if TYPE_CHECKING:
    from bot.teams_bot import HomeWorkBot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SdkParts:
    text: Callable[[str], Any]  # a text message activity
    card: Callable[[dict[str, Any]], Any]  # an Adaptive Card message activity
    reference_of: Callable[[Any], dict[str, Any]]  # an activity's reference, as stored JSON
    mention_free: Callable[[Any], str | None]  # the text without the bot's mention
    invoke_answer: Callable[[dict[str, Any] | None], Any]  # the invoke-response activity

    def messages(self, replies: list[Reply]) -> list[Any]:
        return messages(replies, self.text, self.card)


class ContextTurn:
    """A :class:`bot.turn_port.Turn` over either SDK's TurnContext."""

    def __init__(self, context: Any, parts: SdkParts) -> None:
        self.context = context
        self.parts = parts

    @property
    def activity(self) -> Any:
        return self.context.activity

    def reference(self) -> dict[str, Any]:
        return self.parts.reference_of(self.activity)

    def typed_text(self) -> str:
        text = self.activity.text if isinstance(self.activity.text, str) else ""
        try:
            text = self.parts.mention_free(self.activity) or text
        except (AttributeError, TypeError, KeyError, ValueError):  # odd mention: tags go below
            pass
        return without_mentions(text)

    async def send(self, replies: list[Reply]) -> None:
        activities = self.parts.messages(replies)
        if activities:
            await self.context.send_activities(activities)

    async def replace(self, card: dict[str, Any], activity_id: str) -> None:
        replacement = self.parts.card(card)
        replacement.id = activity_id
        await self.context.update_activity(replacement)

    async def answer_invoke(self, body: dict[str, Any] | None) -> None:
        await self.context.send_activity(self.parts.invoke_answer(body))


class Delivery:
    """A proactive send run inside the SDK's turn: what it sent, and the new chat's
    reference when the turn is the one of a created conversation."""

    def __init__(self, parts: SdkParts, replies: list[Reply]) -> None:
        self.parts = parts
        self.replies = replies
        self.reference: dict[str, Any] | None = None
        self.error: str | None = "not sent"

    async def into(self, context: Any) -> None:
        """The SDK's turn callback."""
        self.error = await attempt(
            lambda: context.send_activities(self.parts.messages(self.replies))
        )

    async def into_new_chat(self, context: Any) -> None:
        self.reference = self.parts.reference_of(context.activity)
        await self.into(context)

    async def create(
        self, create: Callable[[], Awaitable[object]]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Run the SDK's create_conversation (which calls :meth:`into_new_chat`)."""
        try:
            await create()
        except Exception as error:  # noqa: BLE001 - the user is unreachable
            log.warning("could not create a 1:1 chat: %s", type(error).__name__)
            return None, type(error).__name__
        return self.reference, self.error


class SdkHost:
    """Runs the bot's turns on an SDK adapter (``self.adapter``, set by the host)."""

    parts: SdkParts
    adapter: Any

    def serve(self, bot: HomeWorkBot) -> None:
        self._bot = bot

        async def on_error(context: Any, error: Exception) -> None:
            await bot.on_error(ContextTurn(context, self.parts), error)

        self.adapter.on_turn_error = on_error

    async def turn(self, context: Any) -> None:
        """The adapter's callback for an incoming activity."""
        await self._bot.on_turn(ContextTurn(context, self.parts))
