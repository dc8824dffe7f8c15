"""`status` with the access checks on, through the real HTTP endpoint, against the local Graph
server's directory (tests/access_directory.py): a manager sees the dialogues about the
employees they lead now; a former manager (Entra ID names someone else) sees neither the
employee's name nor the dialogue's state nor a button for it; many dialogues are checked in
a few $batch requests, not one request per row; when Graph cannot answer, the dialogues it
could not check are left out and the manager is told that some could not be shown now."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from core.answers import DialogueAnswers
from core.dialogue import IN_PROGRESS, Dialogue
from store.database import Database
from store.dialogues import DialogueStore
from tests.access_directory import NEW_MANAGER, access_settings, break_graph, choose_employee
from tests.conftest import EMPLOYEE, MANAGER
from tests.follow_up_flow import confirmed_agreement
from tests.graph_server import Faults, GraphServer
from tests.harness import BotServer, Sent, TeamsClient, User

pytestmark = pytest.mark.both_engines

STAYING = User("Karl Blivende", "12121212-1212-1212-1212-121212121212")
SOME_NOT_SHOWN = "Nogle af dine samtaler som leder kan jeg ikke vise lige nu"
SOME_NOT_SHOWN_EN = "I can't show some of your conversations as a manager right now"


async def status_card(leader: TeamsClient) -> Sent:
    sent = await leader.say("status")
    cards = [s for s in sent if s.card and s.card.get("type") == "AdaptiveCard"]
    return cards[0]


def card_text(sent: Sent) -> str:
    return json.dumps(sent.card, ensure_ascii=False)


def shown_rows(sent: Sent) -> int:
    """How many dialogues the card lists as the manager's (its lines and "og N flere")."""
    count = 0
    for fact in _facts(sent.card):
        if fact.get("title") == "…":
            count += int(fact["value"].split()[1])
        elif fact.get("title", "").startswith("Medarbejder "):
            count += 1
    return count


def _facts(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = list(node.get("facts", [])) if node.get("type") == "FactSet" else []
        for value in node.values():
            found.extend(_facts(value))
        return found
    if isinstance(node, list):
        return [f for item in node for f in _facts(item)]
    return []


async def seed_dialogues(db_path: Any, graph: GraphServer, led: int, moved: int) -> None:
    """Dialogues in progress that MANAGER started: ``led`` about employees Entra ID still names
    MANAGER's, ``moved`` about employees it now names NEW_MANAGER's."""
    db = Database(db_path)
    await db.open()
    try:
        dialogues = DialogueStore(db)
        for n in range(led + moved):
            employee_id = str(uuid.UUID(int=3_000_000 + n))
            manager = MANAGER if n < led else NEW_MANAGER
            graph.directory.add_user(employee_id, manager=manager.aad_object_id)
            await dialogues.create(
                Dialogue(
                    id=uuid.uuid4().hex,
                    manager_id=MANAGER.aad_object_id,
                    manager_name=MANAGER.name,
                    locale="da-DK",
                    state=IN_PROGRESS,
                    step="tasks",
                    version=2,  # touched: a manager may have many of those
                    employee_id=employee_id,
                    employee_name=f"Medarbejder {n}" if n < led else f"Flyttet {n}",
                    answers=DialogueAnswers(),
                )
            )
    finally:
        await db.close()


async def test_a_former_manager_no_longer_sees_the_employees_dialogue(people, graph):
    graph.directory.add_user(
        STAYING.aad_object_id, manager=MANAGER.aad_object_id, name=STAYING.name
    )
    manager = people(MANAGER)
    await choose_employee(manager, EMPLOYEE.name)
    await choose_employee(manager, STAYING.name)
    before = await status_card(manager)
    assert EMPLOYEE.name in card_text(before) and STAYING.name in card_text(before)

    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    after = await status_card(manager)
    text = card_text(after)
    assert EMPLOYEE.name not in text, "not the name, not on a button either"
    assert [f["title"] for f in _facts(after.card)] == [STAYING.name], "one dialogue's state"
    assert [a["title"] for a in after.card["actions"] if "Fortsæt" in a["title"]] == [
        f"Fortsæt: {STAYING.name}"
    ]
    assert SOME_NOT_SHOWN not in text, "Graph answered: nothing is missing for a lack of it"


async def test_a_former_manager_no_longer_sees_the_agreements_action_items(people, graph):
    manager, employee = people(MANAGER), people(EMPLOYEE)
    await confirmed_agreement(manager, employee)
    sent = await manager.say("status")
    assert any(EMPLOYEE.name in json.dumps(s.card, ensure_ascii=False) for s in sent[1:]), (
        "the card of the manager's action items names her"
    )
    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    sent = await manager.say("status")
    assert not any(EMPLOYEE.name in json.dumps(s.card, ensure_ascii=False) for s in sent)


async def test_many_dialogues_are_checked_in_batches_not_one_request_each(people, db_path, graph):
    await seed_dialogues(db_path, graph, led=26, moved=4)
    manager = people(MANAGER)
    await manager.say("hjælp")  # the groups are asked at the first turn: not counted below
    http, batches = graph.stats.http, graph.stats.batches
    card = await status_card(manager)
    assert shown_rows(card) == 26
    assert "Flyttet" not in card_text(card)
    # 30 employees: two $batch requests (20 + 10) for their managers, and once for all four
    # they do not manage: is the manager HR (their groups)?
    assert graph.stats.batches - batches == 2
    assert graph.stats.http - http == 3


async def test_with_the_cache_on_status_asks_graph_only_what_it_does_not_know(
    session, connector, db_path, graph
):
    server = BotServer(db_path, **access_settings(graph, access_cache_minutes=5))
    await server.start()
    try:
        manager = TeamsClient(session, server, connector, MANAGER)
        await choose_employee(manager, EMPLOYEE.name)  # her manager is asked and kept
        await seed_dialogues(db_path, graph, led=3, moved=0)
        http, batches, inner = graph.stats.http, graph.stats.batches, graph.stats.inner
        card = await status_card(manager)
        assert EMPLOYEE.name in card_text(card) and shown_rows(card) == 3
        # One $batch for the three employees not asked before; the kept answer is not asked.
        assert (graph.stats.batches - batches, graph.stats.inner - inner) == (1, 3)
        assert graph.stats.http - http == 1
        await status_card(manager)  # everything is kept now: Graph is not asked at all
        assert graph.stats.http - http == 1
    finally:
        await server.stop()


async def test_when_the_leaders_groups_cannot_be_read_they_are_asked_once_per_status(
    people, db_path, graph
):
    await seed_dialogues(db_path, graph, led=2, moved=4)
    manager = people(MANAGER)
    await manager.say("hjælp")
    graph.directory.forbidden_kinds = {"checkMemberGroups"}  # no GroupMember.Read.All
    asked = graph.directory.requests.get("checkMemberGroups", 0)
    card = await status_card(manager)
    assert shown_rows(card) == 2
    assert "Flyttet" not in card_text(card)
    assert SOME_NOT_SHOWN in card_text(card), "four could not be checked: is the leader HR?"
    assert graph.directory.requests["checkMemberGroups"] - asked == 1, "not once per employee"


async def test_a_refusal_inside_a_batch_is_logged_as_a_missing_permission(
    people, db_path, graph, caplog
):
    await seed_dialogues(db_path, graph, led=3, moved=0)
    manager = people(MANAGER)
    graph.directory.forbidden_kinds = {"manager"}  # 403 for each request inside the $batch
    card = await status_card(manager)
    assert SOME_NOT_SHOWN in card_text(card)
    refused = [r for r in caplog.records if "inside $batch" in r.getMessage()]
    assert refused and refused[0].levelname == "ERROR"
    assert "check the app's Graph permissions" in refused[0].getMessage()


UNAVAILABLE = {
    "403-missing-permission": "forbidden",
    "429-retry-after": Faults(throttle=1.0, retry_after=30),
    "429-inside-the-batch": Faults(batch_throttle=1.0, retry_after=30),
    "timeout": Faults(timeout=1.0, hang=2.0),
}


@pytest.mark.parametrize("case", list(UNAVAILABLE), ids=list(UNAVAILABLE))
async def test_when_graph_cannot_answer_unchecked_dialogues_are_left_out_and_said(
    case, people, db_path, graph, caplog
):
    caplog.set_level("DEBUG")
    manager = people(MANAGER)
    await choose_employee(manager, EMPLOYEE.name)
    break_graph(graph, UNAVAILABLE[case])
    card = await status_card(manager)
    text = card_text(card)
    assert EMPLOYEE.name not in text
    assert "Emne 1" not in text, "not the dialogue's state either"
    assert SOME_NOT_SHOWN in text
    assert EMPLOYEE.aad_object_id not in caplog.text and EMPLOYEE.name not in caplog.text


async def test_in_english_the_manager_is_told_in_english(people, db_path, graph):
    manager = people(User(MANAGER.name, MANAGER.aad_object_id, "en-US"))
    await choose_employee(manager, EMPLOYEE.name)
    graph.directory.forbidden = True
    card = await status_card(manager)
    assert SOME_NOT_SHOWN_EN in card_text(card)
    assert EMPLOYEE.name not in card_text(card)
