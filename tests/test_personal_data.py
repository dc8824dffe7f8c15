"""GDPR and HR: a user's own data and its export, HR's list and export for their units (never
self-check answers), HR's erasure of one person, and the retention job."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from store.database import Database
from store.personal_data import PersonalData
from tests.answers import SELF_CHECK_ANSWERS, STEP_ANSWERS
from tests.conftest import EMPLOYEE, MANAGER
from tests.databases import rows
from tests.dbsnapshot import snapshot
from tests.harness import BotServer, TeamsClient, action_data, texts_of
from tests.test_employee_side import answer_step, card_with, do_self_check

pytestmark = pytest.mark.both_engines

HR_ID = "44444444-4444-4444-4444-444444444444"
HR_ALL_ID = "55555555-5555-5555-5555-555555555555"


@pytest.fixture
async def bot(db_path):
    """The bot with one HR user for Borgerservice and one for every unit."""
    server = BotServer(db_path, hr_users=f"{HR_ID}:Borgerservice, {HR_ALL_ID}:*")
    await server.start()
    yield server
    await server.stop()


def person(name: str, object_id: str):
    from tests.harness import User

    return User(name, object_id)


async def concluded_dialogue(manager: TeamsClient, employee: TeamsClient, unit: str) -> None:
    await employee.say("hjælp")
    await manager.say("start")
    answers = {
        **STEP_ANSWERS,
        "employee": {**STEP_ANSWERS["employee"], "employee": employee.user.name, "unit": unit},
    }
    for step in STEP_ANSWERS:
        await answer_step(manager, step, answers)
    review = manager.last_card()
    await manager.submit(review, action_data(review.card, "conclude"))


def joined(sent) -> str:
    return "\n".join(texts_of(sent))


async def test_my_data_shows_and_exports_only_my_data(manager, employee, outsider):
    await concluded_dialogue(manager, employee, "Borgerservice")
    await do_self_check(employee)
    card = (await employee.say("mine data"))[0]
    facts = {f["title"]: f["value"] for f in card.card["body"][2]["facts"]}
    assert (
        facts["Samtaler om dig"] == "1"
        and facts["Selvtjek"] == "1"
        and facts["Aftaler (alle versioner)"] == "1"
    )
    exported = joined(await employee.submit(card, action_data(card.card, "my_data_export")))
    assert exported.startswith("```json") and "Privat note om stuen" in exported
    document = json.loads(exported.removeprefix("```json\n").removesuffix("\n```"))
    assert document["user_id"] == EMPLOYEE.aad_object_id
    assert document["self_checks"][0]["answers"]["sc_equipment"]["sc_laptop_hours"] == 4.0
    # Someone else's export holds none of it.
    other = joined(await outsider.submit(card, action_data(card.card, "my_data_export")))
    assert (
        "Privat note om stuen" not in other
        and "Mette" not in other
        and "Hemmelig note" not in other
    )


async def test_hr_sees_agreement_records_of_their_units_only(session, bot, connector, db_path):
    ole = TeamsClient(
        session, bot, connector, person("Ole Olsen", "66666666-6666-6666-6666-666666666666")
    )
    manager, employee = (
        TeamsClient(session, bot, connector, MANAGER),
        TeamsClient(session, bot, connector, EMPLOYEE),
    )
    await concluded_dialogue(manager, employee, "Borgerservice")
    await do_self_check(employee)
    await concluded_dialogue(manager, ole, "Jobcenter")
    hr = TeamsClient(session, bot, connector, person("Hanne HR", HR_ID))
    listing = (await hr.say("HR"))[0]
    text = json.dumps(listing.card, ensure_ascii=False)
    assert "Mette Sørensen (Borgerservice)" in text and "Ole Olsen" not in text
    exported = joined(await hr.submit(listing, action_data(listing.card, "hr_export")))
    records = json.loads(exported.removeprefix("```json\n").removesuffix("\n```"))
    assert [r["employee"] for r in records] == ["Mette Sørensen"]
    assert records[0]["rules"] and records[0]["decision"] == "approved_with_conditions"
    for private in (
        "Privat note om stuen",
        "Hemmelig note om opgaver",
        "answers",
        "sc_",
        "Låst skærm",
    ):
        assert private not in exported
    everyone = TeamsClient(session, bot, connector, person("Anna HR", HR_ALL_ID))
    all_records = joined(await everyone.say("hr eksport"))
    assert "Ole Olsen" in all_records and "Mette Sørensen" in all_records


@pytest.mark.parametrize("command", ["hr", "hr eksport", f"hr slet {EMPLOYEE.aad_object_id}"])
async def test_hr_commands_are_refused_for_others(manager, employee, outsider, db_path, command):
    await concluded_dialogue(manager, employee, "Borgerservice")
    before = snapshot(db_path)
    sent = await outsider.say(command)
    assert texts_of(sent) == ["Det kræver HR-adgang, som du ikke har. Intet er vist eller ændret."]
    assert snapshot(db_path) == before


async def test_erasure_removes_exactly_one_persons_local_data(session, bot, connector, db_path):
    manager, employee = (
        TeamsClient(session, bot, connector, MANAGER),
        TeamsClient(session, bot, connector, EMPLOYEE),
    )
    ole = TeamsClient(
        session, bot, connector, person("Ole Olsen", "66666666-6666-6666-6666-666666666666")
    )
    await concluded_dialogue(manager, employee, "Borgerservice")
    await do_self_check(employee)
    await concluded_dialogue(manager, ole, "Jobcenter")
    limited = TeamsClient(session, bot, connector, person("Hanne HR", HR_ID))
    assert "HR-adgang" in joined(await limited.say(f"hr slet {EMPLOYEE.aad_object_id}"))
    hr = TeamsClient(session, bot, connector, person("Anna HR", HR_ALL_ID))
    said = joined(await hr.say(f"hr slet {EMPLOYEE.aad_object_id}"))
    assert "1 selvtjek, 1 samtaler, 1 aftaleversioner, 0 opgaver og 0 ønsker om en samtale" in said
    assert rows(db_path, "SELECT COUNT(*) FROM self_checks") == [(0,)]
    assert rows(db_path, "SELECT employee_name FROM dialogues") == [("Ole Olsen",)]
    assert rows(db_path, "SELECT COUNT(*) FROM agreements") == [(1,)]
    assert rows(
        db_path, "SELECT COUNT(*) FROM conversation_refs WHERE user_id = ?", EMPLOYEE.aad_object_id
    ) == [(0,)]
    assert rows(db_path, "SELECT manager_name FROM dialogues") == [("Lone Leder",)]


async def test_retention_deletes_only_old_self_checks_of_finished_dialogues(
    db_path, manager, employee, outsider
):
    await concluded_dialogue(manager, employee, "Borgerservice")
    await do_self_check(employee)  # Mette: her dialogue awaits her confirmation
    await outsider.say("selvtjek")  # the outsider: a self-check, no dialogue
    for step in SELF_CHECK_ANSWERS:
        await answer_step(outsider, step, SELF_CHECK_ANSWERS)
    db = Database(db_path)
    await db.open()
    try:
        data = PersonalData(db)
        assert await data.purge_self_checks(datetime.now(UTC), 365) == 0  # all recent
        later = datetime.now(UTC) + timedelta(days=400)
        assert (
            await data.purge_self_checks(later, 365) == 1
        )  # the outsider's; Mette's dialogue is open
        remaining = rows(db_path, "SELECT employee_id FROM self_checks")
        assert remaining == [(EMPLOYEE.aad_object_id,)]
    finally:
        await db.close()
    to_confirm = card_with(employee, "Bekræft")
    await employee.submit(to_confirm, action_data(to_confirm.card, "confirm"))
    db = Database(db_path)
    await db.open()
    try:
        later = datetime.now(UTC) + timedelta(days=400)
        assert await PersonalData(db).purge_self_checks(later, 365) == 1  # now finished too
    finally:
        await db.close()
