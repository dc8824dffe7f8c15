"""The chat card of the anonymous overview (``overblik``): each unit's head count and first
figure as facts, a hidden figure said in words, and a button that opens the page in Teams."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cards.renderer import CardRenderer
from core.overview_model import Cell, Overview
from core.texts import Texts

#: The overview tab's ``entityId`` in the manifest.
TAB_ENTITY_ID = "overview"
#: Facts a unit shows at most (the page has the rest).
FACTS_SHOWN = 6


def tab_link(teams_app_id: str, page_url: str) -> str:
    """A Teams deep link to the personal tab ("Deep link to an app", learn.microsoft.com:
    ``https://teams.microsoft.com/l/entity/<app id>/<entity id>``); without a Teams app id
    (local mode) the page's own address."""
    if not teams_app_id:
        return page_url
    return f"https://teams.microsoft.com/l/entity/{quote(teams_app_id, safe='')}/{TAB_ENTITY_ID}"


def _value(cell: Cell, t: Texts, k: int) -> str:
    if cell.suppressed or cell.value is None:
        return t("overview.card.suppressed", k=k)
    return f"{cell.value:g}".replace(".", "," if t.locale == "da-DK" else ".")


class OverviewScreens:
    def __init__(self, renderer: CardRenderer) -> None:
        self.renderer = renderer

    def card(self, t: Texts, overview: Overview, url: str) -> dict[str, Any]:
        k = overview.k
        units = []
        for unit in overview.units:
            shown = [{"title": t("overview.card.people"), "value": _value(unit.people, t, k)}]
            for figure in unit.figures[:1]:
                for series in figure.series:
                    for category, cell in zip(figure.categories, series.cells, strict=True):
                        name = (
                            category if len(figure.series) == 1 else f"{series.label}: {category}"
                        )
                        shown.append({"title": name, "value": _value(cell, t, k)})
            units.append({"label": unit.label, "facts": shown[:FACTS_SHOWN]})
        return self.renderer.render(
            "apv_overview",
            title=t("overview.card.title"),
            intro=t("overview.card.intro", period=overview.period.label, k=k),
            units=units,
            open=t("overview.card.open"),
            url=url,
        )
