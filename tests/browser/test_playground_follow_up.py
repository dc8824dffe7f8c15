"""A follow-up in two real Agents Playgrounds (headless Chromium) against one bot: version 1
of an agreement is confirmed and due for follow-up today; the manager presses "Følg op" in
`status`, edits only the tasks from the review, sees what changed since version 1, gives the
new version its follow-up date and concludes; the employee confirms version 2 in their
playground. Screenshots land in artifacts/browser/follow-up-*.png:

- follow-up-01-status: the manager's status with "Følg op: Mette Sørensen"
- follow-up-02-review-changes: the review of version 2, "Ændret siden version 1"
- follow-up-03-employee-confirm: the employee's card for version 2 (version 1 applies still)
- follow-up-04-employee-confirmed: version 2 confirmed by both
- follow-up-05-status-v2: the manager's status once version 2 is in force
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agreement import build_record
from core.dialogue import AWAITING_EMPLOYEE, CONFIRMED, Dialogue
from core.fields import STEPS_BY_ID
from store.database import Database, utc_now
from store.dialogues import DialogueStore
from tests.answers import FOLLOW_UP, STEP_ANSWERS, typed_answers
from tests.browser.steps import WAIT, fill_step, title_of
from tests.browser.test_playground_two_people import (
    ARTIFACTS,
    db_rows,
    screenshot_whole_card,
    text_of,
    two_people,
    wait_for_card_with_verb,
)
from tests.conftest import EMPLOYEE, MANAGER
from tests.follow_up_flow import TODAY
from tests.harness import BotServer

pytestmark = pytest.mark.browser


async def confirmed_version_1(db_path: Path) -> None:
    """Version 1, confirmed by both, with its follow-up date today (stored as the bot does)."""
    db = Database(db_path)
    await db.open()
    try:
        store = DialogueStore(db)
        d = Dialogue(
            id="f" * 32,
            manager_id=MANAGER.aad_object_id,
            manager_name=MANAGER.name,
            locale="da-DK",
            employee_id=EMPLOYEE.aad_object_id,
            employee_name=EMPLOYEE.name,
            answers=typed_answers({"outcome": {"follow_up_date": TODAY}}),
            step="review",
        )
        await store.create(d)
        expected, d.version, d.agreement_version = d.version, d.version + 1, 1
        assert await store.conclude(d, expected, build_record(d, 1, AWAITING_EMPLOYEE, utc_now()))
        expected, d.version = d.version, d.version + 1
        assert await store.answer(d, expected, CONFIRMED, None) is not None
    finally:
        await db.close()


async def test_a_follow_up_ends_in_a_confirmed_version_2_in_two_playgrounds(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "follow-up.sqlite3"
    bot = BotServer(db_path, force_locale="da-DK")
    await bot.start()
    await confirmed_version_1(db_path)
    endpoint = f"{bot.url}/api/messages"
    try:
        async with two_people(endpoint, tmp_path, "follow-up") as (employee, manager):
            await employee.send_text("status")  # the bot learns the employee's chat
            await employee.wait_for_card_count(2, timeout=WAIT)

            # "Følg op" in status: version 2 opens at the review, prefilled.
            # Status, then the card of the manager's open action items.
            await manager.send_text("status")
            await manager.wait_for_card_count(3, timeout=WAIT)
            status = await manager.card_json(-2)
            assert "Følg op: Mette Sørensen" in text_of(status)
            assert "Dine opgaver" in text_of(await manager.card_json(-1))
            await manager.screenshot(ARTIFACTS, "follow-up-01-status")
            await manager.submit_card(
                title_of(status, "follow_up"),
                card_index=-2,
                replaced=False,
                new_cards=1,
                timeout=WAIT,
            )
            await manager.wait_for_bot_text("Du følger op på aftalen", timeout=WAIT)
            await employee.wait_for_bot_text("følger op på jeres aftale", timeout=WAIT)
            review = await manager.card_json(-1)
            assert "Ændret siden version 1" in text_of(review)

            # Only the tasks changed: three days a week instead of two.
            await manager.fill_inputs({"edit_step": "tasks"})
            await manager.submit_card(title_of(review, "edit"), new_cards=1, timeout=WAIT)
            changed = {
                **STEP_ANSWERS["tasks"],
                "days_per_week": "3",
                "fixed_days": "mon,tue,thu",
            }
            await fill_step(manager, STEPS_BY_ID["tasks"], changed, "next")
            review = await manager.card_json(-1)
            assert "Før: 2 dage. Nu: 3 dage." in text_of(review)
            await screenshot_whole_card(manager, "follow-up-02-review-changes")

            # The new version needs its own follow-up date: the outcome card asks for it.
            await manager.submit_card(title_of(review, "conclude"), new_cards=1, timeout=WAIT)
            outcome = await manager.card_json(-1)
            assert "Hvornår følger I op på aftalen?" in text_of(outcome)
            answers = {**STEP_ANSWERS["outcome"], "follow_up_date": FOLLOW_UP}
            await fill_step(manager, STEPS_BY_ID["outcome"], answers, "next")
            review = await manager.card_json(-1)
            await manager.submit_card(title_of(review, "conclude"), new_cards=1, timeout=WAIT)
            await manager.wait_for_bot_text("skal bekræfte den", timeout=WAIT)

            # The employee confirms version 2; version 1 applied until then.
            to_confirm = await wait_for_card_with_verb(employee, "confirm")
            assert "Version 1 gælder, til du har bekræftet denne" in text_of(to_confirm)
            await screenshot_whole_card(employee, "follow-up-03-employee-confirm")
            await employee.submit_card(title_of(to_confirm, "confirm"), timeout=WAIT)
            await employee.wait_for_bot_text("Du har bekræftet aftalen", timeout=WAIT)
            assert "Bekræftet af begge" in text_of(await employee.card_json(-1))
            await employee.screenshot(ARTIFACTS, "follow-up-04-employee-confirmed")
            await manager.wait_for_bot_text("har bekræftet aftalen", timeout=WAIT)
            count = await manager.card_count()
            await manager.send_text("status")  # status and version 2's open items
            await manager.wait_for_card_count(count + 2, timeout=WAIT)
            assert "Bekræftet af begge" in text_of(await manager.card_json(-2))
            await manager.screenshot(ARTIFACTS, "follow-up-05-status-v2")
    finally:
        await bot.stop()

    assert db_rows(db_path, "SELECT version, state FROM agreements ORDER BY version") == [
        (1, "superseded"),
        (2, "confirmed"),
    ]
    assert db_rows(db_path, "SELECT state, in_force_version FROM dialogues") == [("confirmed", 2)]
