"""The manager's whole dialogue through the real HTTP endpoint, from `start` to a stored agreement."""

from __future__ import annotations

import pytest

from tests.answers import STEP_ANSWERS
from tests.databases import rows
from tests.harness import action_data, inputs, texts_of

pytestmark = pytest.mark.both_engines

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
    assert "R1 Skærmarbejde" in body and "R2" in body and "R6" in body
    sent = await manager.submit(review, action_data(review.card, "conclude"))
    summary = [s for s in sent if s.card]
    assert summary and "Aftale om hjemmearbejde" in str(summary[0].card)
    assert any("er gemt" in t for t in texts_of(sent))

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
