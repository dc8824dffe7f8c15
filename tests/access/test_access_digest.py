"""The manager's weekly digest with the access checks on, sent by the bot's own scheduler
through the local Bot Connector, against the local Graph server's directory
(tests/access_directory.py): a follow-up that is due goes to the employee's manager in Entra
ID now, never to a former manager; when Entra ID names no manager, nobody gets it; when Graph
cannot answer at send time, the item is held (sent to nobody) and the next week's run, which
asks again, lists it."""

from __future__ import annotations

import json

import pytest

from tests.access_directory import NEW_MANAGER
from tests.conftest import EMPLOYEE, MANAGER
from tests.follow_up_flow import TODAY, confirmed_agreement, press, texts
from tests.harness import BotServer, TeamsClient

pytestmark = pytest.mark.both_engines


def digests(client: TeamsClient) -> list[str]:
    title = texts(client)("digest.title")
    return [
        json.dumps(s.card, ensure_ascii=False)
        for s in client.seen()
        if s.card and title in json.dumps(s.card, ensure_ascii=False)
    ]


async def run_week(bot: BotServer, weeks_ahead: int) -> None:
    from tests.test_reminders import run_at, send_time

    await run_at(bot, send_time(bot, weeks_ahead))


async def agreement_due(people) -> tuple[TeamsClient, TeamsClient, TeamsClient]:
    """MANAGER's confirmed agreement with EMPLOYEE, due for a follow-up; NINA has written to
    the bot too, so a digest can reach her."""
    manager, employee, nina = people(MANAGER), people(EMPLOYEE), people(NEW_MANAGER)
    await confirmed_agreement(manager, employee, follow_up_date=TODAY)
    await nina.say("hjælp")
    return manager, employee, nina


async def test_the_follow_up_goes_to_the_new_manager_not_the_former(people, bot, graph):
    manager, employee, nina = await agreement_due(people)
    # Before she moved, she asked her manager then for a new conversation about it.
    await press(employee, "ask_follow_up", comment="Nye opgaver")
    assert texts(manager)("buttons.follow_up") in json.dumps(
        manager.seen()[-1].card, ensure_ascii=False
    )
    graph.directory.set_manager(EMPLOYEE.aad_object_id, NEW_MANAGER.aad_object_id)
    await run_week(bot, 1)

    assert not any(EMPLOYEE.name in d for d in digests(manager)), "nothing about her, not her wish"
    [hers] = digests(nina)
    t = texts(nina)
    assert t("digest.handed_over") in hers and EMPLOYEE.name in hers
    assert '"follow_up"' not in hers, "no button for a dialogue she cannot follow up"
    assert MANAGER.name not in hers


async def test_while_the_manager_is_unchanged_they_get_it_and_no_one_else(people, bot, graph):
    manager, _employee, nina = await agreement_due(people)
    await run_week(bot, 1)
    [mine] = digests(manager)
    assert texts(manager)("digest.follow_ups") in mine and EMPLOYEE.name in mine
    assert digests(nina) == []


async def test_with_no_manager_in_entra_id_nobody_gets_it(people, bot, graph):
    manager, _employee, nina = await agreement_due(people)
    graph.directory.set_manager(EMPLOYEE.aad_object_id, None)
    await run_week(bot, 1)
    assert not any(EMPLOYEE.name in d for d in digests(manager) + digests(nina))


async def test_when_graph_cannot_answer_the_item_is_held_until_the_next_run(people, bot, graph):
    manager, _employee, nina = await agreement_due(people)
    graph.directory.forbidden = True  # 403 for every directory question, inside $batch too
    await run_week(bot, 1)
    assert not any(EMPLOYEE.name in d for d in digests(manager) + digests(nina))

    graph.directory.forbidden = False  # a week later Graph answers: the manager gets it now
    await run_week(bot, 2)
    assert EMPLOYEE.name in digests(manager)[-1]
    assert digests(nina) == []
