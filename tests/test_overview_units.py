"""The employee's unit for the anonymous overview, through the real HTTP endpoint: with the
directory on, the department Entra ID gives when the manager chooses the employee is kept on
the dialogue (casefolded, and as spelled); where no department is known (local mode), the
unit the manager wrote on the first card is."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from store.database import Database
from store.overview import known_units
from tests.answers import STEP_ANSWERS
from tests.conftest import EMPLOYEE, MANAGER
from tests.databases import rows
from tests.graph_server import GraphServer
from tests.harness import BotServer, TeamsClient, action_data

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def graph(monkeypatch) -> AsyncIterator[GraphServer]:
    server = GraphServer()
    await server.start()
    for key, value in server.identity_env().items():
        monkeypatch.setenv(key, value)
    server.directory.add_user(
        EMPLOYEE.aad_object_id, manager=MANAGER.aad_object_id, department="Børn og Unge"
    )
    server.directory.add_user(MANAGER.aad_object_id, department="Børn og Unge")
    yield server
    await server.stop()


async def choose_employee(session, bot, connector) -> None:
    employee = TeamsClient(session, bot, connector, EMPLOYEE)
    await employee.say("hjælp")  # known to the bot, so the typed name finds them
    manager = TeamsClient(session, bot, connector, MANAGER)
    await manager.say("start")
    card = manager.last_card()
    data = action_data(card.card, "next")
    await manager.submit(card, {**data, **STEP_ANSWERS["employee"], "employee": EMPLOYEE.name})
    assert action_data(manager.last_card().card, "next")["step"] == "tasks"


async def test_the_department_in_entra_id_is_kept_on_the_dialogue(
    session, connector, db_path, graph
):
    bot = BotServer(
        db_path,
        access_checks="graph",
        graph_credential="managed_identity",
        graph_host=graph.url,
        graph_wait_scale=0.01,
        access_timeout=0.5,
    )
    await bot.start()
    try:
        await choose_employee(session, bot, connector)
    finally:
        await bot.stop()
    assert rows(db_path, "SELECT employee_id, unit, unit_name FROM dialogues") == [
        (EMPLOYEE.aad_object_id, "børn og unge", "Børn og Unge")
    ]
    # One question for the department, beside the manager check.
    assert graph.directory.requests == {"manager": 1, "user": 1}
    db = Database(db_path)
    await db.open()
    try:
        assert await known_units(db) == ["Børn og Unge"]
    finally:
        await db.close()


async def test_in_local_mode_the_unit_is_the_one_the_manager_wrote(
    session, connector, db_path, bot
):
    await choose_employee(session, bot, connector)
    assert STEP_ANSWERS["employee"]["unit"] == "Borgerservice"
    assert rows(db_path, "SELECT unit, unit_name FROM dialogues") == [
        ("borgerservice", "Borgerservice")
    ]
