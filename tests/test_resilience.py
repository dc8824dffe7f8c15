"""Restart in the middle of a dialogue, stale and tampered submits, invalid answers."""

from __future__ import annotations

import pytest

from tests.answers import STEP_ANSWERS
from tests.databases import rows
from tests.dbsnapshot import snapshot
from tests.harness import BotServer, TeamsClient, action_data, inputs, texts_of

pytestmark = [pytest.mark.both_engines, pytest.mark.both_hosts]


async def answer(client, step):
    card = client.last_card()
    data = action_data(card.card, "next")
    assert data["step"] == step
    return await client.submit(card, {**data, **STEP_ANSWERS[step]})


async def test_restart_mid_dialogue_resumes_at_the_same_step(db_path, connector, session):
    first = BotServer(db_path)
    await first.start()
    from tests.conftest import MANAGER

    client = TeamsClient(session, first, connector, MANAGER)
    await client.say("start")
    for step in ("employee", "tasks", "environment"):
        await answer(client, step)
    waiting = client.last_card()  # the technology card, sent before the restart
    await first.stop()

    second = BotServer(db_path)
    await second.start()
    try:
        client.bot = second
        # The card sent by the old process still works.
        sent = await answer(client, "technology")
        assert "Emne 4" in str(sent[-1].card)
        assert waiting.updates
        # "fortsæt" shows the current step with what was answered.
        sent = await client.say("fortsæt")
        assert "Mette Sørensen" in texts_of(sent)[0]
        assert action_data(sent[-1].card, "next")["step"] == "ergonomics"
        await client.submit(sent[-1], {**action_data(sent[-1].card, "back")})
        tech = inputs(client.last_card().card)
        assert tech["laptop_hours"]["value"] == 3
        assert tech["eq_pc_carried"]["value"] == "true"
        row = rows(db_path, "SELECT answers FROM dialogues")[0]
        for step in ("employee", "tasks", "environment", "technology"):
            assert f'"{step}"' in row[0]
    finally:
        await second.stop()


async def test_replayed_submit_is_refused_and_changes_nothing(manager, db_path):
    await manager.say("start")
    card = manager.last_card()
    data = {**action_data(card.card, "next"), **STEP_ANSWERS["employee"]}
    await manager.submit(card, data)
    before = snapshot(db_path)
    sent = await manager.submit(card, {**data, "employee": "En anden"})
    assert texts_of(sent) == [
        "Det kort er allerede besvaret eller hører til et tidligere trin. Intet er ændret. "
        "Skriv **fortsæt** for at se, hvor du er nået til."
    ]
    assert snapshot(db_path) == before


async def test_another_users_submit_is_refused(manager, outsider, db_path):
    await manager.say("start")
    card = manager.last_card()
    data = {**action_data(card.card, "next"), **STEP_ANSWERS["employee"]}
    before = snapshot(db_path)
    sent = await outsider.submit(card, data)
    assert "ikke er part i" in texts_of(sent)[0]
    assert snapshot(db_path) == before


@pytest.mark.parametrize(
    "tamper",
    [
        {"dialogue_id": "0" * 32},
        {"dialogue_id": {"$ne": None}},
        {"dialogue_id": "x" * 5000},
        {"version": "1"},
        {"version": True},
        {"version": 99},
        {"step": "outcome"},
        {"step": "../../etc"},
        {"verb": "conclude"},
        {"verb": "delete_everything"},
        {"verb": None},
    ],
)
async def test_tampered_envelopes_are_refused(manager, db_path, tamper):
    await manager.say("start")
    card = manager.last_card()
    data = {**action_data(card.card, "next"), **STEP_ANSWERS["employee"], **tamper}
    before = snapshot(db_path)
    sent = await manager.submit(card, data)
    assert len(sent) == 1 and sent[0].text and "Intet er ændret" in sent[0].text
    assert not card.updates
    assert snapshot(db_path) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"days_per_week": "9"}, "Vælg en af mulighederne"),
        ({"days_per_week": ""}, "Udfyld »"),
        ({"tasks_note": "x" * 1001}, "højst 1000 tegn"),
        ({"available_from": "kl. otte"}, "klokkeslæt"),
        ({"fixed_days": ["mon", 3]}, "kunne ikke læse svaret"),
    ],
)
async def test_invalid_answers_are_reprompted_in_danish_and_not_stored(
    manager, db_path, change, message
):
    await manager.say("start")
    await answer(manager, "employee")
    card = manager.last_card()
    before = snapshot(db_path)
    data = {**action_data(card.card, "next"), **STEP_ANSWERS["tasks"], **change}
    sent = await manager.submit(card, data)
    assert snapshot(db_path) == before
    assert sent == []  # no new message: the submitted card itself shows the errors
    reprompt = card.card
    assert "Du skal rette noget, før du kan gå videre" in str(reprompt)
    assert message in str(reprompt)
    # The valid answers are kept on the card; the same step is asked again.
    assert action_data(reprompt, "next")["step"] == "tasks"
    assert inputs(reprompt)["tasks_home"]["value"] == STEP_ANSWERS["tasks"]["tasks_home"]
    # Correcting it moves on.
    fixed = await manager.submit(card, {**action_data(reprompt, "next"), **STEP_ANSWERS["tasks"]})
    assert action_data(fixed[-1].card, "next")["step"] == "environment"


async def test_double_click_stores_once(manager, db_path):
    import asyncio

    await manager.say("start")
    card = manager.last_card()
    data = {**action_data(card.card, "next"), **STEP_ANSWERS["employee"]}
    await asyncio.gather(manager.submit(card, data), manager.submit(card, data))
    row = rows(db_path, "SELECT step, version FROM dialogues")[0]
    assert row == ("tasks", 2)
    stale = [s for s in manager.seen() if s.text and "allerede besvaret" in s.text]
    assert len(stale) == 1
