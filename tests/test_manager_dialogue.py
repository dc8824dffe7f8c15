"""The manager's whole dialogue through the real HTTP endpoint, from `start` to a stored agreement."""

from __future__ import annotations

import pytest

from tests.answers import STEP_ANSWERS
from tests.databases import rows
from tests.harness import action_data, inputs, texts_of

pytestmark = [pytest.mark.both_engines, pytest.mark.both_hosts]

STEPS = list(STEP_ANSWERS)


async def walk_to_review(client):
    await client.say("start")
    for step in STEPS:
        card_msg = client.last_card()
        data = action_data(card_msg.card, "next")
        assert data["step"] == step
        sent = await client.submit(card_msg, {**data, **STEP_ANSWERS[step]})
        assert [s for s in sent if s.card], texts_of(sent)
        # The submitted card was replaced in place by a read-only version.
        assert card_msg.updates, f"card of step {step} was not replaced"
        assert not inputs(card_msg.card)
        assert not [a for a in card_msg.card.get("actions", [])]
    return client.last_card()


async def test_whole_dialogue_stores_an_agreement(manager, db_path):
    review = await walk_to_review(manager)
    body = str(review.card)
    assert "Gennemse aftalen" in body
    assert "Skærmarbejde" in body and "Bærbar, tablet og telefon" in body
    # Users see plain titles, never the rules' numbers.
    assert "Arbejdspladsvurdering (APV)" in body and "R1 " not in body and "R6 " not in body
    sent = await manager.submit(review, action_data(review.card, "conclude"))
    summary = [s for s in sent if s.card]
    assert summary and "Aftale om hjemmearbejde" in str(summary[0].card)
    assert any("Jeg har gemt aftalen" in t for t in texts_of(sent))

    stored = rows(db_path, "SELECT decision, follow_up_date, employee_name, state FROM agreements")
    assert stored == [
        (
            "approved_with_conditions",
            STEP_ANSWERS["outcome"]["follow_up_date"],
            "Mette Sørensen",
            "awaiting_employee",
        )
    ]

    status = await manager.say("status")
    assert "Mette Sørensen" in str(status[-1].card)
    assert "Godkendt med betingelser" in str(status[-1].card)


async def test_the_med_point_comes_on_the_tasks_step_when_the_unit_works_systematically(manager):
    await manager.say("start")
    first = manager.last_card()
    await manager.submit(first, {**action_data(first.card, "next"), **STEP_ANSWERS["employee"]})
    tasks = manager.last_card()
    assert "MED-udvalg" in str(tasks.card)  # the hint beside the question, before answering
    answers = {**STEP_ANSWERS["tasks"], "systematic": "yes"}
    await manager.submit(tasks, {**action_data(tasks.card, "next"), **answers})
    replaced = str(tasks.card)  # the read-only copy in place of the tasks card
    assert "drøftes i MED-udvalget, før ordningen går i gang" in replaced


async def test_the_technology_card_links_the_managers_checklist(manager):
    await manager.say("start")
    for step in STEPS[:3]:
        card = manager.last_card()
        await manager.submit(card, {**action_data(card.card, "next"), **STEP_ANSWERS[step]})
    technology = str(manager.last_card().card)
    assert "Læs mere: Tjekliste for ledere" in technology
    assert "https://www.arbejdsmiljoweb.dk/" in technology


async def test_approving_against_the_organisations_needs_gets_a_hint_on_weighing(manager):
    await manager.say("start")
    for step in STEPS[:-1]:  # up to the outcome
        card = manager.last_card()
        answers = dict(STEP_ANSWERS[step])
        if step == "weighing":
            answers["weigh_organisation"] = "against"
        await manager.submit(card, {**action_data(card.card, "next"), **answers})
    outcome = str(manager.last_card().card)
    assert "Organisationens behov taler imod hjemmearbejde, og de vejer tungest" in outcome


async def test_the_outcome_has_no_hint_when_the_organisation_supports_it(manager):
    await manager.say("start")
    for step in STEPS[:-1]:
        card = manager.last_card()
        await manager.submit(card, {**action_data(card.card, "next"), **STEP_ANSWERS[step]})
    assert "taler imod hjemmearbejde" not in str(manager.last_card().card)
