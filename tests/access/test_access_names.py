"""Choosing the employee by a typed name with the access checks on, through the real HTTP
endpoint, against the local Graph server's directory (tests/access_directory.py). A name
nobody who has written to the bot has is looked up in Entra ID ("List users" with
``startswith(displayName,'…')``): exactly one person proceeds (and the manager check
applies to them), several or none is said on the card with nothing stored and nothing sent;
an apostrophe in a name is quoted as OData wants it; a directory that answers 403, 429 or
not at all refuses politely; the typed name is never logged."""

from __future__ import annotations

import json

import pytest

from tests.access_directory import (
    NOT_YOURS_CARD,
    UNAVAILABLE_CARD,
    break_graph,
    choose_employee,
    dialogue_rows,
    shown,
)
from tests.answers import STEP_ANSWERS
from tests.conftest import EMPLOYEE, MANAGER, OTHER
from tests.databases import rows
from tests.graph_server import TOKEN, Faults
from tests.harness import TeamsClient, User, action_data

pytestmark = pytest.mark.both_engines

SEVERAL = "Flere personer passer på navnet under »Medarbejder«"
NOBODY = "hverken blandt dem, der har skrevet til mig, eller i kommunens brugerkatalog"
NAMESAKE = User("Mette Sørensen Holm", "88888888-8888-8888-8888-888888888888")
IRISH = User("Siobhán O'Brien", "99999999-9999-9999-9999-999999999999")


def chosen(db_path) -> list:
    return rows(db_path, "SELECT employee_id, employee_name, step FROM dialogues")


def field_label(manager: TeamsClient) -> str:
    return json.dumps(manager.last_card().current, ensure_ascii=False)


async def test_a_person_the_bot_does_not_know_is_found_in_entra_id(people, db_path, graph):
    manager = people(MANAGER)  # Mette Sørensen has never written to the bot
    sent = await choose_employee(manager, "mette")
    assert graph.directory.searched == ["mette"]
    # One person's name begins so: she is chosen, by her name in Entra ID.
    assert chosen(db_path) == [(EMPLOYEE.aad_object_id, EMPLOYEE.name, "tasks")]
    # She has no chat with the bot yet, so the manager is told to tell her.
    assert "Mette Sørensen" in " ".join(s.text or "" for s in sent)
    assert graph.directory.requests.get("manager", 0) >= 1, "and the manager check ran"


async def test_several_matches_ask_for_the_full_name(people, db_path, graph):
    graph.directory.add_user(
        NAMESAKE.aad_object_id, manager=MANAGER.aad_object_id, name=NAMESAKE.name
    )
    manager, employee = people(MANAGER), people(EMPLOYEE)
    await choose_employee(manager, "Mette")
    assert SEVERAL in shown(manager)
    assert chosen(db_path) == [(None, None, "employee")]
    assert employee.seen() == [], "the employee heard nothing"
    # The full name is exactly one of them, though the other's name begins with it too.
    await choose_employee(manager, "mette sørensen")
    assert chosen(db_path) == [(EMPLOYEE.aad_object_id, EMPLOYEE.name, "tasks")]


async def test_a_disabled_account_is_left_out(people, db_path, graph):
    # Mette Sørensen Holm has left: her account is disabled, but her user object is still there.
    graph.directory.add_user(
        NAMESAKE.aad_object_id, manager=MANAGER.aad_object_id, name=NAMESAKE.name, enabled=False
    )
    manager = people(MANAGER)
    await choose_employee(manager, "Mette")
    assert SEVERAL not in shown(manager)
    assert chosen(db_path) == [(EMPLOYEE.aad_object_id, EMPLOYEE.name, "tasks")]


async def test_only_a_disabled_account_by_that_name_is_nobody(people, db_path, graph):
    graph.directory.add_user(
        NAMESAKE.aad_object_id, manager=MANAGER.aad_object_id, name=NAMESAKE.name, enabled=False
    )
    manager = people(MANAGER)
    await choose_employee(manager, NAMESAKE.name)
    assert NOBODY in shown(manager)
    assert chosen(db_path) == [(None, None, "employee")]


async def test_the_local_directory_keeps_graphs_rule_for_account_enabled(session, graph):
    """``accountEnabled eq`` with ``startswith`` is a default query; ``ne`` and ``not`` only
    work as advanced queries (ConsistencyLevel: eventual and $count=true), as in Graph."""
    graph.directory.add_user(NAMESAKE.aad_object_id, name=NAMESAKE.name, enabled=False)
    token = {"Authorization": f"Bearer {TOKEN}"}

    async def names(expression: str, **extra: str) -> tuple[int, list]:
        params = {"$filter": f"startswith(displayName,'Mette') and {expression}", **extra}
        headers = {**token, **({"ConsistencyLevel": "eventual"} if extra else {})}
        async with session.get(f"{graph.url}/v1.0/users", params=params, headers=headers) as r:
            body = await r.json()
            return r.status, sorted(u["displayName"] for u in body.get("value", []))

    assert await names("accountEnabled eq true") == (200, [EMPLOYEE.name])
    assert await names("accountEnabled eq false") == (200, [NAMESAKE.name])
    assert (await names("accountEnabled ne false"))[0] == 400
    assert (await names("not(accountEnabled eq false)"))[0] == 400
    assert await names("accountEnabled ne false", **{"$count": "true"}) == (200, [EMPLOYEE.name])


async def test_nobody_by_that_name_says_so(people, db_path, graph):
    manager = people(MANAGER)
    await choose_employee(manager, "Zacharias Ingenting")
    assert NOBODY in shown(manager)
    assert chosen(db_path) == [(None, None, "employee")]


async def test_an_apostrophe_is_quoted_for_odata(people, db_path, graph):
    graph.directory.add_user(IRISH.aad_object_id, manager=MANAGER.aad_object_id, name=IRISH.name)
    manager = people(MANAGER)
    await choose_employee(manager, IRISH.name)
    assert graph.directory.searched == [IRISH.name]
    assert chosen(db_path) == [(IRISH.aad_object_id, IRISH.name, "tasks")]


async def test_the_manager_check_applies_to_the_person_found(people, db_path, graph):
    colleague, employee = people(OTHER), people(EMPLOYEE)
    await choose_employee(colleague, EMPLOYEE.name)
    assert NOT_YOURS_CARD in shown(colleague)
    assert [(r[1], r[2]) for r in dialogue_rows(db_path)] == [(None, "employee")]
    assert employee.seen() == []


FAULTS = {
    "403-missing-permission": "forbidden",
    "429-retry-after": Faults(throttle=1.0, retry_after=30),
    "timeout": Faults(timeout=1.0, hang=2.0),
}


@pytest.mark.parametrize("case", list(FAULTS), ids=list(FAULTS))
async def test_a_directory_that_cannot_answer_refuses_and_nothing_is_logged(
    case, people, db_path, graph, caplog
):
    caplog.set_level("DEBUG")
    manager = people(MANAGER)
    await manager.say("start")  # starting asks the groups: the card is there before the fault
    card = manager.last_card()
    break_graph(graph, FAULTS[case])
    typed = "Mette Sørensen"
    data = {**action_data(card.card, "next"), **STEP_ANSWERS["employee"], "employee": typed}
    await manager.submit(card, data)
    assert graph.directory.searched in ([typed], []), "only the name was asked, or nothing"
    assert UNAVAILABLE_CARD in shown(manager)
    assert chosen(db_path) == [(None, None, "employee")]
    assert typed not in caplog.text and "Mette" not in caplog.text
    assert EMPLOYEE.aad_object_id not in caplog.text


async def test_a_substitute_can_be_named_by_their_name_in_entra_id(people, db_path, graph):
    manager = people(MANAGER)  # Ole Udenforstående has never written to the bot
    sent = await manager.say(f"stedfortræder {OTHER.name}")
    assert any("stedfortræder kan nu" in (s.text or "") for s in sent)
    substitute = people(OTHER)
    await choose_employee(substitute, EMPLOYEE.name)
    assert chosen(db_path) == [(EMPLOYEE.aad_object_id, EMPLOYEE.name, "tasks")]


async def test_in_english_several_matches_and_nobody_are_said_in_english(people, db_path, graph):
    graph.directory.add_user(
        NAMESAKE.aad_object_id, manager=MANAGER.aad_object_id, name=NAMESAKE.name
    )
    manager = people(User(MANAGER.name, MANAGER.aad_object_id, "en-US"))
    await choose_employee(manager, "Mette")
    assert "More than one person matches the name" in shown(manager)
    await choose_employee(manager, "Zacharias Ingenting")
    assert "neither among the people who have written to me nor in the municipality" in shown(
        manager
    )
    assert chosen(db_path) == [(None, None, "employee")]
