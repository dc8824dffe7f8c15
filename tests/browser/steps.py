"""Card steps for the real-browser tests: find a button by what it does, fill a step's card
as a person would, and press it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.fields import Step
from tests.browser.playground import InputValue, PlaygroundError, PlaygroundPage
from tests.harness import actions

#: Generous: browsers, playgrounds and the bot share one loaded machine.
WAIT = 20.0


def action_with_verb(card: Mapping[str, Any], verb: str) -> dict[str, Any] | None:
    """The card's action whose ``data.verb`` is ``verb`` (also in ActionSets and show-cards).

    Buttons are found by what they do, not by their title, so renaming a button does not
    break this test; the title read here is then what is clicked in the UI.
    """
    for action in actions(dict(card)):
        data = action.get("data")
        if isinstance(data, dict) and data.get("verb") == verb:
            return action
    return None


def title_of(card: Mapping[str, Any], verb: str) -> str:
    """The title of the button with ``verb``; fails the test if the card has none."""
    action = action_with_verb(card, verb)
    assert action is not None, f"no button with verb {verb!r} in {card}"
    return str(action["title"])


def as_card_values(step: Step, answers: Mapping[str, str]) -> dict[str, InputValue]:
    """The answers of a step as a person enters them: toggles ticked or not, blanks left
    blank (an untouched empty input is not sent, just as in Teams)."""
    values: dict[str, InputValue] = {}
    for field_id, value in answers.items():
        kind = step.field(field_id).kind
        if value == "" or (kind == "toggle" and value == "false"):
            continue
        values[field_id] = (value == "true") if kind == "toggle" else value
    return values


async def fill_step(
    page: PlaygroundPage, step: Step, answers: Mapping[str, str], verb: str
) -> None:
    """Fill the latest card, which must be ``step``, and press its ``verb`` button; wait for
    the card to be replaced by its read-only version and for the next card.

    The playground sometimes re-renders the chat just after a new card arrives, which loses
    what was typed; the card's own validation then blocks the submit, so it is filled once
    more (the same retry as in test_playground_manager.py)."""
    card = await page.card_json(-1)
    action = action_with_verb(card, verb)
    assert action is not None and action["data"].get("step") == step.id, (step.id, card)
    values = as_card_values(step, answers)
    for attempt in range(3):
        await page.fill_inputs(values)
        try:
            await page.submit_card(str(action["title"]), new_cards=1, timeout=WAIT)
            return
        except PlaygroundError:
            if attempt == 2 or not await page.validation_errors():
                raise
