"""The tenant of the access tests (tests/access/): the people and groups the local
Graph server's directory holds (tests/graph_server.py), the bot's settings with the access
checks on, and the steps those tests share.

Borgerservice: Lone Leder manages Mette Sørensen; Hanne HR is HR there through a nested group.
Teknik: Nina Nyleder manages Frede Fjern; Henrik HR is HR for Teknik only. Ole Udenforstående
is a colleague in Borgerservice who leads no one. Every user has their display name in Entra
ID, so a typed name can be found there.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.answers import STEP_ANSWERS
from tests.conftest import EMPLOYEE, MANAGER, OTHER
from tests.databases import rows
from tests.graph_server import Faults, GraphServer
from tests.harness import TeamsClient, User, action_data

NEW_MANAGER = User("Nina Nyleder", "44444444-4444-4444-4444-444444444444")
HR_USER = User("Hanne HR", "55555555-5555-5555-5555-555555555555")
HR_ELSEWHERE = User("Henrik HR", "66666666-6666-6666-6666-666666666666")
FAR_EMPLOYEE = User("Frede Fjern", "77777777-7777-7777-7777-777777777777")
HR_GROUP = "aaaaaaaa-0000-0000-0000-000000000001"
HR_NESTED = "aaaaaaaa-0000-0000-0000-000000000002"
HR_TEKNIK = "aaaaaaaa-0000-0000-0000-000000000003"
MANAGERS = "aaaaaaaa-0000-0000-0000-000000000004"
MANAGERS_NESTED = "aaaaaaaa-0000-0000-0000-000000000005"

NOT_YOURS_CARD = "Ifølge kommunens brugerkatalog er du ikke leder for den medarbejder"
NOT_YOURS = "er du ikke (længere) leder for medarbejderen"
UNAVAILABLE_CARD = "Jeg kan ikke tjekke i kommunens brugerkatalog lige nu"
UNAVAILABLE = "Jeg kan ikke tjekke din adgang lige nu"


async def started_graph(monkeypatch: pytest.MonkeyPatch) -> GraphServer:
    """The local Graph server with the tenant above; the bot's managed identity points at it."""
    server = GraphServer()
    await server.start()
    for key, value in server.identity_env().items():
        monkeypatch.setenv(key, value)
    d = server.directory
    d.add_user(
        EMPLOYEE.aad_object_id,
        manager=MANAGER.aad_object_id,
        department="Borgerservice",
        name=EMPLOYEE.name,
    )
    d.add_user(
        FAR_EMPLOYEE.aad_object_id,
        manager=NEW_MANAGER.aad_object_id,
        department="Teknik",
        name=FAR_EMPLOYEE.name,
    )
    for user in (MANAGER, NEW_MANAGER, OTHER, HR_USER, HR_ELSEWHERE):
        d.add_user(user.aad_object_id, department="Borgerservice", name=user.name)
    # HR for Borgerservice through a nested group; HR_ELSEWHERE is HR for Teknik only.
    d.groups[HR_GROUP] = {HR_NESTED}
    d.groups[HR_NESTED] = {HR_USER.aad_object_id}
    d.groups[HR_TEKNIK] = {HR_ELSEWHERE.aad_object_id}
    d.groups[MANAGERS] = {MANAGERS_NESTED, NEW_MANAGER.aad_object_id}
    d.groups[MANAGERS_NESTED] = {MANAGER.aad_object_id}
    return server


def access_settings(graph: GraphServer, **extra: Any) -> dict[str, Any]:
    return {
        "access_checks": "graph",
        "graph_credential": "managed_identity",
        "graph_host": graph.url,
        "graph_wait_scale": 0.01,
        "access_timeout": 0.5,
        "access_cache_minutes": 0,  # every turn asks: a change in Entra ID counts at once
        "hr_groups": f"{HR_GROUP}:Borgerservice,{HR_TEKNIK}:Teknik",
        **extra,
    }


async def known(employee: TeamsClient) -> None:
    """The employee has written to the bot once, so a typed name finds them."""
    await employee.say("hjælp")


async def choose_employee(leader: TeamsClient, name: str = EMPLOYEE.name) -> list:
    await leader.say("start")
    card = leader.last_card()
    data = action_data(card.card, "next")
    assert data["step"] == "employee"
    return await leader.submit(card, {**data, **STEP_ANSWERS["employee"], "employee": name})


def shown(client: TeamsClient) -> str:
    """Every card the client has now in its chat (as updated in place), as one text."""
    return json.dumps([s.current for s in client.seen() if s.card], ensure_ascii=False)


def dialogue_rows(db_path: Any) -> list:
    return rows(db_path, "SELECT manager_id, employee_id, step, version FROM dialogues")


def break_graph(graph: GraphServer, fault: Faults | str, on: bool = True) -> None:
    """Make the local Graph server fail (``on``) or answer again: ``"forbidden"`` (403, a
    missing permission), ``"down"`` (no answer at all), or the injected ``Faults``."""
    if fault == "forbidden":
        graph.directory.forbidden = on
    elif fault == "down":
        graph.down = on
    else:
        assert isinstance(fault, Faults)
        graph.faults = fault if on else Faults()
