"""Who may do what, through the real HTTP endpoint, against the local Graph server's directory
(tests/graph_server.py): the employee's real manager leads the dialogue; a colleague, a former
manager, HR of another unit and a substitute of another manager are refused at start, at
continue and on every card verb, with nothing stored about the employee and nothing sent to
them; HR and substitutes work for their units; a directory that does not answer (403, 429,
a timeout) refuses politely and changes nothing."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.access_directory import (
    FAR_EMPLOYEE,
    HR_ELSEWHERE,
    HR_GROUP,
    HR_USER,
    MANAGERS,
    NEW_MANAGER,
    NOT_YOURS,
    NOT_YOURS_CARD,
    UNAVAILABLE,
    UNAVAILABLE_CARD,
    access_settings,
    break_graph,
    choose_employee,
    dialogue_rows,
    known,
)
from tests.answers import SELF_CHECK_ANSWERS, STEP_ANSWERS
from tests.conftest import EMPLOYEE, MANAGER, OTHER
from tests.databases import rows
from tests.graph_server import Faults
from tests.harness import BotServer, TeamsClient, User, action_data, texts_of

pytestmark = pytest.mark.both_engines


def client(session, bot, connector, user: User) -> TeamsClient:
    return TeamsClient(session, bot, connector, user)


def card_texts(sent: list) -> str:
    return json.dumps([s.card for s in sent if s.card], ensure_ascii=False)


async def test_the_real_manager_leads_and_the_employee_is_invited(
    session, bot, connector, db_path, graph
):
    manager, employee = (client(session, bot, connector, u) for u in (MANAGER, EMPLOYEE))
    await known(employee)
    before = len(employee.seen())
    await choose_employee(manager)
    assert action_data(manager.last_card().card, "next")["step"] == "tasks"
    assert len(employee.seen()) == before + 1, "the employee got the invitation"
    assert [tuple(r)[:3] for r in dialogue_rows(db_path)] == [
        (MANAGER.aad_object_id, EMPLOYEE.aad_object_id, "tasks")
    ]
    assert graph.directory.requests.get("manager", 0) >= 1


async def test_a_colleague_is_refused_sees_no_self_check_and_the_employee_hears_nothing(
    session, bot, connector, db_path
):
    manager, employee, colleague = (
        client(session, bot, connector, u) for u in (MANAGER, EMPLOYEE, OTHER)
    )
    await known(employee)
    # The employee has done the self-check for the real manager's dialogue.
    await choose_employee(manager)
    invitation = [s for s in employee.seen() if s.card][-1]
    await employee.submit(invitation, action_data(invitation.card, "sc_start"))
    for step in SELF_CHECK_ANSWERS:
        card = employee.last_card()
        await employee.submit(
            card, {**action_data(card.card, "sc_next"), **SELF_CHECK_ANSWERS[step]}
        )
    heard = len(employee.seen())
    dialogues_before = dialogue_rows(db_path)

    await choose_employee(colleague)
    shown = json.dumps([s.current for s in colleague.seen() if s.card], ensure_ascii=False)
    assert NOT_YOURS_CARD in shown
    assert action_data(colleague.last_card().card, "next")["step"] == "employee"
    # Nothing of the self-check reached the colleague, nothing reached the employee.
    for answer in ("Hemmelig", *[str(v) for v in SELF_CHECK_ANSWERS["sc_work"].values()]):
        if len(answer) > 6:
            assert answer not in shown
    assert len(employee.seen()) == heard
    # The colleague's dialogue holds no employee; the manager's is untouched.
    theirs = [r for r in dialogue_rows(db_path) if r[0] == OTHER.aad_object_id]
    assert [(r[1], r[2]) for r in theirs] == [(None, "employee")]
    assert [r for r in dialogue_rows(db_path) if r[0] == MANAGER.aad_object_id] == [
        r for r in dialogues_before if r[0] == MANAGER.aad_object_id
    ]


VERBS = ("next", "back", "later", "cancel", "conclude")


@pytest.mark.parametrize("verb", VERBS)
async def test_a_former_manager_is_refused_on_every_card_verb(
    verb, session, bot, connector, db_path, graph
):
    manager, employee = (client(session, bot, connector, u) for u in (MANAGER, EMPLOYEE))
    await known(employee)
    await choose_employee(manager)
    card = manager.last_card()
    before = dialogue_rows(db_path)
    heard = len(employee.seen())
    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)

    data = {**action_data(card.card, "next"), "verb": verb, **STEP_ANSWERS["tasks"]}
    sent = await manager.submit(card, data)
    assert any(NOT_YOURS in t for t in texts_of(sent)), texts_of(sent)
    assert not [s for s in sent if s.card], "no card of the dialogue was shown"
    assert dialogue_rows(db_path) == before
    assert len(employee.seen()) == heard


@pytest.mark.parametrize("command", ["fortsæt", "afbryd"])
async def test_a_former_manager_is_refused_at_continue(
    command, session, bot, connector, db_path, graph
):
    manager, employee = (client(session, bot, connector, u) for u in (MANAGER, EMPLOYEE))
    await known(employee)
    await choose_employee(manager)
    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    sent = await manager.say(command)
    assert any(NOT_YOURS in t for t in texts_of(sent)) and not [s for s in sent if s.card]
    # Moved back: the manager goes on where they were.
    graph.directory.set_manager(EMPLOYEE.aad_object_id, MANAGER.aad_object_id)
    sent = await manager.say("fortsæt")
    assert [s for s in sent if s.card]


async def test_an_employee_without_a_manager_in_entra_id_cannot_be_chosen(
    session, bot, connector, db_path, graph
):
    graph.directory.set_manager(EMPLOYEE.aad_object_id, None)  # GET …/manager answers 404
    manager, employee = (client(session, bot, connector, u) for u in (MANAGER, EMPLOYEE))
    await known(employee)
    heard = len(employee.seen())
    await choose_employee(manager)
    assert NOT_YOURS_CARD in card_texts([manager.last_card()]) or NOT_YOURS_CARD in json.dumps(
        manager.last_card().current, ensure_ascii=False
    )
    assert len(employee.seen()) == heard
    assert [(r[1], r[2]) for r in dialogue_rows(db_path)] == [(None, "employee")]


async def test_hr_leads_only_in_their_own_units(session, bot, connector, db_path):
    employee, far = (client(session, bot, connector, u) for u in (EMPLOYEE, FAR_EMPLOYEE))
    await known(employee)
    await known(far)
    hr, hr_elsewhere = (client(session, bot, connector, u) for u in (HR_USER, HR_ELSEWHERE))
    # Borgerservice's HR (through a nested group) leads for an employee in Borgerservice ...
    await choose_employee(hr)
    assert action_data(hr.last_card().card, "next")["step"] == "tasks"
    # ... Teknik's HR does not, but does for an employee in Teknik.
    await choose_employee(hr_elsewhere)
    assert NOT_YOURS_CARD in json.dumps(hr_elsewhere.last_card().current, ensure_ascii=False)
    await hr_elsewhere.say("afbryd")
    hr2 = client(session, bot, connector, HR_ELSEWHERE)
    await choose_employee(hr2, FAR_EMPLOYEE.name)
    assert action_data(hr2.last_card().card, "next")["step"] == "tasks"


async def test_hr_commands_follow_the_hr_groups(session, bot, connector):
    hr, colleague = (client(session, bot, connector, u) for u in (HR_USER, OTHER))
    assert "HR-adgang" not in " ".join(texts_of(await hr.say("hr")))
    assert any("HR-adgang" in t for t in texts_of(await colleague.say("hr")))


async def test_a_substitute_leads_only_for_the_manager_who_named_them(
    session, bot, connector, db_path
):
    manager, employee, colleague, far = (
        client(session, bot, connector, u) for u in (MANAGER, EMPLOYEE, OTHER, FAR_EMPLOYEE)
    )
    await known(employee)
    await known(far)
    await known(colleague)
    # Before being named: refused.
    await choose_employee(colleague)
    assert NOT_YOURS_CARD in json.dumps(colleague.last_card().current, ensure_ascii=False)
    sent = await manager.say(f"stedfortræder {OTHER.name}")
    assert any("stedfortræder kan nu" in t for t in texts_of(sent)), texts_of(sent)
    substitute = client(session, bot, connector, OTHER)
    await choose_employee(substitute)
    assert action_data(substitute.last_card().card, "next")["step"] == "tasks"
    # Not for another manager's employee.
    other_try = client(session, bot, connector, OTHER)
    await other_try.say("afbryd")
    await choose_employee(other_try, FAR_EMPLOYEE.name)
    assert NOT_YOURS_CARD in json.dumps(other_try.last_card().current, ensure_ascii=False)
    # Removed: refused again on the next card verb.
    await manager.say("stedfortræder fjern")
    card = substitute.last_card()
    sent = await substitute.submit(
        card, {**action_data(card.card, "next"), **STEP_ANSWERS["tasks"]}
    )
    assert any(NOT_YOURS in t for t in texts_of(sent))


async def test_hr_names_a_substitute_only_in_their_units(session, bot, connector, db_path):
    hr, hr_elsewhere = (client(session, bot, connector, u) for u in (HR_USER, HR_ELSEWHERE))
    refused = await hr_elsewhere.say(
        f"hr stedfortræder {MANAGER.aad_object_id} {OTHER.aad_object_id}"
    )
    assert any("ikke til en af de enheder" in t for t in texts_of(refused)), texts_of(refused)
    named = await hr.say(f"hr stedfortræder {MANAGER.aad_object_id} {OTHER.aad_object_id}")
    assert any("Stedfortræderen kan nu" in t for t in texts_of(named)), texts_of(named)
    employee, substitute = (client(session, bot, connector, u) for u in (EMPLOYEE, OTHER))
    await known(employee)
    await choose_employee(substitute)
    assert action_data(substitute.last_card().card, "next")["step"] == "tasks"


FAULTS = {
    "403-missing-permission": "forbidden",
    "429-retry-after": Faults(throttle=1.0, retry_after=30),
    "timeout": Faults(timeout=1.0, hang=2.0),
    "graph-down": "down",
}


@pytest.mark.parametrize("case", list(FAULTS), ids=list(FAULTS))
async def test_graph_that_cannot_answer_refuses_politely_and_changes_nothing(
    case, session, bot, connector, db_path, graph
):
    manager, employee = (client(session, bot, connector, u) for u in (MANAGER, EMPLOYEE))
    await known(employee)
    await choose_employee(manager)  # the dialogue is under way
    card = manager.last_card()
    before, heard = dialogue_rows(db_path), len(employee.seen())
    fault = FAULTS[case]

    def broken(on: bool) -> None:
        break_graph(graph, fault, on)

    broken(True)
    sent = await manager.submit(card, {**action_data(card.card, "next"), **STEP_ANSWERS["tasks"]})
    assert any(UNAVAILABLE in t for t in texts_of(sent)), texts_of(sent)
    # Starting needs the groups (HR_GROUPS are named): refused the same way.
    sent = await client(session, bot, connector, OTHER).say("start")
    assert any(UNAVAILABLE in t for t in texts_of(sent)) and not [s for s in sent if s.card]
    assert dialogue_rows(db_path) == before and len(employee.seen()) == heard
    if case == "429-retry-after":
        # Inside the Retry-After window no request reached Graph.
        assert graph.inside_windows(scale=0.01) == []
    # A dialogue started before the outage cannot choose the employee during it either.
    broken(False)
    await asyncio.sleep(graph.windows[-1].seconds * 0.01 if graph.windows else 0)
    other = client(session, bot, connector, OTHER)
    await other.say("start")
    card = other.last_card()
    broken(True)
    await other.submit(card, {**action_data(card.card, "next"), **STEP_ANSWERS["employee"]})
    assert UNAVAILABLE_CARD in json.dumps(other.last_card().card, ensure_ascii=False)
    assert len(employee.seen()) == heard
    theirs = [r for r in dialogue_rows(db_path) if r[0] == OTHER.aad_object_id]
    assert [(r[1], r[2]) for r in theirs] == [(None, "employee")]


async def test_answers_are_cached_for_the_configured_minutes(session, connector, db_path, graph):
    server = BotServer(db_path, **access_settings(graph, access_cache_minutes=5))
    await server.start()
    try:
        manager, employee = (client(session, server, connector, u) for u in (MANAGER, EMPLOYEE))
        await known(employee)
        await choose_employee(manager)
        for step in ("tasks", "environment", "technology"):
            card = manager.last_card()
            await manager.submit(card, {**action_data(card.card, "next"), **STEP_ANSWERS[step]})
        assert action_data(manager.last_card().card, "next")["step"] == "ergonomics"
        assert graph.directory.requests.get("manager") == 1
    finally:
        await server.stop()


async def test_only_the_managers_group_may_start(session, connector, db_path, graph):
    server = BotServer(db_path, **access_settings(graph, manager_group_id=MANAGERS))
    await server.start()
    try:
        colleague, manager = (client(session, server, connector, u) for u in (OTHER, MANAGER))
        sent = await colleague.say("start")
        assert any("gruppe af ledere" in t for t in texts_of(sent)) and not [
            s for s in sent if s.card
        ]
        assert rows(db_path, "SELECT id FROM dialogues") == []
        sent = await manager.say("start")  # a member through a nested group
        assert [s for s in sent if s.card]
    finally:
        await server.stop()


def test_the_start_up_log_says_which_checks_are_on(tmp_path, caplog, monkeypatch):
    from app import create_app
    from settings import Settings

    caplog.set_level("INFO")
    create_app(Settings(_env_file=None, database_path=tmp_path / "a.sqlite3"))
    assert "ACCESS CHECKS OFF (local mode)" in caplog.text
    caplog.clear()
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "x")
    create_app(
        Settings(
            _env_file=None,
            database_path=tmp_path / "b.sqlite3",
            access_checks="graph",
            graph_credential="managed_identity",
            hr_groups=f"{HR_GROUP}:Borgerservice",
            manager_group_id=MANAGERS,
        )
    )
    assert "access checks on through Graph" in caplog.text
    assert "HR from 1 groups" in caplog.text and "managers' group named" in caplog.text
    assert HR_GROUP not in caplog.text  # ids of groups are not logged either


def test_production_refuses_to_start_without_the_checks(tmp_path):
    from app import StartupRefused, create_app
    from settings import Settings

    with pytest.raises(StartupRefused, match="ACCESS_CHECKS"):
        create_app(
            Settings(
                _env_file=None,
                app_env="production",
                database_path=tmp_path / "p.sqlite3",
                microsoft_app_id=MANAGER.aad_object_id,
                microsoft_app_password="x",
                microsoft_app_tenant_id=EMPLOYEE.aad_object_id,
                allowed_tenant_ids=EMPLOYEE.aad_object_id,
                access_checks="off",
            )
        )


async def test_a_former_manager_no_longer_sees_the_agreement_and_self_check(
    session, bot, connector, db_path, graph
):
    manager, employee = (client(session, bot, connector, u) for u in (MANAGER, EMPLOYEE))
    await known(employee)
    await choose_employee(manager)
    for step in list(STEP_ANSWERS)[1:]:
        card = manager.last_card()
        await manager.submit(card, {**action_data(card.card, "next"), **STEP_ANSWERS[step]})
    review = manager.last_card()
    await manager.submit(review, action_data(review.card, "conclude"))
    [dialogue_id] = [r[0] for r in rows(db_path, "SELECT id FROM dialogues")]
    show = {"verb": "show_agreement", "dialogue_id": dialogue_id}
    assert [s for s in await manager.submit(review, show) if s.card], "the manager sees it"

    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    sent = await manager.submit(review, show)
    assert any(NOT_YOURS in t for t in texts_of(sent)) and not [s for s in sent if s.card]
    # The employee still sees their own agreement.
    assert [s for s in await employee.submit(review, show) if s.card]


async def test_substitutions_are_in_the_data_export_and_erased_with_the_person(
    session, connector, db_path, graph
):
    server = BotServer(db_path, **access_settings(graph, hr_users=f"{HR_USER.aad_object_id}:*"))
    await server.start()
    try:
        manager, colleague, hr = (
            client(session, server, connector, u) for u in (MANAGER, OTHER, HR_USER)
        )
        await known(colleague)
        await manager.say(f"stedfortræder {OTHER.name}")
        card = (await colleague.say("mine data"))[0]
        exported = " ".join(
            texts_of(await colleague.submit(card, action_data(card.card, "my_data_export")))
        )
        assert '"substitutes"' in exported and MANAGER.aad_object_id in exported
        await hr.say(f"hr slet {OTHER.aad_object_id}")
        assert rows(db_path, "SELECT key FROM bot_state WHERE key LIKE 'substitute/%'") == []
    finally:
        await server.stop()


@pytest.mark.parametrize("pointing_at", ["someone-elses-dialogue", "own-cancelled-dialogue"])
async def test_a_continue_pointing_elsewhere_is_checked_against_the_dialogue_it_shows(
    pointing_at, session, bot, connector, db_path, graph
):
    """``fortsæt`` with a dialogue id that is not the former manager's open one falls back to
    their open dialogue: that is the one checked."""
    manager, employee = (client(session, bot, connector, u) for u in (MANAGER, EMPLOYEE))
    if pointing_at == "someone-elses-dialogue":
        await client(session, bot, connector, NEW_MANAGER).say("start")
        [(pointed,)] = rows(db_path, "SELECT id FROM dialogues")
    else:
        await manager.say("start")
        await manager.say("afbryd")
        card = manager.last_card()
        await manager.submit(card, action_data(card.card, "cancel"))
        [(pointed,)] = rows(db_path, "SELECT id FROM dialogues WHERE state = 'cancelled'")
    await known(employee)
    await choose_employee(manager)
    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    for verb in ("continue", "cancel_open"):
        sent = await manager.submit(manager.last_card(), {"verb": verb, "dialogue_id": pointed})
        assert any(NOT_YOURS in t for t in texts_of(sent)), texts_of(sent)
        assert not [s for s in sent if s.card], "no card of the dialogue was shown"
