"""Two copies of one press that arrive within milliseconds have one effect: one dialogue,
one self-check, one agreement version, one answer (truly concurrent requests, both engines)."""

from __future__ import annotations

import asyncio

import pytest

from tests.answers import SELF_CHECK_ANSWERS, STEP_ANSWERS
from tests.databases import rows
from tests.harness import action_data

pytestmark = pytest.mark.both_engines


async def twice(client, card, data) -> None:
    """The same submit sent twice at once, as a double click does."""
    activity = client.activity(value=data, replyToId=card.id)
    statuses = await asyncio.gather(client.post(activity), client.post(dict(activity)))
    assert statuses == [201, 201]


async def test_a_double_click_on_start_makes_one_dialogue(manager, db_path):
    await manager.say("hjælp")
    help_card = manager.last_card()
    for _ in range(3):
        await twice(manager, help_card, {"verb": "start"})
    assert rows(db_path, "SELECT count(*) FROM dialogues") == [(1,)]
    ids = {
        action_data(s.card, "next")["dialogue_id"]
        for s in manager.seen()
        if s.card and "Hvem skal samtalen" in str(s.card)
    }
    assert len(ids) == 1  # every card shown is the same dialogue


async def test_a_double_click_on_the_self_check_makes_one(employee, db_path):
    for _ in range(3):
        activity = employee.activity(value={"verb": "sc_start"})
        await asyncio.gather(employee.post(activity), employee.post(dict(activity)))
    assert rows(db_path, "SELECT count(*) FROM self_checks") == [(1,)]
    card = employee.last_card()
    data = {**action_data(card.card, "sc_next"), **SELF_CHECK_ANSWERS["sc_work"]}
    await twice(employee, card, data)
    assert rows(db_path, "SELECT step, version FROM self_checks") == [("sc_contact", 2)]


async def test_a_double_click_on_next_and_conclude_counts_once(manager, db_path):
    await manager.say("start")
    for step in STEP_ANSWERS:
        card = manager.last_card()
        await twice(manager, card, {**action_data(card.card, "next"), **STEP_ANSWERS[step]})
    review = manager.last_card()
    await twice(manager, review, action_data(review.card, "conclude"))
    assert rows(db_path, "SELECT count(*), max(version) FROM agreements") == [(1, 1)]
    # Every step was stored once: the version counts one change per step, plus the conclusion.
    assert rows(db_path, "SELECT state, version FROM dialogues") == [
        ("awaiting_employee", len(STEP_ANSWERS) + 2)
    ]
    assert rows(db_path, "SELECT count(*) FROM sharepoint_outbox") == [(1,)]
