"""`mine data`, its export, HR's erasure and the retention job include the employee's
requests for a conversation and every agreement version a follow-up made, in both locales."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from store.database import Database
from store.personal_data import PersonalData
from tests.databases import rows
from tests.follow_up_flow import (
    EMPLOYEES,
    MANAGERS,
    TODAY,
    card_with_verb,
    confirmed_agreement,
    press,
    said,
    texts,
)
from tests.harness import BotServer, TeamsClient, User, action_data

pytestmark = pytest.mark.both_engines

#: What the erasure removes beside the request: one dialogue with its two versions, one chat.
ERASED = {"self_checks": 0, "dialogues": 1, "agreements": 2, "conversations": 1, "requests": 1}

HR = {
    "da-DK": User("Anna HR", "66666666-6666-6666-6666-666666666666", "da-DK"),
    "en-US": User("Adele Vance", "77777777-7777-7777-7777-777777777777", "en-US"),
}


@pytest.fixture
async def bot(db_path):
    hr = ", ".join(f"{u.aad_object_id}:*" for u in HR.values())
    server = BotServer(db_path, hr_users=hr)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(params=("da-DK", "en-US"))
def people(request, session, bot, connector) -> tuple[TeamsClient, TeamsClient, TeamsClient]:
    locale = request.param
    return tuple(  # type: ignore[return-value]
        TeamsClient(session, bot, connector, u[locale]) for u in (MANAGERS, EMPLOYEES, HR)
    )


async def two_versions_and_a_request(manager: TeamsClient, employee: TeamsClient) -> str:
    """Version 1 confirmed, a follow-up concluded as version 2, and a request handled."""
    await confirmed_agreement(manager, employee, follow_up_date=TODAY)
    comment = "Nye opgaver" if employee.user.locale == "da-DK" else "New tasks"
    await press(employee, "ask_follow_up", comment=comment)
    await press(manager, "follow_up")
    sent = await press(manager, "conclude")  # the outcome needs a new date
    outcome = sent[-1]
    later = (datetime.fromisoformat(TODAY) + timedelta(days=30)).date().isoformat()
    data = action_data(outcome.card, "next")
    values = {"decision": "approved", "follow_up_date": later}
    await manager.submit(outcome, {**data, **values})
    await press(manager, "conclude")
    return comment


async def test_my_data_and_its_export_list_requests_and_versions(people, db_path):
    manager, employee, _ = people
    te = texts(employee)
    comment = await two_versions_and_a_request(manager, employee)
    card = (await employee.say("my data" if employee.user.locale == "en-US" else "mine data"))[0]
    facts = {f["title"]: f["value"] for f in card.card["body"][2]["facts"]}
    assert facts[te("my_data.conversation_requests")] == "1"
    assert facts[te("my_data.agreements")] == "2"
    exported = json.loads(
        "".join(
            s.text or ""
            for s in await employee.submit(card, action_data(card.card, "my_data_export"))
        )
        .strip("`\n")
        .removeprefix("json\n")
    )
    [request] = exported["conversation_requests"]
    assert request["comment"] == comment and request["state"] == "handled"
    assert [a["version"] for a in exported["agreements"]] == [1, 2]
    # The manager's export holds the request sent to them, too.
    theirs = await manager.say("my data" if manager.user.locale == "en-US" else "mine data")
    facts = {f["title"]: f["value"] for f in theirs[0].card["body"][2]["facts"]}
    assert facts[texts(manager)("my_data.conversation_requests")] == "1"


async def test_erasure_and_retention_include_the_requests(people, db_path):
    manager, employee, hr = people
    await two_versions_and_a_request(manager, employee)
    # Both confirmed versions have their action items; they go with the agreements.
    [(items,)] = rows(db_path, "SELECT COUNT(*) FROM action_items")
    assert items > 0
    told = said(await hr.say(f"hr slet {employee.user.aad_object_id}"))
    th = texts(hr)
    erased = th("hr.erased", **ERASED, action_items=items, dialogues_as_manager=0)
    assert erased.split(".")[0] in told
    assert rows(db_path, "SELECT COUNT(*) FROM action_items") == [(0,)]
    assert rows(db_path, "SELECT COUNT(*) FROM conversation_requests") == [(0,)]
    assert rows(db_path, "SELECT COUNT(*) FROM agreements") == [(0,)]

    # Retention: a handled request goes after the period, an open one stays.
    await employee.say("help")
    form = (await employee.say("request"))[0]
    await employee.submit(
        form, {**action_data(form.card, "request_send"), "manager": manager.user.name}
    )
    await press(manager, "request_start")
    other = TeamsClient(employee.session, employee.bot, employee.connector, HR[hr.user.locale])
    await manager.say("help")
    form = (await other.say("request"))[0]
    await other.submit(
        form, {**action_data(form.card, "request_send"), "manager": manager.user.name}
    )
    assert sorted(rows(db_path, "SELECT state FROM conversation_requests")) == [
        ("handled",),
        ("open",),
    ]
    db = Database(db_path)
    await db.open()
    try:
        data = PersonalData(db)
        assert await data.purge_requests(datetime.now(UTC), 365) == 0
        assert await data.purge_requests(datetime.now(UTC) + timedelta(days=400), 365) == 1
    finally:
        await db.close()
    assert rows(db_path, "SELECT state FROM conversation_requests") == [("open",)]
    assert card_with_verb(manager, "request_start")
