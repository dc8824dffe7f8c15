"""Follow-up actions as items, through the real bot: made when the agreement is confirmed,
each with its owner and deadline (the review card's, by default the policy's), shown in
`status`, marked done or not needed by their owner only, once, also when two presses arrive
together; in the manager's digest when overdue and on the employee's weekly card; in
`mine data`, the export, the erasure and the retention. Danish and English."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.answers import STEP_ANSWERS
from tests.databases import execute, rows
from tests.harness import TeamsClient, User, action_data, actions, inputs, texts_of
from tests.test_employee_side import answer_step, card_with, do_self_check

pytestmark = pytest.mark.both_engines

#: The bot's today is Copenhagen's (TIMEZONE).
TODAY = datetime.now(ZoneInfo("Europe/Copenhagen")).date()
#: The employee has no room to change working positions: an action the employee owns.
ANSWERS = {**STEP_ANSWERS, "ergonomics": {**STEP_ANSWERS["ergonomics"], "vary_positions": "no"}}
MANAGER_ITEMS = {
    "screen_work_rules",
    "separate_keyboard_mouse",
    "equipment_employee_wish",
    "offer_eye_test",
    "plan_breaks",
    "suitable_furniture",  # from the self-check: no suitable chair
    "rest_period",
}
GROUP_ITEMS = {"apv_covers_home"}
EMPLOYEE_ITEMS = {"room_for_positions"}


def text(sent) -> str:
    return json.dumps(sent.card, ensure_ascii=False) if sent.card else (sent.text or "")


def joined(sent: list) -> str:
    return " ".join(text(s) for s in sent)


def item_cards(client: TeamsClient, title: str) -> list:
    return [s for s in client.seen() if s.card is not None and title in text(s)]


def button(card: dict, item: str, status: str) -> dict:
    found = [
        a["data"]
        for a in actions(card)
        if a.get("data", {}).get("item") == item and a["data"]["status"] == status
    ]
    assert found, f"no button {status} for {item}"
    return found[0]


async def to_review(manager: TeamsClient, answers: dict) -> dict:
    await manager.say("start")
    for step in answers:
        await answer_step(manager, step, answers)
    return manager.last_card().card


async def confirmed(
    manager: TeamsClient, employee: TeamsClient, answers: dict = ANSWERS, **due: str
) -> None:
    """The employee takes the self-check, the manager concludes (with these deadlines on
    the review card), the employee confirms."""
    await employee.say("hjælp")
    await manager.say("start")
    await answer_step(manager, "employee", answers)
    await do_self_check(employee)
    for step in list(answers)[1:]:
        await answer_step(manager, step, answers)
    review = manager.last_card()
    chosen = {f"due_{key}": day for key, day in due.items()}
    await manager.submit(review, {**action_data(review.card, "conclude"), **chosen})
    to_confirm = [s for s in employee.seen() if s.card and action_data_or_none(s.card, "confirm")]
    await employee.submit(to_confirm[-1], action_data(to_confirm[-1].card, "confirm"))


def action_data_or_none(card: dict, verb: str) -> dict | None:
    try:
        return action_data(card, verb)
    except (AssertionError, StopIteration, IndexError, KeyError):
        return None


def stored(db_path) -> dict[str, tuple]:
    return {
        key: (owner, due, status, by)
        for key, owner, due, status, by in rows(
            db_path,
            "SELECT item_key, owner_role, due_date, status, status_by FROM action_items",
        )
    }


async def test_the_review_offers_a_deadline_per_action_and_confirmation_makes_the_items(
    manager, employee, db_path
):
    await employee.say("hjælp")
    review = await to_review(manager, ANSWERS)
    fields = inputs(review)
    eye = fields["due_offer_eye_test"]
    assert eye["type"] == "Input.Date" and eye["isRequired"]
    assert eye["value"] == (TODAY + timedelta(days=30)).isoformat()  # due_days in the policy
    assert eye["min"] == TODAY.isoformat()
    assert "Frist: Tilbyd en synsprøve (Lederen)" in eye["label"]
    assert fields["due_apv_covers_home"]["value"] == (TODAY + timedelta(days=90)).isoformat()
    assert "due_employee_contributes" not in fields  # a point to know is not an item
    # Nothing is an item before the employee confirms.
    sent = await manager.submit(
        manager.last_card(),
        {
            **action_data(review, "conclude"),
            "due_offer_eye_test": (TODAY + timedelta(days=10)).isoformat(),
        },
    )
    assert "sendt aftalen til Mette Sørensen" in joined(sent)
    assert rows(db_path, "SELECT count(*) FROM action_items") == [(0,)]
    record = json.loads(rows(db_path, "SELECT record FROM agreements")[0][0])
    dues = {a["key"]: a["due"] for a in record["actions"]}
    assert dues["offer_eye_test"] == (TODAY + timedelta(days=10)).isoformat()
    assert dues["employee_contributes"] is None

    to_confirm = card_with(employee, "Bekræft aftalen")
    # The agreement card says who does each action and by when.
    in_ten_days = (TODAY + timedelta(days=10)).strftime("%d-%m-%Y")
    assert f"Lederen, frist {in_ten_days}" in text(to_confirm)
    await employee.submit(to_confirm, action_data(to_confirm.card, "confirm"))
    items = stored(db_path)
    # No self-check here, so no furniture action from it.
    assert set(items) == (MANAGER_ITEMS - {"suitable_furniture"}) | GROUP_ITEMS | EMPLOYEE_ITEMS
    assert items["offer_eye_test"] == (
        "manager",
        (TODAY + timedelta(days=10)).isoformat(),
        "open",
        None,
    )
    assert items["apv_covers_home"][0] == "work_environment_group"
    assert items["room_for_positions"][0] == "employee"
    assert rows(db_path, "SELECT DISTINCT version FROM action_items") == [(1,)]


async def test_a_deadline_in_the_past_is_refused_and_nothing_is_concluded(manager, db_path):
    review = await to_review(manager, ANSWERS)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    sent = await manager.submit(
        manager.last_card(), {**action_data(review, "conclude"), "due_plan_breaks": yesterday}
    )
    assert "Vælg en frist fra i dag og højst et år frem." in joined(sent)
    assert rows(db_path, "SELECT count(*) FROM agreements") == [(0,)]
    again = sent[-1].card  # the review again, with today's defaults
    assert inputs(again)["due_plan_breaks"]["value"] == (TODAY + timedelta(days=14)).isoformat()
    sent = await manager.submit(
        manager.last_card(), {**action_data(review, "conclude"), "due_plan_breaks": "i morgen"}
    )
    assert "Vælg en frist" in joined(sent)
    assert rows(db_path, "SELECT state FROM dialogues") == [("in_progress",)]


async def test_edit_without_a_step_chosen_asks_for_one(manager, db_path):
    review = await to_review(manager, ANSWERS)
    assert not inputs(review)["edit_step"].get("isRequired")  # Conclude sends the deadlines
    sent = await manager.submit(manager.last_card(), action_data(review, "edit"))
    assert "Vælg det trin, du vil rette." in joined(sent)
    assert rows(db_path, "SELECT step, editing FROM dialogues") == [("review", 0)]


async def test_each_owner_sees_and_marks_only_their_own_items(manager, employee, outsider, db_path):
    await confirmed(manager, employee)

    # The employee's status: their one item, with its buttons.
    sent = await employee.say("status")
    assert "Dine åbne opgaver" in joined(sent) and "1 åbne, heraf 0 over fristen" in joined(sent)
    card = item_cards(employee, "Dine opgaver fra aftalerne")[-1]
    shown = text(card)
    assert "Plads til at skifte arbejdsstilling" in shown and "Aftalen med Lone Leder" in shown
    assert "Tilbyd en synsprøve" not in shown  # the manager's, not hers

    # The manager's: their own and the work-environment group's, not the employee's.
    await manager.say("status")
    manager_card = item_cards(manager, "Dine opgaver fra aftalerne")[-1]
    listed = {a["data"]["item"] for a in actions(manager_card.card) if "item" in a["data"]}
    assert listed == MANAGER_ITEMS | GROUP_ITEMS
    assert "Arbejdsmiljøgruppen står for den: giv den videre" in text(manager_card)

    # Someone else's item: the manager or an outsider pressing the employee's button.
    done = button(card.card, "room_for_positions", "done")
    for other in (manager, outsider):
        said = joined(await other.submit(card, done))
        assert "kun den, der står for den, markere" in said
    assert stored(db_path)["room_for_positions"][2] == "open"

    # The employee marks it done: who and when are kept, the card shows what is left.
    sent = await employee.submit(card, done)
    assert "Tak. Jeg har markeret »Plads til at skifte arbejdsstilling« som udført." in joined(sent)
    assert "Du har ingen åbne opgaver" in text(card)  # replaced in place
    (by, at), *_ = rows(
        db_path,
        "SELECT status_by, status_at FROM action_items WHERE item_key = 'room_for_positions'",
    )
    assert by == EMPLOYEE_ID and at.startswith(str(datetime.now(UTC).date()))
    # A replay of the old card, or the other button: nothing changes.
    for again in (done, button_of(done, "not_needed")):
        said = joined(await employee.submit(card, again))
        assert "allerede markeret som udført. Intet er ændret." in said
    assert stored(db_path)["room_for_positions"][2:] == ("done", EMPLOYEE_ID)

    # The manager marks one as not needed.
    sent = await manager.submit(
        manager_card, button(manager_card.card, "rest_period", "not_needed")
    )
    assert "»Tal om hvileperioden« som ikke nødvendig" in joined(sent)
    assert stored(db_path)["rest_period"][2:] == ("not_needed", MANAGER_ID)
    assert "Tal om hvileperioden" not in text(manager_card)


EMPLOYEE_ID = "22222222-2222-2222-2222-222222222222"
MANAGER_ID = "11111111-1111-1111-1111-111111111111"


def button_of(data: dict, status: str) -> dict:
    return {**data, "status": status}


async def test_tampered_and_malformed_item_submits_are_refused_politely(manager, employee, db_path):
    await confirmed(manager, employee)
    await employee.say("status")
    card = item_cards(employee, "Dine opgaver fra aftalerne")[-1]
    done = button(card.card, "room_for_positions", "done")
    for bad in (
        {**done, "status": "deleted"},
        {**done, "status": "open"},  # reopening is not a button
        {**done, "version": "1"},
        {**done, "item": "../x"},
        {**done, "version": 2},  # no such version
        {**done, "dialogue_id": "nope"},
        {k: v for k, v in done.items() if k != "item"},
    ):
        said = joined(await employee.submit(card, bad))
        assert "kun den, der står for den, markere" in said, bad
    assert stored(db_path)["room_for_positions"][2] == "open"


async def test_two_presses_that_arrive_together_mark_the_item_once(manager, employee, db_path):
    await confirmed(manager, employee)
    await employee.say("status")
    card = item_cards(employee, "Dine opgaver fra aftalerne")[-1]
    (revision,) = rows(db_path, "SELECT revision FROM sharepoint_outbox")[0]
    before = len(employee.seen())
    activity = employee.activity(value=button(card.card, "room_for_positions", "done"))
    activity["replyToId"] = card.id
    other = employee.activity(value=button(card.card, "room_for_positions", "not_needed"))
    other["replyToId"] = card.id
    statuses = await asyncio.gather(employee.post(activity), employee.post(other))
    assert statuses == [201, 201]
    said = texts_of(employee.seen()[before:])
    marked = [s for s in said if "Jeg har markeret" in s]
    refused = [s for s in said if "allerede markeret" in s]
    assert len(marked) == 1 and len(refused) == 1, said
    (status,) = rows(db_path, "SELECT status FROM action_items WHERE owner_role = 'employee'")[0]
    assert status in ("done", "not_needed")
    # One change, one more revision for SharePoint.
    assert rows(db_path, "SELECT revision FROM sharepoint_outbox") == [(revision + 1,)]


async def test_med_discussed_first_makes_an_item_for_the_manager(manager, employee, db_path):
    systematic = {**STEP_ANSWERS["tasks"], "systematic": "yes"}
    waits = {
        **STEP_ANSWERS,
        "tasks": systematic,
        "outcome": {**STEP_ANSWERS["outcome"], "med_discussed": "no"},
    }
    await confirmed(manager, employee, waits)
    items = stored(db_path)
    assert items["med_committee"][:1] == ("manager",)
    assert items["med_committee"][1] == (TODAY + timedelta(days=60)).isoformat()
    await manager.say("status")
    assert "Drøft hjemmearbejdet i MED-udvalget" in text(
        item_cards(manager, "Dine opgaver fra aftalerne")[-1]
    )


async def test_no_med_item_when_the_committee_has_discussed_it(manager, employee, db_path):
    discussed = {
        **STEP_ANSWERS,
        "tasks": {**STEP_ANSWERS["tasks"], "systematic": "yes"},
        "outcome": {**STEP_ANSWERS["outcome"], "med_discussed": "yes"},
    }
    await confirmed(manager, employee, discussed)
    assert "med_committee" not in stored(db_path)
    assert stored(db_path)  # the other actions are items


async def test_a_disputed_agreement_makes_no_items(manager, employee, db_path):
    await employee.say("hjælp")
    await to_review(manager, ANSWERS)
    review = manager.last_card()
    await manager.submit(review, action_data(review.card, "conclude"))
    to_confirm = card_with(employee, "Bekræft aftalen")
    await employee.submit(
        to_confirm, {**action_data(to_confirm.card, "dispute"), "comment": "For få dage"}
    )
    assert rows(db_path, "SELECT count(*) FROM action_items") == [(0,)]
    sent = await employee.say("status")
    assert not item_cards(employee, "Dine opgaver fra aftalerne")
    assert "Dine åbne opgaver" not in joined(sent)


async def test_items_are_in_my_data_the_export_and_the_erasure(manager, employee, db_path):
    await confirmed(manager, employee)
    card = (await employee.say("mine data"))[0]
    assert '"Opgaver fra aftalerne", "value": "9"' in text(card)  # 7 + 1 + 1 of her agreement
    exported = joined(await employee.submit(card, action_data(card.card, "my_data_export")))
    assert '"item_key": "room_for_positions"' in exported and '"status": "open"' in exported
    execute(db_path, "UPDATE action_items SET status = 'done', status_by = ?", EMPLOYEE_ID)
    # Erasure of the employee removes the items of the agreements about her.
    from store.database import Database
    from store.personal_data import PersonalData

    db = Database(db_path)
    await db.open()
    try:
        counts = await PersonalData(db).erase(EMPLOYEE_ID)
    finally:
        await db.close()
    assert counts["action_items"] == 9
    assert rows(db_path, "SELECT count(*) FROM action_items") == [(0,)]


async def test_retention_deletes_closed_items_only_after_the_period(manager, employee, db_path):
    from store.database import Database
    from store.personal_data import PersonalData

    await confirmed(manager, employee)
    long_ago = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    execute(
        db_path,
        "UPDATE action_items SET status = 'done', status_by = ?, status_at = ?"
        " WHERE item_key IN ('rest_period', 'plan_breaks')",
        MANAGER_ID,
        long_ago,
    )
    execute(
        db_path,
        "UPDATE action_items SET status = 'done', status_by = ?, status_at = ?"
        " WHERE item_key = 'offer_eye_test'",
        MANAGER_ID,
        datetime.now(UTC).isoformat(),
    )
    db = Database(db_path)
    await db.open()
    try:
        data = PersonalData(db)
        # With SharePoint on, an item waits until SharePoint has its last state.
        assert await data.purge_action_items(datetime.now(UTC), 365, sharepoint=True) == 0
        removed = await data.purge_action_items(datetime.now(UTC), 365)
    finally:
        await db.close()
    assert removed == 2
    left = stored(db_path)
    assert "rest_period" not in left and left["offer_eye_test"][2] == "done"
    assert left["room_for_positions"][2] == "open"  # open items stay with their agreement


# --- English ---------------------------------------------------------------------------------

EN_MANAGER = User("Linda Lead", "44444444-4444-4444-4444-444444444444", locale="en-US")
EN_EMPLOYEE = User("Mette Sørensen", "55555555-5555-5555-5555-555555555555", locale="en-US")


@pytest.fixture
def en_manager(session, bot, connector) -> TeamsClient:
    return TeamsClient(session, bot, connector, EN_MANAGER)


@pytest.fixture
def en_employee(session, bot, connector) -> TeamsClient:
    return TeamsClient(session, bot, connector, EN_EMPLOYEE)


async def test_in_english_the_items_are_shown_and_marked(en_manager, en_employee, db_path):
    await en_employee.say("help")
    review = await to_review(en_manager, ANSWERS)
    eye = inputs(review)["due_offer_eye_test"]
    assert "Deadline: Offer an eye test (The manager)" in eye["label"]
    assert "Deadlines for the actions" in json.dumps(review)
    await en_manager.submit(en_manager.last_card(), action_data(review, "conclude"))
    to_confirm = [
        s for s in en_employee.seen() if s.card and action_data_or_none(s.card, "confirm")
    ]
    await en_employee.submit(to_confirm[-1], action_data(to_confirm[-1].card, "confirm"))

    sent = await en_employee.say("status")
    assert "Your open actions" in joined(sent) and "1 open, 0 of them past the deadline" in joined(
        sent
    )
    card = item_cards(en_employee, "Your actions from the home working agreements")[-1]
    assert "Room to change working positions" in text(card)
    assert "The agreement with Linda Lead. Due" in text(card)
    done = button(card.card, "room_for_positions", "done")
    said = joined(await en_employee.submit(card, done))
    assert 'I\'ve marked "Room to change working positions" as done.' in said
    said = joined(await en_employee.submit(card, done))
    assert "already marked as done. Nothing has changed." in said
    said = joined(await en_manager.submit(card, button_of(done, "not_needed")))
    assert "Only the person responsible for that action can mark it." in said
    await en_manager.say("status")
    manager_card = text(item_cards(en_manager, "Your actions from the home working")[-1])
    assert "The working environment group is responsible: pass it on." in manager_card
    assert stored(db_path)["room_for_positions"][2:] == ("done", EN_EMPLOYEE.aad_object_id)


# --- the weekly reminders ---------------------------------------------------------------------


def day(value: str, locale: str = "da-DK") -> str:
    y, m, d = value.split("-")
    return f"{d}-{m}-{y}" if locale == "da-DK" else value


async def test_the_digest_lists_overdue_items_and_the_pulse_names_the_employees(
    bot, manager, employee, db_path
):
    from tests.test_reminders import run_at, send_time

    due = TODAY.isoformat()  # overdue from tomorrow on
    await confirmed(manager, employee, plan_breaks=due, room_for_positions=due)
    report = await run_at(bot, send_time(bot, 1))
    assert report["sent"] == 2, report
    digest = text([s for s in manager.seen() if s.card and "Din ugentlige oversigt" in text(s)][-1])
    assert "Opgaver, hvor fristen er overskredet" in digest
    assert f"Mette Sørensen: Aftal pauser og afveksling (frist {day(due)}, Lederen)" in digest
    assert f"Plads til at skifte arbejdsstilling (frist {day(due)}, Medarbejderen)" in digest
    assert "Tilbyd en synsprøve" not in digest  # not overdue
    pulse = text([s for s in employee.seen() if s.card and "Ugens puls" in text(s)][-1])
    assert (
        f"Det venter på dig fra jeres aftale: Plads til at skifte arbejdsstilling ({day(due)})"
        in pulse
    )
    assert "Aftal pauser" not in pulse  # the manager's item is not hers to do

    # Marked done: the next week's cards do not mention it.
    await employee.say("status")
    card = item_cards(employee, "Dine opgaver fra aftalerne")[-1]
    await employee.submit(card, button(card.card, "room_for_positions", "done"))
    await run_at(bot, send_time(bot, 2))
    pulse = text([s for s in employee.seen() if s.card and "Ugens puls" in text(s)][-1])
    assert "Det venter på dig" not in pulse
    digest = text([s for s in manager.seen() if s.card and "Din ugentlige oversigt" in text(s)][-1])
    assert "Aftal pauser og afveksling" in digest and "Plads til at skifte" not in digest


async def test_in_english_the_digest_and_pulse_name_the_items(bot, en_manager, en_employee):
    from tests.test_reminders import run_at, send_time

    await en_employee.say("help")
    review = await to_review(en_manager, ANSWERS)
    due = TODAY.isoformat()
    await en_manager.submit(
        en_manager.last_card(),
        {**action_data(review, "conclude"), "due_room_for_positions": due},
    )
    to_confirm = [
        s for s in en_employee.seen() if s.card and action_data_or_none(s.card, "confirm")
    ]
    await en_employee.submit(to_confirm[-1], action_data(to_confirm[-1].card, "confirm"))
    await run_at(bot, send_time(bot, 1))
    digest = text(
        [s for s in en_manager.seen() if s.card and "Actions past their deadline" in text(s)][-1]
    )
    assert f"Mette Sørensen: Room to change working positions (due {due}, The employee)" in digest
    pulse = text(
        [
            s
            for s in en_employee.seen()
            if s.card and "Send" in text(s) and "pulse" in text(s).lower()
        ][-1]
    )
    assert f"Waiting for you from your agreement: Room to change working positions ({due})" in pulse


async def test_an_item_of_an_earlier_version_is_stale_once_a_later_one_is_confirmed(
    manager, employee, db_path
):
    """A later confirmed version brings its own set of items (the follow-up builds such
    versions); a button of the earlier set then changes nothing."""
    from store.database import Database
    from store.dialogues import DialogueStore
    from tests.sharepoint_agreements import respond, revise

    await confirmed(manager, employee)
    await employee.say("status")
    old_card = item_cards(employee, "Dine opgaver fra aftalerne")[-1]
    db = Database(db_path)
    await db.open()
    try:
        store = DialogueStore(db)
        (dialogue,) = await store.for_employee(EMPLOYEE_ID)
        await respond(store, await revise(store, dialogue), confirm=True)
    finally:
        await db.close()
    assert rows(db_path, "SELECT DISTINCT version FROM action_items ORDER BY version") == [
        (1,),
        (2,),
    ]
    said = joined(
        await employee.submit(old_card, button(old_card.card, "room_for_positions", "done"))
    )
    assert "hører til en ældre version af aftalen. Intet er ændret." in said
    assert rows(db_path, "SELECT DISTINCT status FROM action_items") == [("open",)]
    # status shows the newest set only: one item, of version 2.
    await employee.say("status")
    new_card = item_cards(employee, "Dine opgaver fra aftalerne")[-1]
    assert button(new_card.card, "room_for_positions", "done")["version"] == 2
