"""Follow-up and renewal over the real HTTP endpoint, in Danish and English: "Følg op" from
the follow-up date on, a new version prefilled from the one in force where only what changed
is walked, the review showing what changed, both confirming again, and the confirmed version
in force until then; reopening with a reason; the employee asking for a new conversation;
and every stale, doubled or foreign press answered politely with one effect."""

from __future__ import annotations

import json

import pytest

from tests.answers import FOLLOW_UP, STEP_ANSWERS
from tests.databases import execute, rows
from tests.dbsnapshot import snapshot
from tests.follow_up_flow import (
    EMPLOYEES,
    MANAGERS,
    TODAY,
    card_with_verb,
    confirmed_agreement,
    has_verb,
    press,
    said,
    texts,
    twice,
)
from tests.harness import TeamsClient, action_data, inputs

pytestmark = pytest.mark.both_engines

LOCALES = ("da-DK", "en-US")


@pytest.fixture(params=LOCALES)
def pair(request, session, bot, connector) -> tuple[TeamsClient, TeamsClient]:
    locale = request.param
    return (
        TeamsClient(session, bot, connector, MANAGERS[locale]),
        TeamsClient(session, bot, connector, EMPLOYEES[locale]),
    )


def dumped(card) -> str:
    return json.dumps(card, ensure_ascii=False)


async def test_a_follow_up_ends_in_a_confirmed_version_2(pair, db_path):
    manager, employee = pair
    tm, te = texts(manager), texts(employee)
    old_confirm, old_data = await confirmed_agreement(manager, employee, follow_up_date=TODAY)

    # From the follow-up date on, status offers "Følg op".
    status = (await manager.say("status"))[0]
    assert has_verb(status.card, "follow_up")
    sent = await manager.submit(status, action_data(status.card, "follow_up"))
    assert tm("follow_up.intro", employee=employee.user.name) in said(sent)
    review = sent[-1].card
    assert tm("follow_up.changes_title", version=1) in dumped(review)
    assert te("follow_up.employee_told", manager=manager.user.name) in said(employee.seen())
    assert rows(
        db_path, "SELECT state, step, agreement_version, in_force_version FROM dialogues"
    ) == [("in_progress", "review", 1, 1)]
    # The version in force still shows, to both.
    mine = dumped((await employee.say("status"))[0].card)
    assert te("status.in_force", version=1) in mine

    # Only what changed: the tasks (three days), then the outcome (its date has passed).
    sent = await press(manager, "edit", edit_step="tasks")
    tasks = sent[-1]
    assert inputs(tasks.card)["tasks_home"]["value"] == STEP_ANSWERS["tasks"]["tasks_home"]
    changed = {**STEP_ANSWERS["tasks"], "days_per_week": "3", "fixed_days": "mon,tue,thu"}
    await manager.submit(tasks, {**action_data(tasks.card, "next"), **changed})
    review = manager.last_card().card
    line = tm(
        "follow_up.change_line",
        step=tm("steps.tasks.title"),
        label=tm("fields.days_per_week.label"),
        old=tm("fields.days_per_week.choices.2"),
        new=tm("fields.days_per_week.choices.3"),
    )
    assert line in dumped(review)
    sent = await press(manager, "conclude")  # the new version needs its own follow-up date
    outcome = sent[-1]
    assert action_data(outcome.card, "next")["step"] == "outcome"
    new_outcome = {**STEP_ANSWERS["outcome"], "follow_up_date": FOLLOW_UP, "valid_until": FOLLOW_UP}
    await manager.submit(outcome, {**action_data(outcome.card, "next"), **new_outcome})
    await press(manager, "conclude")
    assert rows(db_path, "SELECT version, state FROM agreements ORDER BY version") == [
        (1, "confirmed"),
        (2, "awaiting_employee"),
    ]
    # Until the employee confirms, version 1 is in force.
    theirs = dumped((await manager.say("status"))[0].card)
    assert tm("status.in_force", version=1) in theirs

    second = card_with_verb(employee, "confirm")
    assert te("follow_up.awaiting_intro", version=1) in dumped(second.card)
    # The employee sees what changed since the version they confirmed, too.
    assert te("follow_up.changes_title", version=1) in dumped(second.card)
    assert line in dumped(second.card)  # both use one locale here
    await employee.submit(second, action_data(second.card, "confirm"))
    assert rows(db_path, "SELECT version, state FROM agreements ORDER BY version") == [
        (1, "superseded"),
        (2, "confirmed"),
    ]
    assert rows(db_path, "SELECT state, agreement_version, in_force_version FROM dialogues") == [
        ("confirmed", 2, 2)
    ]
    v2 = json.loads(rows(db_path, "SELECT record FROM agreements WHERE version = 2")[0][0])
    assert v2["days_per_week"] == 3 and v2["replaces_version"] == 1
    assert v2["valid_until"] == FOLLOW_UP
    # Both versions wait for SharePoint, each once, as their own entries.
    assert rows(db_path, "SELECT version FROM sharepoint_outbox ORDER BY version") == [(1,), (2,)]

    # Replays: version 1's confirm and the old "Følg op" change nothing.
    before = snapshot(db_path)
    sent = await employee.submit(old_confirm, old_data)
    assert said(sent) == te("notices.stale")
    sent = await manager.submit(status, action_data(status.card, "follow_up"))
    assert said(sent) == tm("notices.stale")
    assert snapshot(db_path) == before


async def test_reopening_needs_a_reason_and_giving_up_keeps_the_agreement(pair, db_path):
    manager, employee = pair
    tm = texts(manager)
    await confirmed_agreement(manager, employee)  # follow-up in 90 days
    status = (await manager.say("status"))[0]
    assert not has_verb(status.card, "follow_up")
    agreement = card_with_verb(manager, "reopen")  # the confirmed agreement the manager got
    data = action_data(agreement.card, "reopen")
    # "Følg op" before the date is refused, and so is reopening without a reason.
    before = snapshot(db_path)
    sent = await manager.submit(agreement, {**data, "verb": "follow_up"})
    assert said(sent) == tm("follow_up.not_due")
    sent = await manager.submit(agreement, {**data, "reason": "  "})
    assert said(sent) == tm("follow_up.reason_needed")
    assert snapshot(db_path) == before

    reason = "Medarbejderen flytter" if manager.user.locale == "da-DK" else "Moving house"
    sent = await manager.submit(agreement, {**data, "reason": reason})
    review = sent[-1].card
    assert tm("follow_up.reason_line", reason=reason) in dumped(review)
    assert rows(db_path, "SELECT state, reopen_reason FROM dialogues") == [("in_progress", reason)]
    # A second press of the same reopen: already started, nothing more.
    before = snapshot(db_path)
    sent = await manager.submit(agreement, {**data, "reason": reason})
    assert said(sent) == tm("follow_up.already_started")
    assert snapshot(db_path) == before

    # Giving the follow-up up: version 1 applies still, with its answers.
    cancel = card_with_verb(manager, "cancel")
    sent = await manager.submit(cancel, action_data(cancel.card, "cancel"))
    assert tm("follow_up.cancelled", version=1) in said(sent)
    assert rows(db_path, "SELECT state, in_force_version, reopen_reason FROM dialogues") == [
        ("confirmed", 1, None)
    ]
    answers = json.loads(rows(db_path, "SELECT answers FROM dialogues")[0][0])
    assert answers["outcome"]["follow_up_date"] == FOLLOW_UP
    assert rows(db_path, "SELECT count(*) FROM agreements") == [(1,)]


async def test_the_employee_asks_for_a_new_conversation(pair, outsider, db_path):
    manager, employee = pair
    tm, te = texts(manager), texts(employee)
    await confirmed_agreement(manager, employee)
    answered = card_with_verb(employee, "ask_follow_up")  # the confirmed card, in place
    data = action_data(answered.card, "ask_follow_up")
    # Someone else cannot ask for the employee.
    sent = await outsider.submit(answered, {**data, "comment": "x"})
    assert said(sent) == texts(outsider)("notices.not_employee")

    comment = "Jeg har fået nye opgaver" if employee.user.locale == "da-DK" else "New tasks"
    await twice(employee, answered, {**data, "comment": comment})
    assert rows(db_path, "SELECT kind, state, comment FROM conversation_requests") == [
        ("follow_up", "open", comment)
    ]
    told = said(employee.seen())
    assert te("request.sent", manager=manager.user.name) in told
    assert te("request.already_sent", manager=manager.user.name) in told
    cards = [s for s in manager.seen() if s.card and tm("request.received_title") in dumped(s.card)]
    assert len(cards) == 1 and comment in dumped(cards[0].card)  # sent once

    # The card's button starts the follow-up; pressing it again is told so.
    request_card = cards[0]
    start = action_data(request_card.card, "follow_up")
    sent = await outsider.submit(request_card, start)
    assert said(sent) == texts(outsider)("notices.not_yours")
    sent = await manager.submit(request_card, start)
    assert tm("follow_up.intro", employee=employee.user.name) in said(sent)
    assert rows(db_path, "SELECT state FROM conversation_requests") == [("handled",)]
    before = snapshot(db_path)
    sent = await manager.submit(request_card, start)
    assert said(sent) == tm("follow_up.already_started")
    # The employee asking again now is told it is under way.
    sent = await employee.submit(answered, {**data, "comment": comment})
    assert said(sent) == te("follow_up.already_under_way")
    assert snapshot(db_path) == before


async def test_a_double_click_on_follow_up_starts_it_once(pair, db_path):
    manager, employee = pair
    await confirmed_agreement(manager, employee, follow_up_date=TODAY)
    status = (await manager.say("status"))[0]
    told_before = len(employee.seen())
    await twice(manager, status, action_data(status.card, "follow_up"))
    version = rows(db_path, "SELECT version FROM dialogues")[0][0]
    assert rows(db_path, "SELECT state FROM dialogues") == [("in_progress",)]
    intro = texts(manager)("follow_up.intro", employee=employee.user.name)
    assert said(manager.seen()).count(intro) == 1
    assert len(employee.seen()) == told_before + 1  # told once
    # One version step: the follow-up committed once.
    await press(manager, "later")
    assert rows(db_path, "SELECT version FROM dialogues")[0][0] == version


async def test_an_expired_agreement_can_be_followed_up(pair, db_path):
    manager, employee = pair
    await confirmed_agreement(manager, employee, valid_until=TODAY)
    # The end date passes (the card only takes today or later, so the store is changed).
    answers = json.loads(rows(db_path, "SELECT answers FROM dialogues")[0][0])
    answers["outcome"]["valid_until"] = "2020-01-01"
    execute(db_path, "UPDATE dialogues SET answers = ?", json.dumps(answers))
    status = (await manager.say("status"))[0]
    assert has_verb(status.card, "follow_up")


async def test_the_digest_lists_due_expired_and_asked_for_until_handled(pair, bot, db_path):
    from tests.test_reminders import run_at, send_time

    manager, employee = pair
    tm = texts(manager)
    await confirmed_agreement(manager, employee, follow_up_date=TODAY, valid_until=TODAY)
    comment = "Nye opgaver" if employee.user.locale == "da-DK" else "New tasks"
    await press(employee, "ask_follow_up", comment=comment)
    await run_at(bot, send_time(bot, 1))  # next week: the date has passed, the end date too
    digest = [s for s in manager.seen() if s.card and tm("digest.title") in dumped(s.card)]
    assert len(digest) == 1
    shown = dumped(digest[0].card)
    assert tm("digest.follow_ups") in shown
    assert tm("digest.expired") in shown
    assert tm("digest.request_follow_up", employee=employee.user.name) in shown
    # Its "Følg op" starts the follow-up; the next digest no longer lists it as due.
    sent = await manager.submit(digest[0], action_data(digest[0].card, "follow_up"))
    assert tm("follow_up.intro", employee=employee.user.name) in said(sent)
    await run_at(bot, send_time(bot, 2))
    later = [s for s in manager.seen() if s.card and tm("digest.title") in dumped(s.card)][-1]
    shown = dumped(later.card)
    assert tm("digest.unfinished") in shown
    for gone in ("digest.follow_ups", "digest.expired", "digest.requests"):
        assert tm(gone) not in shown, gone
    assert not has_verb(later.card, "follow_up")
