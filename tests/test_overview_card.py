"""``overblik`` / ``overview`` in the chat, through the real endpoint: the work-environment
group, MED members and HR get a card with the figures of their units and a button that opens
the overview tab in Teams; anyone else a friendly refusal and no figure. In local mode the
roles come from HR_USERS and MED_USERS (tests/test_overview_endpoints.py covers the groups)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from core.texts import texts_for
from tests.harness import BotServer, TeamsClient, User, actions
from tests.overview_seed import seed_agreements

MED = User("Mads MED", "c3c3c3c3-0000-4000-8000-000000000001")
HR = User("Hanne HR", "c3c3c3c3-0000-4000-8000-000000000002", locale="en-US")
NOBODY = User("Nis Nogen", "c3c3c3c3-0000-4000-8000-000000000003")
TEAMS_APP = "11111111-2222-4333-8444-555555555555"

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def bot(db_path) -> AsyncIterator[BotServer]:
    await seed_agreements(db_path, {"Borgerservice": 3, "Vej og Park": 3})
    server = BotServer(
        db_path,
        med_users=f"{MED.aad_object_id}:Vej og Park",
        hr_users=f"{HR.aad_object_id}:*",
        teams_app_id=TEAMS_APP,
        overview_min_group=3,
    )
    await server.start()
    yield server
    await server.stop()


def card_text(card: dict) -> str:
    return str(card["body"])


async def test_a_med_member_gets_the_figures_of_their_unit_and_a_link_to_the_tab(
    session, bot, connector
):
    sent = await TeamsClient(session, bot, connector, MED).say("overblik")
    (card,) = [s.card for s in sent if s.card]
    t = texts_for("da-DK")
    assert t("overview.card.title") in card_text(card)
    assert "Vej og Park" in card_text(card) and "Borgerservice" not in card_text(card)
    (button,) = actions(card)
    assert button["type"] == "Action.OpenUrl" and button["title"] == t("overview.card.open")
    link = urlsplit(button["url"])
    assert (link.scheme, link.netloc) == ("https", "teams.microsoft.com")
    assert link.path == f"/l/entity/{TEAMS_APP}/overview"  # the manifest's staticTabs entityId


async def test_hr_gets_every_unit_in_english(session, bot, connector):
    sent = await TeamsClient(session, bot, connector, HR).say("overview")
    (card,) = [s.card for s in sent if s.card]
    assert texts_for("en-US")("overview.card.title") in card_text(card)
    assert "Vej og Park" in card_text(card) and "Borgerservice" in card_text(card)


async def test_anyone_else_gets_a_friendly_refusal_and_no_figures(session, bot, connector):
    sent = await TeamsClient(session, bot, connector, NOBODY).say("overblik")
    assert [s.text for s in sent] == [texts_for("da-DK")("overview.card.refused")]
    assert all(s.card is None for s in sent)
