"""The employee's own request with the access checks on, through the real HTTP endpoint,
against the local Graph server's directory (tests/access_directory.py): the request (and the
self-check it carries) goes only to someone Entra ID names as leading the employee; "Start
samtalen" is checked like "start", so someone who no longer leads the employee is refused
with nothing stored and nothing said to the employee; a directory that does not answer sends
nothing and starts nothing."""

from __future__ import annotations

import json

import pytest

from tests.access_directory import NEW_MANAGER
from tests.conftest import EMPLOYEE, MANAGER, OTHER
from tests.databases import rows
from tests.dbsnapshot import snapshot
from tests.follow_up_flow import card_with_verb, has_verb, said
from tests.harness import TeamsClient, action_data

pytestmark = pytest.mark.both_engines

NOT_THEIR_MANAGER = "er du ikke (længere) leder for den medarbejder, der har bedt om samtalen"
NOT_YOUR_MANAGER = "er den person, du har skrevet under »Din leder«, ikke din leder"
CANNOT_CHECK = "Jeg kan ikke tjekke i kommunens brugerkatalog lige nu, hvem der er din leder"
UNAVAILABLE = "Jeg kan ikke tjekke din adgang lige nu"


def card_text(sent) -> str:
    return json.dumps(sent.current, ensure_ascii=False)


async def send_request(employee: TeamsClient, manager_name: str):
    form = (await employee.say("bed om samtale"))[0]
    data = {**action_data(form.card, "request_send"), "manager": manager_name}
    await employee.submit(form, data)
    return form


def requests_of(db_path) -> list:
    return rows(db_path, "SELECT manager_id, state FROM conversation_requests")


async def test_the_request_goes_only_to_someone_who_leads_the_employee(people, db_path, graph):
    employee, colleague, manager = people(EMPLOYEE), people(OTHER), people(MANAGER)
    for user in (employee, colleague, manager):
        await user.say("hjælp")
    # A colleague named as the manager: refused on the card, nothing stored or sent to them.
    form = await send_request(employee, OTHER.name)
    assert NOT_YOUR_MANAGER in card_text(form)
    assert requests_of(db_path) == []
    assert not [s for s in colleague.seen() if s.card and has_verb(s.card, "request_start")]
    # The manager Entra ID names: sent.
    await send_request(employee, MANAGER.name)
    assert requests_of(db_path) == [(MANAGER.aad_object_id, "open")]
    assert [s for s in manager.seen() if s.card and has_verb(s.card, "request_start")]


async def test_a_directory_that_does_not_answer_sends_no_request(people, db_path, graph):
    employee, manager = people(EMPLOYEE), people(MANAGER)
    await employee.say("hjælp")
    await manager.say("hjælp")
    graph.directory.forbidden = True
    form = await send_request(employee, MANAGER.name)
    assert CANNOT_CHECK in card_text(form)
    assert requests_of(db_path) == []
    assert not [s for s in manager.seen() if s.card and has_verb(s.card, "request_start")]


async def test_start_samtalen_is_refused_once_the_employee_has_another_manager(
    people, db_path, graph
):
    employee, manager = people(EMPLOYEE), people(MANAGER)
    await employee.say("hjælp")
    await manager.say("hjælp")
    await send_request(employee, MANAGER.name)
    card = card_with_verb(manager, "request_start")
    start = action_data(card.card, "request_start")
    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    before, heard = snapshot(db_path), len(employee.seen())

    sent = await manager.submit(card, start)
    assert NOT_THEIR_MANAGER in said(sent), said(sent)
    assert not [s for s in sent if s.card], "no card of a dialogue was shown"
    assert snapshot(db_path) == before
    assert requests_of(db_path) == [(MANAGER.aad_object_id, "open")]
    assert len(employee.seen()) == heard, "the employee was not told anything"

    # The directory does not answer: refused the same way, nothing started.
    graph.directory.set_manager(EMPLOYEE.aad_object_id, MANAGER.aad_object_id)
    graph.directory.forbidden = True
    sent = await manager.submit(card, start)
    assert UNAVAILABLE in said(sent) and snapshot(db_path) == before

    # Entra ID names the manager again: the dialogue starts, once.
    graph.directory.forbidden = False
    await manager.submit(card, start)
    assert rows(db_path, "SELECT employee_id, step FROM dialogues") == [
        (EMPLOYEE.aad_object_id, "tasks")
    ]
    assert requests_of(db_path) == [(MANAGER.aad_object_id, "handled")]
    assert len(employee.seen()) == heard + 1


async def test_someone_else_pressing_the_request_is_still_told_it_is_not_theirs(
    people, db_path, graph
):
    employee, manager, colleague = people(EMPLOYEE), people(MANAGER), people(OTHER)
    await employee.say("hjælp")
    await manager.say("hjælp")
    await send_request(employee, MANAGER.name)
    card = card_with_verb(manager, "request_start")
    sent = await colleague.submit(card, action_data(card.card, "request_start"))
    assert "Det ønske er ikke sendt til dig" in said(sent), said(sent)
    assert rows(db_path, "SELECT count(*) FROM dialogues") == [(0,)]
