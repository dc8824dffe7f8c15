"""Two people, two 1:1 chats, one bot: invitation, self-check, the manager seeing it, the
confirmation or dispute of the agreement, and everyone else refused."""

from __future__ import annotations

import json

import pytest

from tests.answers import SELF_CHECK_ANSWERS, STEP_ANSWERS
from tests.databases import rows
from tests.dbsnapshot import snapshot
from tests.harness import TENANT, BotServer, TeamsClient, action_data, inputs, texts_of

pytestmark = [pytest.mark.both_engines, pytest.mark.both_hosts]


def cards_in(sent) -> list:
    return [s for s in sent if s.card is not None]


def card_with(client: TeamsClient, text: str):
    found = [
        s
        for s in client.seen()
        if s.card is not None and text in json.dumps(s.card, ensure_ascii=False)
    ]
    assert found, f"no card with {text!r}"
    return found[-1]


async def answer_step(client: TeamsClient, step: str, answers: dict) -> list:
    card = client.last_card()
    data = action_data(card.card, "next" if step in STEP_ANSWERS else "sc_next")
    assert data["step"] == step, (data["step"], step)
    return await client.submit(card, {**data, **answers[step]})


async def manager_to_review(manager: TeamsClient) -> None:
    await manager.say("start")
    for step in STEP_ANSWERS:
        await answer_step(manager, step, STEP_ANSWERS)


async def do_self_check(employee: TeamsClient) -> list:
    invitation = card_with(employee, "Start selvtjekket")
    await employee.submit(invitation, action_data(invitation.card, "sc_start"))
    sent = []
    for step in SELF_CHECK_ANSWERS:
        sent = await answer_step(employee, step, SELF_CHECK_ANSWERS)
    return sent


def db(db_path, sql: str) -> list:
    return rows(db_path, sql)


async def test_invitation_self_check_manager_sees_it_and_confirmation(manager, employee, db_path):
    await employee.say("hjælp")  # the employee has the app: the bot knows the chat
    await manager.say("start")
    sent = await answer_step(manager, "employee", STEP_ANSWERS)
    assert "Jeg har sendt Mette Sørensen en besked" in " ".join(texts_of(sent))
    invitation = card_with(employee, "Din leder vil tale med dig om hjemmearbejde")
    assert "Lone Leder" in json.dumps(invitation.card, ensure_ascii=False)

    # The tasks card tells the manager the self-check is not done yet.
    assert "ikke lavet selvtjekket endnu" in json.dumps(
        manager.last_card().card, ensure_ascii=False
    )

    result = await do_self_check(employee)
    result_card = json.dumps(cards_in(result)[-1].card, ensure_ascii=False)
    assert "Tak for dit selvtjek" in result_card
    assert "uden tastatur og mus for sig" in result_card  # 4 hours on a laptop, none
    assert "kontorstol" in result_card and "synsprøve" in result_card
    assert "Mette Sørensen har lavet selvtjekket" in " ".join(texts_of(manager.seen()))

    # The manager's next topic cards show the self-check of that topic.
    await answer_step(manager, "tasks", STEP_ANSWERS)
    await answer_step(manager, "environment", STEP_ANSWERS)
    technology = json.dumps(manager.last_card().card, ensure_ascii=False)
    assert "Medarbejderens selvtjek" in technology and "Mangler en egnet kontorstol." in technology
    for step in ("technology", "ergonomics", "weighing", "outcome"):
        await answer_step(manager, step, STEP_ANSWERS)
    review = manager.last_card()
    assert "Medarbejderen ønsker en synsprøve." in json.dumps(review.card, ensure_ascii=False)

    sent = await manager.submit(review, action_data(review.card, "conclude"))
    assert "sendt aftalen til Mette Sørensen, som skal bekræfte den" in " ".join(texts_of(sent))
    assert db(db_path, "SELECT state FROM dialogues") == [("awaiting_employee",)]
    to_confirm = card_with(employee, "Bekræft")
    shown = json.dumps(to_confirm.card, ensure_ascii=False)
    assert "Jeg har gemt aftalen i min egen database" in shown and "SharePoint" not in shown
    sent = await employee.submit(to_confirm, action_data(to_confirm.card, "confirm"))
    assert "Du har bekræftet aftalen" in texts_of(sent)[0]
    assert "Bekræftet af begge" in json.dumps(to_confirm.card, ensure_ascii=False)  # replaced
    assert not inputs(to_confirm.card)
    assert "Mette Sørensen har bekræftet aftalen" in " ".join(texts_of(manager.seen()))
    assert db(db_path, "SELECT state FROM dialogues") == [("confirmed",)]
    assert db(db_path, "SELECT version, state, employee_comment FROM agreements") == [
        (1, "confirmed", None)
    ]

    # The self-check's missing chair became a follow-up of the agreement (R9); its answers did not.
    record = json.loads(db(db_path, "SELECT record FROM agreements")[0][0])
    assert "R9" in record["rules"]
    furniture = next(a for a in record["actions"] if a["key"] == "suitable_furniture")
    assert (furniture["rule"], furniture["kind"]) == ("R9", "action")
    assert furniture["due"]  # the deadline the review card offered (30 days by default)
    assert "sc_equipment" not in json.dumps(record)
    # Status for both sides.
    mine = json.dumps((await employee.say("status"))[0].card, ensure_ascii=False)
    assert "Aftaler om dig" in mine and "Lone Leder" in mine and "Bekræftet af begge" in mine
    theirs = json.dumps((await manager.say("status"))[0].card, ensure_ascii=False)
    assert "Bekræftet af begge" in theirs and "Mette Sørensen" in theirs


async def test_dispute_revision_and_confirmation_keep_every_version(manager, employee, db_path):
    await employee.say("hjælp")
    await manager_to_review(manager)
    review = manager.last_card()
    await manager.submit(review, action_data(review.card, "conclude"))
    to_confirm = card_with(employee, "Jeg er uenig")
    dispute_data = {
        **action_data(to_confirm.card, "dispute"),
        "comment": "Jeg arbejder hjemme mandag, ikke torsdag",
    }
    sent = await employee.submit(to_confirm, dispute_data)
    assert "Jeg sender din bemærkning til din leder" in texts_of(sent)[0]
    assert db(db_path, "SELECT state FROM dialogues") == [("disputed",)]
    notice = card_with(manager, "Medarbejderen er uenig i aftalen")
    assert "mandag, ikke torsdag" in json.dumps(notice.card, ensure_ascii=False)
    # A second answer to the same version changes nothing.
    before = snapshot(db_path)
    sent = await employee.submit(to_confirm, dispute_data)
    assert "Intet er ændret" in texts_of(sent)[0]
    assert snapshot(db_path) == before

    sent = await manager.submit(notice, action_data(notice.card, "revise"))
    review2 = cards_in(sent)[-1]
    assert action_data(review2.card, "conclude")["step"] == "review"
    sent = await manager.submit(
        review2, {**action_data(review2.card, "edit"), "edit_step": "tasks"}
    )
    tasks = cards_in(sent)[-1]
    await manager.submit(
        tasks,
        {
            **action_data(tasks.card, "next"),
            **STEP_ANSWERS["tasks"],
            "days_per_week": "1",
            "fixed_days": "mon",
        },
    )
    review3 = manager.last_card()
    await manager.submit(review3, action_data(review3.card, "conclude"))
    second = card_with(employee, "Bekræft")
    assert {"title": "Version", "value": "2"} in second.card["body"][2]["facts"]
    await employee.submit(second, action_data(second.card, "confirm"))
    rows = db(db_path, "SELECT version, state, employee_comment FROM agreements ORDER BY version")
    assert rows == [
        (1, "disputed", "Jeg arbejder hjemme mandag, ikke torsdag"),
        (2, "confirmed", None),
    ]
    v1, v2 = (
        json.loads(r[0]) for r in db(db_path, "SELECT record FROM agreements ORDER BY version")
    )
    assert v1["fixed_days"] == ["mon", "thu"] and v2["fixed_days"] == ["mon"]


async def test_only_the_parties_may_act(manager, employee, outsider, db_path):
    await employee.say("hjælp")
    await manager_to_review(manager)
    review = manager.last_card()
    edit, conclude = action_data(review.card, "edit"), action_data(review.card, "conclude")
    await manager.submit(review, conclude)
    await do_self_check(employee)
    to_confirm = card_with(employee, "Bekræft")
    before = snapshot(db_path)
    attempts = [
        ({**action_data(to_confirm.card, "confirm")}, "Kun medarbejderen"),
        ({**action_data(to_confirm.card, "dispute"), "comment": "nej"}, "Kun medarbejderen"),
        (
            {
                "verb": "show_agreement",
                "dialogue_id": action_data(to_confirm.card, "confirm")["dialogue_id"],
            },
            "ikke er part i",
        ),
        ({**edit, "edit_step": "tasks"}, "ikke er part i"),
        (conclude, "ikke er part i"),
    ]
    for data, refusal in attempts:
        sent = await outsider.submit(to_confirm, data)
        assert refusal in texts_of(sent)[0], (data, texts_of(sent))
    # The manager may not confirm for the employee, nor the employee edit the agreement.
    sent = await manager.submit(to_confirm, action_data(to_confirm.card, "confirm"))
    assert "Kun medarbejderen" in texts_of(sent)[0]
    sent = await employee.submit(review, {**edit, "edit_step": "tasks"})
    assert "ikke er part i" in texts_of(sent)[0]
    assert snapshot(db_path) == before


async def test_an_outsider_cannot_answer_someone_elses_self_check(
    manager, employee, outsider, db_path
):
    await employee.say("selvtjek")
    card = employee.last_card()
    data = {**action_data(card.card, "sc_next"), **SELF_CHECK_ANSWERS["sc_work"]}
    before = snapshot(db_path)
    sent = await outsider.submit(card, data)
    assert "ikke er part i" in texts_of(sent)[0]
    assert snapshot(db_path) == before


async def test_employee_who_cannot_be_reached_can_begin_alone(manager, employee, db_path):
    await manager.say("start")
    sent = await answer_step(manager, "employee", STEP_ANSWERS)
    said = " ".join(texts_of(sent))
    assert "Jeg kunne ikke sende en besked til Mette Sørensen" in said and "**selvtjek**" in said
    assert db(db_path, "SELECT employee_id FROM dialogues") == [(None,)]
    # The employee opens the bot and writes "selvtjek": the dialogue finds its employee.
    sent = await employee.say("selvtjek")
    assert action_data(sent[-1].card, "sc_next")["step"] == "sc_work"
    assert db(db_path, "SELECT employee_id FROM dialogues") == [(employee.user.aad_object_id,)]
    for step in SELF_CHECK_ANSWERS:
        await answer_step(employee, step, SELF_CHECK_ANSWERS)
    assert "Mette Sørensen har lavet selvtjekket" in " ".join(texts_of(manager.seen()))


async def test_blocked_app_counts_as_unreachable(manager, employee, connector):
    await employee.say("hjælp")
    await manager.say("start")
    card = manager.last_card()
    connector.faults_in[employee.conversation_id] = [403]  # the app is blocked by the employee
    sent = await manager.submit(
        card, {**action_data(card.card, "next"), **STEP_ANSWERS["employee"]}
    )
    assert "Jeg kunne ikke sende en besked til Mette Sørensen" in " ".join(texts_of(sent))
    assert not [s for s in employee.seen() if s.card and "Start selvtjekket" in str(s.card)]


async def test_people_picker_creates_the_chat_with_the_tenant(tmp_path, session, connector):
    from tests.conftest import EMPLOYEE, MANAGER

    server = BotServer(tmp_path / "picker.sqlite3", people_picker="graph")
    await server.start()
    try:
        manager = TeamsClient(session, server, connector, MANAGER)
        await manager.say("start")
        card = manager.last_card()
        assert inputs(card.card)["employee"]["type"] == "Input.ChoiceSet"
        forged = {
            **action_data(card.card, "next"),
            **STEP_ANSWERS["employee"],
            "employee": "x <script>",
        }
        assert await manager.submit(card, forged) == []
        assert "Vælg medarbejderen i listen" in json.dumps(card.card, ensure_ascii=False)
        assert not connector.created
        data = {
            **action_data(card.card, "next"),
            **STEP_ANSWERS["employee"],
            "employee": EMPLOYEE.aad_object_id,
        }
        sent = await manager.submit(card, data)
        assert connector.created and connector.created[0]["channelData"]["tenant"]["id"] == TENANT
        assert connector.created[0]["members"][0]["id"] == EMPLOYEE.aad_object_id
        invitation = [s for s in connector.sent if s.conversation_id.startswith("a:created-")]
        assert invitation and "Start selvtjekket" in json.dumps(
            invitation[0].card, ensure_ascii=False
        )
        assert "Jeg har sendt" in " ".join(texts_of(sent))
        # Once the employee writes, the manager's cards know the name the picker did not give.
        employee = TeamsClient(session, server, connector, EMPLOYEE)
        await employee.say("selvtjek")
        status = json.dumps((await manager.say("status"))[0].card, ensure_ascii=False)
        assert "Mette Sørensen" in status
    finally:
        await server.stop()


async def test_invalid_self_check_answers_are_shown_on_the_same_card(employee, db_path):
    await employee.say("selvtjek")
    card = employee.last_card()
    before = snapshot(db_path)
    bad = {**action_data(card.card, "sc_next"), **SELF_CHECK_ANSWERS["sc_work"], "sc_days": "7"}
    assert await employee.submit(card, bad) == []
    assert "Vælg en af mulighederne" in json.dumps(card.card, ensure_ascii=False)
    assert snapshot(db_path) == before
    sent = await employee.submit(
        card, {**action_data(card.card, "sc_next"), **SELF_CHECK_ANSWERS["sc_work"]}
    )
    assert action_data(sent[-1].card, "sc_next")["step"] == "sc_contact"


MANAGER_VERBS = ("next", "back", "later", "cancel", "edit", "conclude", "revise")
EMPLOYEE_VERBS = ("sc_next", "sc_back", "sc_later", "confirm", "dispute", "show_agreement")


async def test_a_third_user_is_refused_for_every_card_verb(manager, employee, outsider, db_path):
    """Every verb the bot knows, with the real ids of a dialogue and a self-check in progress,
    pressed by someone who is neither the manager nor the employee."""
    await employee.say("hjælp")
    await manager_to_review(manager)
    review = manager.last_card()
    dialogue_data = action_data(review.card, "conclude")
    await employee.say("selvtjek")
    check_data = action_data(employee.last_card().card, "sc_next")
    before = snapshot(db_path)
    for verb in MANAGER_VERBS + EMPLOYEE_VERBS:
        base = check_data if verb.startswith("sc_") else dialogue_data
        data = {
            **base,
            "verb": verb,
            "edit_step": "tasks",
            "comment": "nej",
            **SELF_CHECK_ANSWERS["sc_work"],
        }
        sent = await outsider.submit(review, data)
        said = " ".join(texts_of(sent))
        assert "Intet er ændret" in said, (verb, said)
        assert not [s for s in sent if s.card], verb
    assert snapshot(db_path) == before


async def test_an_unreachable_employee_is_named_once_not_as_sent(manager, employee, connector):
    """The manager is told either that the agreement went to the employee or that it could
    not be sent, never both."""
    await employee.say("hjælp")
    await manager_to_review(manager)
    review = manager.last_card()
    connector.faults_in[employee.conversation_id] = [403]  # the app was removed meanwhile
    said = " ".join(texts_of(await manager.submit(review, action_data(review.card, "conclude"))))
    assert "jeg kunne ikke sende den til Mette Sørensen" in said
    assert "som skal bekræfte den. Du får besked" not in said


async def test_the_self_check_links_the_equipment_requirements(employee):
    await employee.say("selvtjek")
    for step in ("sc_work", "sc_contact"):
        await answer_step(employee, step, SELF_CHECK_ANSWERS)
    equipment = json.dumps(employee.last_card().card, ensure_ascii=False)
    assert "Læs mere: Krav til udstyret ved en skærmarbejdsplads" in equipment
    assert "https://www.kropogkontor.dk/" in equipment


async def test_not_approved_says_plainly_what_happens_now_and_may_be_disputed(
    manager, employee, db_path
):
    await employee.say("hjælp")
    answers = {
        **STEP_ANSWERS,
        "outcome": {
            "decision": "not_approved",
            "reason": "Opgaverne kræver, at du er i borgerservice hver dag",
            "follow_up_date": "",
        },
    }
    await manager.say("start")
    for step in STEP_ANSWERS:
        await answer_step(manager, step, answers)
    review = manager.last_card()
    await manager.submit(review, action_data(review.card, "conclude"))
    to_answer = card_with(employee, "Jeg er uenig")
    card = json.dumps(to_answer.card, ensure_ascii=False)
    assert "dit arbejde skal foregå på den faste arbejdsplads" in card
    assert "Opgaverne kræver, at du er i borgerservice hver dag" in card
    assert "Du kan bede om en ny vurdering, når dine opgaver eller forhold ændrer sig" in card
    assert action_data(to_answer.card, "dispute")["verb"] == "dispute"
    record = json.loads(db(db_path, "SELECT record FROM agreements")[0][0])
    assert record["decision"] == "not_approved" and record["follow_up_date"] is None
    assert record["rules"] == []  # no home working, no home-working rules


async def test_a_not_approved_with_a_date_names_when_to_ask_again(manager, employee):
    await employee.say("hjælp")
    answers = {
        **STEP_ANSWERS,
        "outcome": {
            "decision": "not_approved",
            "reason": "Fremmøde",
            "follow_up_date": "2027-06-01",
        },
    }
    await manager.say("start")
    for step in STEP_ANSWERS:
        await answer_step(manager, step, answers)
    review = manager.last_card()
    await manager.submit(review, action_data(review.card, "conclude"))
    card = json.dumps(card_with(employee, "Jeg er uenig").card, ensure_ascii=False)
    assert "Du kan bede om en ny vurdering fra 01-06-2027" in card
    assert "Ny vurdering kan tidligst ske" in card


async def test_occasional_home_working_is_recorded_and_the_review_says_why(manager, db_path):
    answers = {
        **STEP_ANSWERS,
        "tasks": {**STEP_ANSWERS["tasks"], "frequency": "occasional", "days_per_week": ""},
    }
    await manager.say("start")
    for step in STEP_ANSWERS:
        await answer_step(manager, step, answers)
    review = json.dumps(manager.last_card().card, ensure_ascii=False)
    assert "Hjemmearbejdet er sjældnere end hver uge" in review
    assert "Bekendtgørelsen om skærmarbejde" not in review  # no screen-work follow-up
    assert "Arbejdspladsvurdering (APV)" in review
    await manager.submit(manager.last_card(), action_data(manager.last_card().card, "conclude"))
    record = json.loads(db(db_path, "SELECT record FROM agreements")[0][0])
    assert record["frequency"] == "occasional" and "R1" not in record["rules"]


async def test_systematic_home_working_asks_whether_med_has_discussed_it(manager):
    answers = {**STEP_ANSWERS, "tasks": {**STEP_ANSWERS["tasks"], "systematic": "yes"}}
    await manager.say("start")
    for step in list(STEP_ANSWERS)[:-1]:
        await answer_step(manager, step, answers)
    outcome = manager.last_card()
    assert "Har MED-udvalget drøftet" in json.dumps(outcome.card, ensure_ascii=False)
    approved = {
        "decision": "approved",
        "med_discussed": "no",
        "follow_up_date": STEP_ANSWERS["outcome"]["follow_up_date"],
    }
    await manager.submit(outcome, {**action_data(outcome.card, "next"), **approved})
    again = json.dumps(outcome.card, ensure_ascii=False)  # the same card, with the error
    assert "MED-udvalget har ikke drøftet det endnu" in again
