"""Typed commands in Danish and English, group-chat mentions, welcome, and the dialogue's
navigation (back, continue later, edit from the review, cancel)."""

from __future__ import annotations

import pytest

from tests.answers import STEP_ANSWERS
from tests.databases import execute, rows
from tests.harness import BOT_ID, TeamsClient, User, action_data, inputs, texts_of
from tests.test_resilience import answer

pytestmark = pytest.mark.both_engines


@pytest.mark.parametrize("text", ["hjælp", "HJÆLP", "Help", " help. ", "hjaelp"])
async def test_help_card_in_any_case(manager, text):
    sent = await manager.say(text)
    card = sent[0].card
    assert card and "Sådan bruger du Hjemmearbejdsdialog" in str(card)
    urls = [a["url"] for a in card["body"][-1]["actions"]]
    assert any("at.dk" in u for u in urls) and len(urls) == 5


async def test_english_locale_gets_english(session, bot, connector):
    client = TeamsClient(
        session,
        bot,
        connector,
        User("Alex Wilber", "44444444-4444-4444-4444-444444444444", "en-US"),
    )
    sent = await client.say("help")
    assert "How to use Home working dialogue" in str(sent[0].card)
    sent = await client.say("what is this")
    assert texts_of(sent) == [
        "Sorry, I didn't quite get that. Type **help** to see what I can do, **start** to begin "
        "a conversation as a manager, or **self-check** to check your workspace at home."
    ]


async def test_unknown_text_gets_a_hint_not_an_error(manager):
    sent = await manager.say("hvad er klokken?")
    assert len(sent) == 1 and "Skriv **hjælp**" in sent[0].text


@pytest.mark.parametrize("text", ["start", "Ny samtale", "NY SAMTALE"])
async def test_start_words(manager, text):
    sent = await manager.say(text)
    assert action_data(sent[0].card, "next")["step"] == "employee"


def group_message(client: TeamsClient, text: str) -> dict:
    activity = client.activity(
        text=f"<at>Hjemmearbejde</at> {text}",
        entities=[
            {
                "type": "mention",
                "text": "<at>Hjemmearbejde</at>",
                "mentioned": {"id": BOT_ID, "name": "Hjemmearbejde"},
            }
        ],
    )
    activity["conversation"]["conversationType"] = "groupChat"
    return activity


async def test_mention_in_group_chat_is_understood_and_dialogues_stay_private(manager, db_path):
    assert await manager.post(group_message(manager, "HJÆLP")) == 201
    assert "Sådan bruger du Hjemmearbejdsdialog" in str(manager.seen()[-1].card)
    for command in ("start", "status", "selvtjek", "fortsæt"):
        assert await manager.post(group_message(manager, command)) == 201
        assert "personlige oplysninger" in manager.seen()[-1].text
    assert db_rows(db_path, "SELECT COUNT(*) FROM dialogues") == [(0,)]


async def test_odd_mention_entities_do_not_break_the_turn(manager):
    activity = group_message(manager, "hjælp")
    activity["entities"] = [{"type": "mention", "text": "<at>Hjemmearbejde</at>"}]
    activity["recipient"] = None
    assert await manager.post(activity) == 201
    assert "Sådan bruger du" in str(manager.seen()[-1].card)


def db_rows(db_path, sql: str) -> list:
    return rows(db_path, sql)


async def test_welcome_once_on_install(manager):
    install = manager.activity("installationUpdate", action="add")
    added = manager.activity(
        "conversationUpdate",
        membersAdded=[{"id": manager.user.channel_id}, {"id": BOT_ID}],
    )
    for activity in (install, added, install):
        assert await manager.post(activity) == 201
    welcomes = [s for s in manager.seen() if s.card and "Velkommen" in str(s.card)]
    assert len(welcomes) == 1
    sent = await manager.submit(welcomes[0], action_data(welcomes[0].card, "start"))
    assert action_data(sent[0].card, "next")["step"] == "employee"


async def test_continue_and_cancel_without_a_dialogue(manager):
    assert "ingen samtale i gang" in texts_of(await manager.say("fortsæt"))[0]
    assert "ingen samtale i gang" in texts_of(await manager.say("afbryd"))[0]


async def test_back_later_and_continue(manager, db_path):
    await manager.say("start")
    await answer(manager, "employee")
    tasks_card = manager.last_card()
    sent = await manager.submit(tasks_card, action_data(tasks_card.card, "back"))
    assert "Du gik et trin tilbage" in str(tasks_card.card)
    employee_card = sent[-1].card
    assert inputs(employee_card)["employee"]["value"] == "Mette Sørensen"
    sent = await manager.submit(sent[-1], action_data(employee_card, "later"))
    assert "Skriv **fortsæt**" in texts_of(sent)[0]
    sent = await manager.say("Fortsæt")
    assert action_data(sent[-1].card, "next")["step"] == "employee"


async def test_edit_a_topic_from_the_review_returns_to_the_review(manager, db_path):
    await manager.say("start")
    for step in STEP_ANSWERS:
        await answer(manager, step)
    review = manager.last_card()
    choices = [c["value"] for c in inputs(review.card)["edit_step"]["choices"]]
    assert choices == list(STEP_ANSWERS)
    sent = await manager.submit(
        review, {**action_data(review.card, "edit"), "edit_step": "technology"}
    )
    tech = sent[-1]
    assert action_data(tech.card, "next")["step"] == "technology"
    sent = await manager.submit(
        tech, {**action_data(tech.card, "next"), **STEP_ANSWERS["technology"], "laptop_hours": "1"}
    )
    review2 = sent[-1].card
    assert action_data(review2, "conclude")["step"] == "review"
    assert "Bærbar, tablet og telefon" not in str(
        review2
    )  # 1 hour: the keyboard rule no longer fires
    await manager.submit(sent[-1], action_data(review2, "conclude"))
    record = rows(db_path, "SELECT record FROM agreements")[0][0]
    assert '"laptop_hours": 1.0' in record and "separate_keyboard_mouse" not in record


async def test_cancel_from_a_card_and_by_command(manager, db_path):
    await manager.say("start")
    card = manager.last_card()
    next_data = action_data(card.card, "next")
    sent = await manager.submit(card, action_data(card.card, "cancel"))
    assert "afbrudt" in texts_of(sent)[0]
    await manager.say("start")
    question = (await manager.say("afbryd"))[0]
    assert "Vil du afbryde samtalen" in str(question.card)
    sent = await manager.submit(question, action_data(question.card, "cancel"))
    assert "afbrudt" in texts_of(sent)[0]
    states = rows(db_path, "SELECT state FROM dialogues")
    assert states == [("cancelled",), ("cancelled",)]
    assert "ingen samtale i gang" in texts_of(await manager.say("fortsæt"))[0]
    # A card of a cancelled dialogue does nothing.
    sent = await manager.submit(card, {**next_data, **STEP_ANSWERS["employee"]})
    assert "allerede afsluttet eller afbrudt" in texts_of(sent)[0]


async def test_status_lists_dialogues_in_progress(manager):
    assert "ingen samtaler eller aftaler" in str((await manager.say("status"))[0].card)
    await manager.say("start")
    await answer(manager, "employee")
    card = (await manager.say("status"))[0].card
    assert "Mette Sørensen" in str(card) and "Emne 1: Opgaver og arbejdstid" in str(card)
    sent = await manager.submit(manager.last_card(), action_data(card, "continue"))
    assert action_data(sent[-1].card, "next")["step"] == "tasks"


async def test_start_twice_reuses_the_untouched_dialogue(manager, db_path):
    first = await manager.say("start")
    second = await manager.say("start")
    assert (
        action_data(first[0].card, "next")["dialogue_id"]
        == action_data(second[0].card, "next")["dialogue_id"]
    )
    assert db_rows(db_path, "SELECT COUNT(*) FROM dialogues") == [(1,)]


async def test_back_while_editing_returns_to_the_review(manager):
    await manager.say("start")
    for step in STEP_ANSWERS:
        await answer(manager, step)
    review = manager.last_card()
    sent = await manager.submit(
        review, {**action_data(review.card, "edit"), "edit_step": "ergonomics"}
    )
    ergonomics = sent[-1]
    sent = await manager.submit(ergonomics, action_data(ergonomics.card, "back"))
    assert action_data(sent[-1].card, "conclude")["step"] == "review"


async def test_a_follow_up_date_that_has_passed_is_caught_at_conclusion(manager, db_path):
    await manager.say("start")
    for step in STEP_ANSWERS:
        await answer(manager, step)
    review = manager.last_card()
    # the review waited: the date is now in the past
    row = rows(db_path, "SELECT answers FROM dialogues")[0][0]
    execute(
        db_path,
        "UPDATE dialogues SET answers = ?",
        row.replace(STEP_ANSWERS["outcome"]["follow_up_date"], "2020-01-01"),
    )
    sent = await manager.submit(review, action_data(review.card, "conclude"))
    outcome = sent[-1].card
    assert action_data(outcome, "next")["step"] == "outcome"
    assert "en dato fra i dag" in str(outcome)
    assert db_rows(db_path, "SELECT COUNT(*) FROM agreements") == [(0,)]


async def test_status_offers_each_open_dialogue(manager, db_path):
    await manager.say("start")
    await answer(manager, "employee")
    await manager.say("start")
    other = {**STEP_ANSWERS["employee"], "employee": "Ole Olsen"}
    card = manager.last_card()
    await manager.submit(card, {**action_data(card.card, "next"), **other})
    status = (await manager.say("status"))[0]
    titles = [a["title"] for a in status.card["actions"]]
    assert titles == ["Fortsæt: Ole Olsen", "Fortsæt: Mette Sørensen"]
    mette = status.card["actions"][1]["data"]
    sent = await manager.submit(status, mette)
    assert "Mette Sørensen" in texts_of(sent)[0]
