"""The employee's own request for a conversation over the real HTTP endpoint, in Danish and
English: from the welcome card, the command and the self-check's end; the manager named by a
typed name (local mode) or the people picker (Teams); the self-check attached; "Start
samtalen" opening the dialogue with "the employee wished it" filled in; and a second press,
a double click and someone else's press answered politely with one effect."""

from __future__ import annotations

import json

import pytest

from tests.answers import SELF_CHECK_ANSWERS
from tests.databases import rows
from tests.dbsnapshot import snapshot
from tests.follow_up_flow import (
    EMPLOYEES,
    MANAGERS,
    card_with_verb,
    has_verb,
    said,
    texts,
    twice,
)
from tests.harness import BotServer, TeamsClient, action_data, inputs

pytestmark = pytest.mark.both_engines

COMMANDS = {"da-DK": "bed om samtale", "en-US": "request"}


@pytest.fixture(params=("da-DK", "en-US"))
def pair(request, session, bot, connector) -> tuple[TeamsClient, TeamsClient]:
    locale = request.param
    return (
        TeamsClient(session, bot, connector, MANAGERS[locale]),
        TeamsClient(session, bot, connector, EMPLOYEES[locale]),
    )


def dumped(card) -> str:
    return json.dumps(card, ensure_ascii=False)


async def self_check(employee: TeamsClient) -> None:
    await employee.say("selvtjek")
    for step, answers in SELF_CHECK_ANSWERS.items():
        card = card_with_verb(employee, "sc_next")
        data = action_data(card.card, "sc_next")
        assert data["step"] == step
        await employee.submit(card, {**data, **answers})


async def test_a_request_with_the_self_check_starts_the_dialogue(pair, outsider, db_path):
    manager, employee = pair
    tm, te = texts(manager), texts(employee)
    await manager.say("help")  # the manager has the app: the bot knows them by name
    # The welcome card, as on installing the app, offers the request.
    assert await employee.post(employee.activity("installationUpdate", action="add")) == 201
    welcome = employee.last_card()
    assert has_verb(welcome.card, "request")
    await employee.say("help")  # the bot learns the employee's name
    await self_check(employee)
    result = employee.last_card()
    assert has_verb(result.card, "request")  # offered after the self-check
    sent = await employee.submit(result, action_data(result.card, "request"))
    form = sent[-1]
    fields = inputs(form.card)
    assert fields["manager"]["type"] == "Input.Text"  # local mode: a typed name
    assert fields["attach_self_check"]["type"] == "Input.Toggle"

    # A name nobody has is refused on the same card; nothing is stored.
    send = action_data(form.card, "request_send")
    before = snapshot(db_path)
    assert await employee.submit(form, {**send, "manager": "Ingen Sådan"}) == []
    label = te("fields.manager.label")
    assert te("errors.manager_unknown", label=label) in dumped(form.card)
    assert snapshot(db_path) == before

    form = (await employee.say(COMMANDS[employee.user.locale]))[0]
    data = {**send, "manager": manager.user.name, "attach_self_check": "true"}
    await twice(employee, form, data)
    assert rows(db_path, "SELECT kind, state, manager_id FROM conversation_requests") == [
        ("conversation", "open", manager.user.aad_object_id)
    ]
    told = said(employee.seen())
    assert te("request.sent", manager=manager.user.name) in told
    assert te("request.already_sent", manager=manager.user.name) in told
    received = [s for s in manager.seen() if s.card and has_verb(s.card, "request_start")]
    assert len(received) == 1  # sent once
    card = received[0]
    shown = dumped(card.card)
    assert tm("request.conversation_body", employee=employee.user.name) in shown
    assert tm("self_check.manager_title") in shown and tm("flags.chair.manager") in shown

    # Someone else cannot start it; the manager's double click starts one dialogue.
    start = action_data(card.card, "request_start")
    sent = await outsider.submit(card, start)
    assert said(sent) == texts(outsider)("request.not_yours")
    await twice(manager, card, start)
    assert rows(db_path, "SELECT count(*) FROM dialogues") == [(1,)]
    assert rows(db_path, "SELECT state FROM conversation_requests") == [("handled",)]
    answers = json.loads(rows(db_path, "SELECT answers FROM dialogues")[0][0])
    assert answers["employee"]["initiated_by"] == "employee"
    assert rows(db_path, "SELECT employee_id, step FROM dialogues") == [
        (employee.user.aad_object_id, "tasks")
    ]
    assert tm("request.started", employee=employee.user.name) in said(manager.seen())
    tasks = card_with_verb(manager, "next")
    assert tm("self_check.manager_title") in dumped(tasks.card)  # the self-check beside it
    assert te("request.employee_told", manager=manager.user.name) in said(employee.seen())
    # Pressed again later: already handled, nothing changes.
    before = snapshot(db_path)
    sent = await manager.submit(card, start)
    assert said(sent) == tm("request.handled")
    assert snapshot(db_path) == before


async def test_without_a_self_check_the_request_says_so(pair, db_path):
    manager, employee = pair
    await manager.say("help")
    form = (await employee.say(COMMANDS[employee.user.locale]))[0]
    assert "attach_self_check" not in inputs(form.card)
    assert texts(employee)("request.no_self_check") in dumped(form.card)
    data = {**action_data(form.card, "request_send"), "attach_self_check": "true"}
    await employee.submit(form, {**data, "manager": manager.user.name})
    assert rows(db_path, "SELECT self_check_id FROM conversation_requests") == [(None,)]
    card = card_with_verb(manager, "request_start")
    assert texts(manager)("self_check.manager_title") not in dumped(card.card)


async def test_the_people_picker_names_the_manager_in_teams(tmp_path, session, connector):
    from tests.conftest import EMPLOYEE, MANAGER

    server = BotServer(tmp_path / "picker.sqlite3", people_picker="graph")
    await server.start()
    try:
        employee = TeamsClient(session, server, connector, EMPLOYEE)
        form = (await employee.say("bed om samtale"))[0]
        picker = inputs(form.card)["manager"]
        assert picker["type"] == "Input.ChoiceSet"
        assert picker["choices.data"]["dataset"] == "graph.microsoft.com/users"
        send = action_data(form.card, "request_send")
        assert await employee.submit(form, {**send, "manager": "x <script>"}) == []
        assert "Vælg din leder i listen" in dumped(form.card)
        assert await employee.submit(form, {**send, "manager": EMPLOYEE.aad_object_id}) == []
        assert "ikke dit eget" in dumped(form.card)
        await employee.submit(form, {**send, "manager": MANAGER.aad_object_id})
        # The manager had not written to the bot: the chat is created with the tenant.
        assert connector.created[0]["members"][0]["id"] == MANAGER.aad_object_id
        received = [s for s in connector.sent if s.conversation_id.startswith("a:created-")]
        assert "Start samtalen" in dumped(received[0].card)
        manager = TeamsClient(session, server, connector, MANAGER)
        start = action_data(received[0].card, "request_start")
        sent = await manager.submit(received[0], start)
        assert "Samtalen med Mette Sørensen er startet" in said(sent)
    finally:
        await server.stop()
