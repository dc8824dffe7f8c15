"""The manager's whole dialogue in the real Microsoft 365 Agents Playground, in headless
Chromium: every input filled and every button pressed through the UI, from `start` to the
stored agreement and `status`. Screenshots land in artifacts/browser/."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.fields import STEPS_BY_ID
from tests.answers import STEP_ANSWERS
from tests.browser.playground import (
    PlaygroundError,
    launch_chromium,
    make_config,
    make_user,
    open_playground,
    run_playground,
)
from tests.conftest import MANAGER
from tests.harness import BotServer, actions

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"


def as_card_values(step: str) -> dict[str, object]:
    """The answers of a step as a person enters them: toggles ticked or not, blanks left blank."""
    values: dict[str, object] = {}
    for field_id, value in STEP_ANSWERS[step].items():
        kind = STEPS_BY_ID[step].field(field_id).kind
        if value == "" or (kind == "toggle" and value == "false"):
            continue
        values[field_id] = (value == "true") if kind == "toggle" else value
    return values


def title_of(card: dict, verb: str) -> str:
    """The title of the card's button for ``verb``: the test follows the texts, not a copy."""
    return next(a["title"] for a in actions(card) if (a.get("data") or {}).get("verb") == verb)


async def fill_and_submit(page, values: dict[str, object], title: str) -> None:
    """Fill the latest card and press ``title``. The playground sometimes re-renders the chat
    just after a new card arrives, which loses what was typed; the card's own validation then
    blocks the submit, so it is filled once more."""
    for attempt in range(3):
        await page.fill_inputs(values)
        try:
            await page.submit_card(title, new_cards=1, timeout=8)
            return
        except PlaygroundError:
            if attempt == 2 or not await page.validation_errors():
                raise


async def test_manager_completes_a_dialogue_in_the_agents_playground(tmp_path):
    db_path = tmp_path / "playground.sqlite3"
    bot = BotServer(db_path, force_locale="da-DK")
    await bot.start()
    user = make_user(MANAGER.channel_id, MANAGER.name, aad_object_id=MANAGER.aad_object_id)
    try:
        async with (
            run_playground(f"{bot.url}/api/messages", make_config(user)) as playground,
            launch_chromium() as browser,
        ):
            page = await open_playground(browser, playground)
            async with page.capture_on_failure(ARTIFACTS, "manager-failure"):
                await page.wait_for_card_count(1)  # the welcome card on installation
                assert "Velkommen" in str(await page.card_json(0))
                await page.send_text("start")
                await page.wait_for_card_count(2)
                for step in STEP_ANSWERS:
                    await fill_and_submit(page, as_card_values(step), "Næste")
                    shown = await page.card_json(-2)
                    assert not [a for a in shown.get("actions", [])], f"{step} was not replaced"
                review = await page.card_json(-1)
                assert "Gennemse aftalen" in str(review) and "R1 Skærmarbejde" in str(review)
                await page.screenshot(ARTIFACTS, "08-review", card_only=True)
                await page.submit_card(title_of(review, "conclude"), new_cards=1)
                await page.wait_for_bot_text("skal bekræfte den")
                agreement = await page.card_json(-1)
                assert "Aftale om hjemmearbejde" in str(agreement)
                await page.screenshot(ARTIFACTS, "09-agreement")
                count = await page.card_count()
                await page.send_text("status")
                await page.wait_for_card_count(count + 1)
                status = str(await page.card_json(-1))
                assert "Mette Sørensen" in status and "Godkendt med betingelser" in status
                await page.screenshot(ARTIFACTS, "10-status")
    finally:
        await bot.stop()
    rows = (
        sqlite3.connect(db_path)
        .execute("SELECT decision, employee_name, manager_id FROM agreements")
        .fetchall()
    )
    assert rows == [("approved_with_conditions", "Mette Sørensen", MANAGER.aad_object_id)]
