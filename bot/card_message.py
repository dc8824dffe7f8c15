"""The one way a rendered Adaptive Card becomes a message activity."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity


class _RenderedCard(dict):
    """A rendered card. Nothing changes it after rendering, so botbuilder's copy of each
    outgoing activity (a deepcopy per send, about 0.4 ms for a large card) shares it."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _RenderedCard:
        return self


def card_message(card: dict[str, Any]) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(_RenderedCard(card)))
