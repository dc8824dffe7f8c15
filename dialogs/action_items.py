"""Marking an action item done or not needed, from the card ``status`` shows.

Only the item's owner marks it: the employee their own items, the manager the manager's and
the work-environment group's. An item that is not open any more (a second press, a replayed
card, two presses arriving together: the store lets one win), one of an earlier agreement
version, or someone else's is answered politely, and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from cards.item_screens import ItemScreens, title
from core.action_items import OPEN, ActionItem
from dialogs.card_data import ItemCard
from dialogs.turn import Actor, Reply, TurnResult
from store.action_items import ActionItemStore

log = logging.getLogger(__name__)


class ActionItemAnswers:
    def __init__(
        self, items: ActionItemStore, screens: ItemScreens, today: Callable[[], date]
    ) -> None:
        self.items = items
        self.screens = screens
        self.today = today

    async def open_for(self, actor: Actor) -> list[ActionItem]:
        return await self.items.open_for(actor.user_id)

    def card(self, actor: Actor, items: list[ActionItem]) -> dict[str, Any]:
        return self.screens.items(actor.texts, items, actor.user_id, self.today())

    async def mark(self, actor: Actor, data: ItemCard) -> TurnResult:
        t = actor.texts
        item = await self.items.get(data.dialogue_id, data.version, data.item)
        if item is None or not item.may_change(actor.user_id):
            log.warning("item status refused: not the owner's item")
            return TurnResult.say(t("items.not_yours"))
        if item.status != OPEN:
            return TurnResult.say(t(f"items.already_{item.status}"))
        if await self.items.current_version(item.dialogue_id) != item.version:
            return TurnResult.say(t("items.stale"))
        changed = await self.items.close(item, data.status, actor.user_id)
        if changed is None:  # the other of two presses that arrived together won
            now = await self.items.get(data.dialogue_id, data.version, data.item)
            return TurnResult.say(t(f"items.already_{now.status if now else data.status}"))
        log.info("action item marked", extra={"dialogue": item.dialogue_id, "status": data.status})
        remaining = await self.items.open_for(actor.user_id)
        return TurnResult(
            replace=self.card(actor, remaining),
            replies=[Reply(text=t(f"items.marked_{data.status}", action=title(item, t)))],
        )
