"""The manager's whole dialogue in the real Microsoft 365 Agents Playground, in headless
Chromium: every input filled and every button pressed through the UI, from `start` to the
stored agreement and `status`, on each SDK (the both_hosts mark). Screenshots land in
artifacts/browser/."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.fields import STEPS_BY_ID
from tests.answers import STEP_ANSWERS
from tests.browser.playground import (
    launch_chromium,
    make_config,
    make_user,
    open_playground,
    run_playground,
)
from tests.browser.steps import fill_step, title_of
from tests.conftest import MANAGER
from tests.harness import BotServer

pytestmark = [pytest.mark.browser, pytest.mark.both_hosts]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"


async def test_manager_completes_a_dialogue_in_the_agents_playground(tmp_path, bot_sdk):
    db_path = tmp_path / "playground.sqlite3"
    bot = BotServer(db_path, force_locale="da-DK", bot_sdk=bot_sdk)
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
                    await fill_step(page, STEPS_BY_ID[step], STEP_ANSWERS[step], "next")
                    shown = await page.card_json(-2)
                    assert not [a for a in shown.get("actions", [])], f"{step} was not replaced"
                review = await page.card_json(-1)
                assert "Gennemse aftalen" in str(review) and "Det skal gøres" in str(review)
                await page.screenshot(ARTIFACTS, "08-review", card_only=True)
                # The answers are folded away until asked for, in the real renderer too.
                answers = page.latest_card().get_by_text("Sagsbehandling og notater")
                assert not await answers.is_visible()
                await page.click_action("Vis alle svar")
                await answers.wait_for(state="visible")
                await page.screenshot(ARTIFACTS, "08-review-answers", card_only=True)
                await page.click_action("Vis alle svar")
                await page.submit_card(title_of(review, "conclude"), new_cards=1)
                # One playground has no employee to reach: the manager is told so, plainly.
                await page.wait_for_bot_text("kunne ikke sende den til Mette Sørensen")
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
