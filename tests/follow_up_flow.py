"""Shared steps of the follow-up and request tests: two people in one locale, an agreement
taken to "confirmed" over the real HTTP endpoint, and the cards found by their verbs."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.texts import Texts, texts_for
from settings import Settings
from tests.answers import STEP_ANSWERS
from tests.connector import Sent
from tests.harness import TeamsClient, User, action_data, actions

#: Today where the bot runs (its follow-up dates are checked in the municipality's zone).
TODAY = datetime.now(ZoneInfo(Settings.model_fields["timezone"].default)).date().isoformat()

MANAGERS = {
    "da-DK": User("Lone Leder", "11111111-1111-1111-1111-111111111111", "da-DK"),
    "en-US": User("Alex Wilber", "44444444-4444-4444-4444-444444444444", "en-US"),
}
EMPLOYEES = {
    "da-DK": User("Mette Sørensen", "22222222-2222-2222-2222-222222222222", "da-DK"),
    "en-US": User("Megan Bowen", "55555555-5555-5555-5555-555555555555", "en-US"),
}


def texts(client: TeamsClient) -> Texts:
    return texts_for(client.user.locale)


def said(sent: list[Sent]) -> str:
    return " ".join(s.text for s in sent if s.text)


def card_with_verb(client: TeamsClient, verb: str) -> Sent:
    """The newest card in the chat with a button for ``verb``."""
    for sent in reversed(client.seen()):
        if sent.card and any(
            isinstance(a.get("data"), dict) and a["data"].get("verb") == verb
            for a in actions(sent.card)
        ):
            return sent
    raise AssertionError(f"no card with a {verb!r} button")


def has_verb(card: dict[str, Any], verb: str) -> bool:
    return any(
        isinstance(a.get("data"), dict) and a["data"].get("verb") == verb for a in actions(card)
    )


async def press(client: TeamsClient, verb: str, **inputs: Any) -> list[Sent]:
    card = card_with_verb(client, verb)
    return await client.submit(card, {**action_data(card.card, verb), **inputs})


async def twice(client: TeamsClient, card: Sent, data: dict[str, Any]) -> None:
    """The same submit sent twice at once, as a double click does."""
    activity = client.activity(value=data, replyToId=card.id)
    statuses = await asyncio.gather(client.post(activity), client.post(dict(activity)))
    assert statuses == [201, 201]


async def walk(manager: TeamsClient, outcome: dict[str, str]) -> None:
    """Every step of a new dialogue, with the employee typed in by name."""
    await manager.say("start")
    answers = {**STEP_ANSWERS, "outcome": {**STEP_ANSWERS["outcome"], **outcome}}
    answers["employee"] = {**answers["employee"], "employee": EMPLOYEES[manager.user.locale].name}
    for step, values in answers.items():
        card = card_with_verb(manager, "next")
        data = action_data(card.card, "next")
        assert data["step"] == step, (data["step"], step)
        await manager.submit(card, {**data, **values})


async def confirmed_agreement(
    manager: TeamsClient, employee: TeamsClient, **outcome: str
) -> tuple[Sent, dict[str, Any]]:
    """Manager and employee take one agreement to version 1, confirmed. Returns the
    employee's card and the data of its confirm button (to replay it later)."""
    await employee.say("help")  # the employee has the app: the bot knows them by name
    await manager.say("help")
    await walk(manager, outcome)
    await press(manager, "conclude")
    card = card_with_verb(employee, "confirm")
    data = action_data(card.card, "confirm")
    await employee.submit(card, data)
    return card, data
