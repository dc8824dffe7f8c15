"""What the host-neutral bot asks of an SDK's turn: the two hosts (bot/botbuilder_host.py,
bot/agents_host.py) each wrap their own TurnContext in one of these."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from dialogs.turn import Reply

M = TypeVar("M")


class Turn(Protocol):
    @property
    def activity(self) -> Any:
        """The incoming activity (either SDK's model: the same attribute names)."""

    def reference(self) -> dict[str, Any]:
        """The conversation reference as stored JSON, without the activity id (a proactive
        message needs none)."""

    def typed_text(self) -> str:
        """The message's text without the bot's @mention."""

    async def send(self, replies: list[Reply]) -> None:
        """Send the texts and cards as new messages in this chat."""

    async def replace(self, card: dict[str, Any], activity_id: str) -> None:
        """Update the card message ``activity_id`` in place."""

    async def answer_invoke(self, body: dict[str, Any] | None) -> None:
        """The invoke's HTTP answer: status 200 with ``body`` (None: an empty one)."""


class Channel(Protocol):
    """Messages to a user who did not just write: an SDK's proactive operations."""

    async def continue_with(self, reference: dict[str, Any], replies: list[Reply]) -> str | None:
        """Send in a stored conversation; None when sent, else why not (an error's name)."""

    async def create_with(
        self, user_id: str, tenant: str | None, via: Turn, replies: list[Reply]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Open a 1:1 chat with the user and send in it: the new chat's reference (None when
        none was created) and None when sent, else why not."""


def messages(
    replies: list[Reply], text: Callable[[str], M], card: Callable[[dict[str, Any]], M]
) -> list[M]:
    """The SDK's message activities for ``replies`` (made by its ``text`` and ``card``
    factories); a reply with neither text nor card sends nothing."""
    return [
        card(r.card) if r.card is not None else text(r.text or "")
        for r in replies
        if r.card is not None or r.text
    ]


async def attempt(send: Callable[[], Awaitable[object]]) -> str | None:
    """Run a send: None when it went out, else the error's name (never its message)."""
    try:
        await send()
    except Exception as error:  # noqa: BLE001 - reported as "unreachable"
        return type(error).__name__
    return None
