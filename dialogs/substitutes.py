"""Naming a substitute: ``stedfortræder <name or object id>`` by a manager for themself,
``stedfortræder fjern`` to remove them, and ``hr stedfortræder <manager id> <substitute id>``
by HR for a manager in their units. The substitute may then lead dialogues about the
employees whose manager in Entra ID is that manager (dialogs/access.py), and no others."""

from __future__ import annotations

import logging

from core.validation import is_entra_id
from dialogs.access import Access, DirectoryUnavailable
from dialogs.card_data import Argument, CardData
from dialogs.people import People, Person
from dialogs.turn import Actor, TurnResult
from store.conversations import ConversationStore
from store.substitutes import SubstituteStore

log = logging.getLogger(__name__)


class Substitutes:
    def __init__(self, store: SubstituteStore, people: ConversationStore, access: Access) -> None:
        self.store = store
        self.people = People(people, access)
        self.access = access

    async def _person(self, named: str) -> str | None:
        """An object id as given, or the one person the name names (dialogs/people.py: known
        to the bot, else, with the checks on, in Entra ID). Raises DirectoryUnavailable."""
        named = named.strip()
        if is_entra_id(named):
            return named.lower()
        found = await self.people.named(named)
        return found.user_id if isinstance(found, Person) else None

    async def name(self, actor: Actor, data: Argument) -> TurnResult:
        t = actor.texts
        try:
            substitute = await self._person(data.argument)
        except DirectoryUnavailable:
            return TurnResult.say(t("access.unavailable"))
        if substitute is None:
            return TurnResult.say(t("substitute.usage"))
        if substitute == actor.user_id.lower():
            return TurnResult.say(t("substitute.not_yourself"))
        await self.store.name(actor.user_id, substitute, actor.user_id)
        log.info("a manager named a substitute")
        return TurnResult.say(t("substitute.named"))

    async def remove(self, actor: Actor, data: CardData) -> TurnResult:
        await self.store.remove(actor.user_id)
        log.info("a manager removed their substitute")
        return TurnResult.say(actor.texts("substitute.removed"))

    async def name_for(self, actor: Actor, data: Argument) -> TurnResult:
        """HR names a substitute for a manager in one of their units."""
        t = actor.texts
        parts = data.argument.split()
        if len(parts) != 2 or not all(is_entra_id(p) for p in parts):
            return TurnResult.say(t("substitute.hr_usage"))
        manager, substitute = (p.lower() for p in parts)
        try:
            allowed = await self.access.hr_for_unit_of(actor, manager)
        except DirectoryUnavailable:
            return TurnResult.say(t("access.unavailable"))
        if not allowed:
            log.warning("HR substitute refused: the manager is outside the HR user's units")
            return TurnResult.say(t("substitute.hr_not_your_unit"))
        await self.store.name(manager, substitute, actor.user_id)
        log.info("HR named a substitute for a manager")
        return TurnResult.say(t("substitute.hr_named"))
