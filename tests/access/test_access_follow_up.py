"""Who may follow up an agreement in force, through the real HTTP endpoint, against the local
Graph server's directory (tests/access_directory.py): "Følg op" and reopening with a reason
are refused for a colleague, for a former manager (Entra ID names a new manager after the
agreement was confirmed) and for HR of another unit, with nothing stored and nothing sent to
the employee, and a directory that cannot answer changes nothing either; HR and a substitute
follow up the agreements they led only while they still lead for that employee; the
employee's wish for a follow-up does not reach a former manager; the former manager cannot
mark the agreement's action items either, and the new manager starts a new dialogue."""

from __future__ import annotations

import pytest

from tests.access_directory import (
    HR_ELSEWHERE,
    HR_USER,
    NEW_MANAGER,
    NOT_YOURS,
    UNAVAILABLE,
    choose_employee,
)
from tests.conftest import EMPLOYEE, MANAGER, OTHER
from tests.databases import rows
from tests.dbsnapshot import snapshot
from tests.follow_up_flow import TODAY, card_with_verb, confirmed_agreement, said
from tests.graph_server import Faults
from tests.harness import TeamsClient, action_data

pytestmark = pytest.mark.both_engines

NOT_PART = "Det kort hører til en samtale, du ikke er part i. Intet er ændret."
STARTED = "Du følger op på aftalen med"
REASON = "Medarbejderen har fået nye opgaver"


def press_data(leader: TeamsClient, verb: str) -> dict:
    """The follow-up button the leader got (the status card's "Følg op", or the agreement's
    reopening), as Teams would send it."""
    if verb == "follow_up":
        card = card_with_verb(leader, "follow_up")
        return action_data(card.card, "follow_up")
    card = card_with_verb(leader, "reopen")
    return {**action_data(card.card, "reopen"), "reason": REASON}


async def follow_up_offered(leader: TeamsClient, verb: str) -> dict:
    if verb == "follow_up":
        await leader.say("status")  # from the follow-up date on, status offers "Følg op"
    return press_data(leader, verb)


def assert_refused(sent: list, expected: str) -> None:
    assert expected in said(sent), said(sent)
    assert not [s for s in sent if s.card], "no card of the dialogue was shown"


INTRUDERS = {
    "colleague": (OTHER, NOT_PART),
    "former-manager": (MANAGER, NOT_YOURS),
    "hr-of-another-unit": (HR_ELSEWHERE, NOT_PART),
}


@pytest.mark.parametrize("verb", ["follow_up", "reopen"])
@pytest.mark.parametrize("who", list(INTRUDERS))
async def test_only_who_leads_now_follows_up(who, verb, people, db_path, graph):
    manager, employee = people(MANAGER), people(EMPLOYEE)
    await confirmed_agreement(manager, employee, follow_up_date=TODAY)
    data = await follow_up_offered(manager, verb)
    if who == "former-manager":  # HR moved the employee to Nina Nyleder
        graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    user, expected = INTRUDERS[who]
    intruder = people(user)
    await intruder.say("hjælp")
    before, heard = snapshot(db_path), len(employee.seen())
    requests = rows(db_path, "SELECT * FROM conversation_requests")

    sent = await intruder.submit(card_with_verb(manager, verb), data)
    assert_refused(sent, expected)
    assert snapshot(db_path) == before
    assert rows(db_path, "SELECT * FROM conversation_requests") == requests
    assert len(employee.seen()) == heard, "the employee heard nothing"
    assert rows(db_path, "SELECT state FROM dialogues") == [("confirmed",)]

    # The manager the directory names (moved back, for the former manager) does follow up.
    graph.directory.set_manager(EMPLOYEE.aad_object_id, MANAGER.aad_object_id)
    sent = await manager.submit(card_with_verb(manager, verb), data)
    assert STARTED in said(sent), said(sent)
    assert rows(db_path, "SELECT state FROM dialogues") == [("in_progress",)]


async def test_hr_follows_up_only_while_the_employee_is_in_their_unit(people, db_path, graph):
    hr, employee = people(HR_USER), people(EMPLOYEE)
    await confirmed_agreement(hr, employee)  # Borgerservice's HR led the dialogue
    data = press_data(hr, "reopen")
    # The employee moves to Teknik: Borgerservice's HR is refused, and so is Teknik's HR,
    # who did not lead this dialogue.
    graph.directory.set_department(EMPLOYEE.aad_object_id, "Teknik")
    before, heard = snapshot(db_path), len(employee.seen())
    card = card_with_verb(hr, "reopen")
    assert_refused(await hr.submit(card, data), NOT_YOURS)
    elsewhere = people(HR_ELSEWHERE)
    assert_refused(await elsewhere.submit(card, data), NOT_PART)
    assert snapshot(db_path) == before and len(employee.seen()) == heard
    # Back in Borgerservice: HR reopens it, and the employee is told.
    graph.directory.set_department(EMPLOYEE.aad_object_id, "Borgerservice")
    assert STARTED in said(await hr.submit(card, data))
    assert len(employee.seen()) == heard + 1


async def test_a_substitute_follows_up_only_while_named(people, db_path, graph):
    manager, employee, substitute = people(MANAGER), people(EMPLOYEE), people(OTHER)
    await substitute.say("hjælp")
    await manager.say(f"stedfortræder {OTHER.name}")
    await confirmed_agreement(substitute, employee)  # the substitute led the dialogue
    data = press_data(substitute, "reopen")
    card = card_with_verb(substitute, "reopen")
    await manager.say("stedfortræder fjern")
    before, heard = snapshot(db_path), len(employee.seen())
    assert_refused(await substitute.submit(card, data), NOT_YOURS)
    assert snapshot(db_path) == before and len(employee.seen()) == heard
    # Named again by HR (for a manager in HR's unit): the substitute reopens it.
    hr = people(HR_USER)
    await hr.say(f"hr stedfortræder {MANAGER.aad_object_id} {OTHER.aad_object_id}")
    assert STARTED in said(await substitute.submit(card, data))


async def test_the_employees_wish_does_not_reach_a_former_manager(people, db_path, graph):
    manager, employee = people(MANAGER), people(EMPLOYEE)
    await confirmed_agreement(manager, employee)
    answered = card_with_verb(employee, "ask_follow_up")
    data = {**action_data(answered.card, "ask_follow_up"), "comment": "Jeg er flyttet"}
    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    seen_by_manager = len(manager.seen())

    sent = await employee.submit(answered, data)
    assert "ikke længere din leder, så jeg har ikke sendt dit ønske" in said(sent), said(sent)
    assert "bed om samtale" in said(sent)
    assert len(manager.seen()) == seen_by_manager, "the former manager got nothing"
    assert rows(db_path, "SELECT * FROM conversation_requests") == []

    # The directory does not answer: the wish is not sent either, and the employee is told.
    graph.directory.forbidden = True
    sent = await employee.submit(answered, data)
    assert UNAVAILABLE in said(sent), said(sent)
    assert rows(db_path, "SELECT * FROM conversation_requests") == []

    # Moved back: the wish reaches the manager.
    graph.directory.forbidden = False
    graph.directory.set_manager(EMPLOYEE.aad_object_id, MANAGER.aad_object_id)
    await employee.submit(answered, data)
    assert len(manager.seen()) == seen_by_manager + 1
    assert rows(db_path, "SELECT kind, state FROM conversation_requests") == [("follow_up", "open")]


async def test_a_former_manager_cannot_mark_the_agreements_action_items(people, db_path, graph):
    manager, employee = people(MANAGER), people(EMPLOYEE)
    await confirmed_agreement(manager, employee)
    items = rows(
        db_path,
        "SELECT dialogue_id, version, item_key FROM action_items"
        " WHERE owner_role = 'manager' AND status = 'open' ORDER BY item_key",
    )
    assert items, "the agreement has an action item for the manager"
    dialogue_id, version, item = items[0]
    data = {
        "verb": "item_status",
        "dialogue_id": dialogue_id,
        "version": version,
        "item": item,
        "status": "done",
    }
    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    card = card_with_verb(manager, "reopen")
    assert_refused(await manager.submit(card, data), NOT_YOURS)
    assert rows(db_path, f"SELECT status FROM action_items WHERE item_key = '{item}'") == [
        ("open",)
    ]
    # Moved back: the manager marks it.
    graph.directory.set_manager(EMPLOYEE.aad_object_id, MANAGER.aad_object_id)
    assert "som udført" in said(await manager.submit(card, data))
    assert rows(db_path, f"SELECT status FROM action_items WHERE item_key = '{item}'") == [
        ("done",)
    ]


async def test_the_new_manager_starts_a_new_dialogue_with_the_employee(people, db_path, graph):
    manager, employee = people(MANAGER), people(EMPLOYEE)
    await confirmed_agreement(manager, employee)
    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    heard = len(employee.seen())
    await choose_employee(people(NEW_MANAGER))
    assert rows(db_path, "SELECT manager_id, employee_id, state FROM dialogues ORDER BY 3") == [
        (MANAGER.aad_object_id, EMPLOYEE.aad_object_id, "confirmed"),
        (NEW_MANAGER.aad_object_id, EMPLOYEE.aad_object_id, "in_progress"),
    ]
    assert len(employee.seen()) == heard + 1, "the employee is invited by the new manager"


@pytest.mark.parametrize("fault", ["403", "429", "timeout"])
async def test_at_follow_up_a_directory_that_cannot_answer_changes_nothing(
    fault, people, db_path, graph
):
    manager, employee = people(MANAGER), people(EMPLOYEE)
    await confirmed_agreement(manager, employee)
    data = press_data(manager, "reopen")
    before, heard = snapshot(db_path), len(employee.seen())
    if fault == "403":
        graph.directory.forbidden = True
    elif fault == "429":
        graph.faults = Faults(throttle=1.0, retry_after=30)
    else:
        graph.faults = Faults(timeout=1.0, hang=2.0)
    assert_refused(await manager.submit(card_with_verb(manager, "reopen"), data), UNAVAILABLE)
    assert snapshot(db_path) == before and len(employee.seen()) == heard
