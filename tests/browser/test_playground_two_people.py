"""Manager and employee in two real Agents Playgrounds (headless Chromium) against one bot:
the invitation, the employee's self-check, the manager's dialogue that shows it, and the
employee's confirmation of the agreement, all through the UI. Screenshots of the key moments
of both pages land in artifacts/browser/two-*.png.

Why two playgrounds: a playground has exactly one current user, and the bot stores one
conversation reference (with that playground's service URL) per person. Only two processes
exercise the proactive messages between two people the way Teams delivers them. Both pages are
opened first and stay open: a proactive message sent to a playground with no page open never
reaches its UI (see FINDINGS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from core.fields import SELF_CHECK_BY_ID, STEPS_BY_ID
from tests.answers import SELF_CHECK_ANSWERS, STEP_ANSWERS
from tests.browser.playground import (
    PlaygroundError,
    PlaygroundPage,
    launch_chromium,
    make_config,
    make_user,
    open_playground,
    run_playground,
)
from tests.browser.steps import WAIT, action_with_verb, fill_step, title_of
from tests.conftest import EMPLOYEE, MANAGER
from tests.harness import BOT_ID, TENANT, BotServer, User

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
BOT = {"id": BOT_ID, "name": "Hjemmearbejdsdialog"}


@contextlib.asynccontextmanager
async def two_people(
    endpoint: str, tmp_path: Path, name: str
) -> AsyncIterator[tuple[PlaygroundPage, PlaygroundPage]]:
    """The employee's and the manager's Agents Playground on one bot, each in a headless
    Chromium of its own, once both have their welcome card. On a failure inside, each page
    is kept as artifacts/browser/<name>-employee-failure and <name>-manager-failure."""
    async with (
        run_playground(
            endpoint, playground_config(EMPLOYEE, MANAGER), workdir=tmp_path / "pg-employee"
        ) as pg_employee,
        run_playground(
            endpoint, playground_config(MANAGER, EMPLOYEE), workdir=tmp_path / "pg-manager"
        ) as pg_manager,
        launch_chromium() as browser_employee,
        launch_chromium() as browser_manager,
    ):
        employee, manager = await asyncio.gather(
            open_playground(browser_employee, pg_employee),
            open_playground(browser_manager, pg_manager),
        )
        async with (
            employee.capture_on_failure(ARTIFACTS, f"{name}-employee-failure"),
            manager.capture_on_failure(ARTIFACTS, f"{name}-manager-failure"),
        ):
            await asyncio.gather(
                employee.wait_for_card_count(1, timeout=WAIT),  # the welcome cards
                manager.wait_for_card_count(1, timeout=WAIT),
            )
            yield employee, manager


def playground_config(user: User, other: User) -> dict[str, Any]:
    """A playground whose current user reaches the bot with the ids Teams would send
    (``from.id`` = the channel id, ``from.aadObjectId``), the other person among its users.
    The bot keeps its real name, so the screenshots look like the app in Teams."""

    def identity(u: User) -> dict[str, str]:
        return make_user(u.channel_id, u.name, aad_object_id=u.aad_object_id)

    return make_config(identity(user), [identity(other)], tenant_id=TENANT, bot=BOT)


async def wait_for_card_with_verb(
    page: PlaygroundPage, verb: str, *, timeout: float = WAIT
) -> dict[str, Any]:
    """Wait until a (proactive) card with a ``verb`` button has arrived *and* is rendered;
    return its JSON. The stream tells which card it is, the DOM count that it is shown."""

    def find() -> tuple[int, dict[str, Any]] | None:
        cards = [c for m in page.bot_stream() for c in m.cards]
        for index in range(len(cards) - 1, -1, -1):
            if action_with_verb(cards[index], verb):
                return index, cards[index]
        return None

    try:
        index, card = await page.stream.wait(find, timeout)
    except PlaygroundError as e:
        raise PlaygroundError(f"no card with a {verb!r} button arrived within {timeout}s") from e
    await page.wait_for_card_count(index + 1, timeout=timeout)
    return card


def text_of(card: Mapping[str, Any]) -> str:
    """Everything a card says, for substring checks (its JSON, non-ASCII kept)."""
    return json.dumps(card, ensure_ascii=False)


async def screenshot_whole_card(page: PlaygroundPage, name: str) -> None:
    """Save the latest card whole, even when it is taller than the window.

    An element screenshot of a card taller than the viewport comes out blank above the last
    screenful (Chromium paints only what is in view of the transcript's scroll pane), so
    the window is made tall enough for a moment. Nothing is reloaded, the chat stays as is.
    """
    viewport = page.page.viewport_size
    box = await page.latest_card().bounding_box()
    assert viewport is not None and box is not None
    await page.page.set_viewport_size(
        {"width": viewport["width"], "height": max(viewport["height"], int(box["height"]) + 600)}
    )
    try:
        await page.latest_card().scroll_into_view_if_needed()
        await page.screenshot(ARTIFACTS, name, card_only=True)
    finally:
        await page.page.set_viewport_size(viewport)


def db_rows(db_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(sql).fetchall()


async def test_manager_and_employee_conclude_and_confirm_in_two_playgrounds(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "two-people.sqlite3"
    bot = BotServer(db_path, force_locale="da-DK")
    await bot.start()
    endpoint = f"{bot.url}/api/messages"
    try:
        async with two_people(endpoint, tmp_path, "two") as (employee, manager):
            # The employee has the app and has written once: the bot knows name and chat.
            await employee.send_text("hjælp")
            await employee.wait_for_card_count(2, timeout=WAIT)

            # The manager names the employee; the invitation goes to the employee's page.
            await manager.send_text("start")
            await manager.wait_for_card_count(2, timeout=WAIT)
            await fill_step(manager, STEPS_BY_ID["employee"], STEP_ANSWERS["employee"], "next")
            await manager.wait_for_bot_text("Jeg har sendt Mette Sørensen en besked", timeout=WAIT)
            assert "ikke lavet selvtjekket endnu" in text_of(await manager.card_json(-1))

            invitation = await wait_for_card_with_verb(employee, "sc_start")
            assert "Din leder vil tale med dig om hjemmearbejde" in text_of(invitation)
            assert "Lone Leder" in text_of(invitation)
            await employee.screenshot(ARTIFACTS, "two-employee-invitation")

            # The self-check, four cards, then the result for the employee.
            await employee.submit_card(
                title_of(invitation, "sc_start"), replaced=False, new_cards=1, timeout=WAIT
            )
            for step_id, answers in SELF_CHECK_ANSWERS.items():
                await fill_step(employee, SELF_CHECK_BY_ID[step_id], answers, "sc_next")
            result = text_of(await employee.card_json(-1))
            assert "Tak for dit selvtjek" in result
            assert "kontorstol" in result and "synsprøve" in result
            await employee.screenshot(ARTIFACTS, "two-employee-self-check-result")
            await manager.wait_for_bot_text("Mette Sørensen har lavet selvtjekket", timeout=WAIT)

            # The manager's topic cards show the self-check; on to the review.
            for step_id in ("tasks", "environment"):
                await fill_step(manager, STEPS_BY_ID[step_id], STEP_ANSWERS[step_id], "next")
            technology = text_of(await manager.card_json(-1))
            assert "Medarbejderens selvtjek" in technology
            for step_id in ("technology", "ergonomics", "weighing", "outcome"):
                await fill_step(manager, STEPS_BY_ID[step_id], STEP_ANSWERS[step_id], "next")
            review = await manager.card_json(-1)
            assert "Gennemse aftalen" in text_of(review)
            assert "Medarbejderen ønsker en synsprøve." in text_of(review)
            await screenshot_whole_card(manager, "two-manager-review")

            # Concluding sends the agreement to the employee for confirmation.
            await manager.submit_card(title_of(review, "conclude"), new_cards=1, timeout=WAIT)
            await manager.wait_for_bot_text("skal bekræfte den", timeout=WAIT)
            to_confirm = await wait_for_card_with_verb(employee, "confirm")
            assert "Aftale om hjemmearbejde" in text_of(to_confirm)
            await employee.screenshot(ARTIFACTS, "two-employee-confirm")

            # The employee confirms; the manager is told and gets the agreement.
            manager_cards = await manager.card_count()
            await employee.submit_card(title_of(to_confirm, "confirm"), timeout=WAIT)
            await employee.wait_for_bot_text("Du har bekræftet aftalen", timeout=WAIT)
            assert "Bekræftet af begge" in text_of(await employee.card_json(-1))
            told = await manager.wait_for_bot_text("har bekræftet aftalen", timeout=WAIT)
            await manager.wait_for_card_count(manager_cards + 1, timeout=WAIT)
            await told.scroll_into_view_if_needed()  # the notice, then the agreement
            await manager.screenshot(ARTIFACTS, "two-manager-confirmed")
    finally:
        await bot.stop()

    assert db_rows(db_path, "SELECT state FROM dialogues") == [("confirmed",)]
    assert db_rows(db_path, "SELECT version, state FROM agreements") == [(1, "confirmed")]
