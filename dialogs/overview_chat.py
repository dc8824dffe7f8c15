"""``overblik`` (``overview``): the anonymous overview's key figures for the viewer's units in
the chat, for the work-environment group, MED members and HR (the route's OVERVIEW rule
refuses everyone else before this runs)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from cards.overview_screens import OverviewScreens
from core.access import ALL_UNITS
from core.overview import selectable_periods
from dialogs.access import Access, DirectoryUnavailable
from dialogs.card_data import CardData
from dialogs.turn import Actor, TurnResult
from store.database import Database
from store.overview import load_overview


class OverviewChat:
    def __init__(
        self,
        db: Database,
        access: Access,
        screens: OverviewScreens,
        *,
        k: int,
        today: Callable[[], date],
        link: str,
    ) -> None:
        self.db = db
        self.access = access
        self.screens = screens
        self.k = k
        self.today = today
        self.link = link

    async def show(self, actor: Actor, data: CardData) -> TurnResult:
        t = actor.texts
        try:
            units = await self.access.overview_units(actor.user_id)
        except DirectoryUnavailable:
            return TurnResult.say(t("access.unavailable"))
        period = selectable_periods(self.today(), t.locale)[0]
        overview = await load_overview(
            self.db,
            units=None if ALL_UNITS in units else units,
            period=period.key,
            locale=t.locale,
            k=self.k,
            today=self.today(),
        )
        return TurnResult.show(self.screens.card(t, overview, self.link))
