"""The weekly reminders through the real bot: the employee's pulse, the manager's digest and
nudges, sent by the bot's own scheduler through stored conversation references to a local Bot
Connector; answered, snoozed and stopped through /api/messages.

The reminders' clock is moved to the send time of the coming weeks (computed from today, so
the tests do not depend on the date they run on); everything else is real.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from app import CLOCK, REMINDERS
from core.reminders import working_days_since
from reminders.scheduler import closed_days
from tests.dbsnapshot import snapshot
from tests.harness import BotServer, TeamsClient, User, action_data, inputs, texts_of
from tests.reminder_seed import seed
from tests.test_employee_side import card_with, manager_to_review

pytestmark = pytest.mark.both_hosts

ROOT = Path(__file__).resolve().parent.parent

GOOD = {
    "breaks": "good",
    "workstation": "good",
    "colleagues": "good",
    "work_life": "good",
    "rest": "good",
}


def send_time(bot: BotServer, weeks_ahead: int) -> datetime:
    """A minute after the reminders' send time ``weeks_ahead`` weeks from now."""
    day = date.today() + timedelta(weeks=weeks_ahead)
    year, week, _ = day.isocalendar()
    return bot.app[REMINDERS].slot.send_time(year, week, closed_days(year)) + timedelta(minutes=1)


async def run_at(bot: BotServer, moment: datetime) -> dict:
    bot.app[CLOCK].set(moment)
    bot.app[REMINDERS].delivery.backoff_base = 0.02  # quick retries in tests
    return await bot.app[REMINDERS].run_once()


def rows(db_path, sql: str, *params) -> list:
    return sqlite3.connect(db_path).execute(sql, params).fetchall()


def cards_of(client: TeamsClient, words: str) -> list:
    return [
        s
        for s in client.seen()
        if s.card is not None and words in json.dumps(s.card, ensure_ascii=False)
    ]


async def confirmed_agreement(manager: TeamsClient, employee: TeamsClient) -> None:
    await employee.say("hjælp")
    await manager_to_review(manager)
    review = manager.last_card()
    await manager.submit(review, action_data(review.card, "conclude"))
    to_confirm = card_with(employee, "Bekræft")
    await employee.submit(to_confirm, action_data(to_confirm.card, "confirm"))


async def answer_pulse(employee: TeamsClient, answers: dict) -> list:
    pulse = cards_of(employee, "Ugens puls")[-1]
    return await employee.submit(pulse, {**action_data(pulse.card, "pulse_answer"), **answers})


async def test_a_week_of_reminders_goes_out_once(bot, manager, employee, db_path):
    await confirmed_agreement(manager, employee)
    await manager.say("start")  # a second dialogue, left unfinished
    monday = send_time(bot, 1)

    report = await run_at(bot, monday)
    assert report["sent"] == 2, report
    pulse = cards_of(employee, "Ugens puls")
    assert len(pulse) == 1 and len(inputs(pulse[0].card)) == 5
    assert "to uger i træk" in json.dumps(pulse[0].card, ensure_ascii=False)  # told up front
    digest = cards_of(manager, "Din ugentlige oversigt")
    assert len(digest) == 1
    assert "Samtaler, du ikke er blevet færdig med" in json.dumps(
        digest[0].card, ensure_ascii=False
    )

    # Running again, later the same week, and after a restart sends nothing more.
    before = len(employee.connector.sent)
    assert (await run_at(bot, monday + timedelta(hours=3))).get("sent", 0) == 0
    await bot.stop()
    await bot.start()
    assert (await run_at(bot, monday + timedelta(hours=4))).get("sent", 0) == 0
    assert len(employee.connector.sent) == before
    assert rows(db_path, "SELECT kind, state, attempts FROM reminder_ledger ORDER BY kind") == [
        ("digest", "sent", 1),
        ("pulse", "sent", 1),
    ]


async def test_a_problem_two_weeks_running_reaches_the_manager(bot, manager, employee, db_path):
    await confirmed_agreement(manager, employee)
    await run_at(bot, send_time(bot, 1))
    sent = await answer_pulse(employee, {**GOOD, "workstation": "problem"})
    answered = cards_of(employee, "Tak for dine svar")[-1]
    assert "får din leder at vide" not in json.dumps(answered.card, ensure_ascii=False)
    assert not inputs(answered.card)  # the pulse was replaced: it cannot be sent twice
    assert not texts_of(sent)

    await run_at(bot, send_time(bot, 2))
    await answer_pulse(employee, {**GOOD, "workstation": "problem"})
    answered = json.dumps(cards_of(employee, "Tak for dine svar")[-1].card, ensure_ascii=False)
    assert "din leder at vide, at der er et problem med: Arbejdspladsen derhjemme" in answered

    await run_at(bot, send_time(bot, 3))
    digest = json.dumps(cards_of(manager, "Din ugentlige oversigt")[-1].card, ensure_ascii=False)
    assert "Det samme problem to uger i træk" in digest
    assert "Mette Sørensen: Arbejdspladsen derhjemme" in digest
    # Only the topic goes to the manager, never the other answers.
    assert "Pauser og afveksling" not in digest


async def test_a_pulse_answer_is_checked_and_stored_once(bot, manager, employee, outsider, db_path):
    await confirmed_agreement(manager, employee)
    await outsider.say("hjælp")
    await run_at(bot, send_time(bot, 1))
    pulse = cards_of(employee, "Ugens puls")[-1]
    data = action_data(pulse.card, "pulse_answer")
    before = snapshot(db_path)
    # A value that was never offered, another user's submit, a forged week: refused.
    sent = await employee.submit(pulse, {**data, **GOOD, "rest": "fine"})
    assert "Vælg et svar" in texts_of(sent)[0]
    sent = await outsider.submit(pulse, {**data, **GOOD})
    assert "ikke til dig" in texts_of(sent)[0]
    sent = await employee.submit(pulse, {**data, **GOOD, "week": "2020-W01"})
    assert "ikke til dig" in texts_of(sent)[0]
    assert snapshot(db_path) == before
    await employee.submit(pulse, {**data, **GOOD})
    sent = await employee.submit(pulse, {**data, **GOOD, "rest": "problem"})  # a double click
    assert "allerede svaret" in texts_of(sent)[0]
    assert rows(db_path, "SELECT answers FROM pulse_answers") == [(json.dumps(GOOD),)]


async def test_snooze_skips_one_week_and_stop_ends_the_pulse(bot, manager, employee, db_path):
    await confirmed_agreement(manager, employee)
    await run_at(bot, send_time(bot, 1))
    pulse = cards_of(employee, "Ugens puls")[-1]
    await employee.submit(pulse, action_data(pulse.card, "pulse_snooze"))
    assert "springer pulsen over" in json.dumps(pulse.card, ensure_ascii=False)  # replaced

    await run_at(bot, send_time(bot, 2))
    assert len(cards_of(employee, "Ugens puls")) == 1  # skipped
    await run_at(bot, send_time(bot, 3))
    assert len(cards_of(employee, "Ugens puls")) == 2  # back

    pulse = cards_of(employee, "Ugens puls")[-1]
    sent = await employee.submit(pulse, action_data(pulse.card, "reminders_stop"))
    assert "ikke flere ugentlige pulser" in texts_of(sent)[0]
    await run_at(bot, send_time(bot, 4))
    assert len(cards_of(employee, "Ugens puls")) == 2  # stopped

    assert "igen" in texts_of(await employee.say("påmindelser til"))[0]
    await run_at(bot, send_time(bot, 5))
    assert len(cards_of(employee, "Ugens puls")) == 3


async def test_a_pending_confirmation_is_nudged_and_shown_in_the_digest(bot, manager, employee):
    await employee.say("hjælp")
    await manager_to_review(manager)
    review = manager.last_card()
    await manager.submit(review, action_data(review.card, "conclude"))
    # Two weeks later it is still not confirmed: well over three working days.
    await run_at(bot, send_time(bot, 2))
    nudge = cards_of(employee, "En lille påmindelse")
    assert len(nudge) == 1
    assert "fra Lone Leder venter på, at du bekræfter" in json.dumps(
        nudge[0].card, ensure_ascii=False
    )
    digest = json.dumps(cards_of(manager, "Din ugentlige oversigt")[-1].card, ensure_ascii=False)
    assert "Venter på, at medarbejderen bekræfter" in digest and "Mette Sørensen" in digest
    # The nudge's button opens the agreement to confirm.
    sent = await employee.submit(nudge[0], action_data(nudge[0].card, "show_agreement"))
    assert any("Bekræft" in json.dumps(s.card, ensure_ascii=False) for s in sent if s.card)


async def test_a_nudge_waits_for_three_working_days(bot, manager, employee):
    """Concluded today, next week's run nudges only if three working days have passed by then
    (e.g. concluded on a Thursday: Friday and Monday are two, so no nudge yet)."""
    await employee.say("hjælp")
    await manager_to_review(manager)
    review = manager.last_card()
    await manager.submit(review, action_data(review.card, "conclude"))
    moment = send_time(bot, 1)
    await run_at(bot, moment)
    waited = working_days_since(date.today(), bot.app[CLOCK].today(), closed_days(moment.year))
    assert bool(cards_of(employee, "En lille påmindelse")) == (waited >= 3), waited
    await run_at(bot, send_time(bot, 2))  # a week later it is always due
    assert len(cards_of(employee, "En lille påmindelse")) == 1 + (waited >= 3)  # one a week


@pytest.mark.parametrize("status", [403, 404])
async def test_a_blocked_app_makes_the_employee_unreachable_without_retries(
    bot, manager, employee, connector, db_path, status
):
    await confirmed_agreement(manager, employee)
    connector.faults_in[employee.conversation_id] = [status]
    report = await run_at(bot, send_time(bot, 1))
    assert report.get("unreachable") == 1 and "retry_403" not in report, report
    assert rows(
        db_path, "SELECT state, attempts, last_status FROM reminder_ledger WHERE kind = 'pulse'"
    ) == [("unreachable", 1, status)]
    await run_at(bot, send_time(bot, 2))  # the next digest says so
    digest = json.dumps(cards_of(manager, "Din ugentlige oversigt")[-1].card, ensure_ascii=False)
    assert "Medarbejdere, jeg ikke kunne nå" in digest and "Mette Sørensen" in digest


async def test_throttling_and_server_errors_are_retried_until_sent_once(
    bot, manager, employee, connector, db_path
):
    await confirmed_agreement(manager, employee)
    connector.faults_in[employee.conversation_id] = [429, 503, 500, 502]
    report = await run_at(bot, send_time(bot, 1))
    assert report["sent"] == 1 and report["skipped"] == 1, report  # the digest had nothing
    assert report["retry_429"] == 1 and report["retry_503"] == 1, report
    assert len(cards_of(employee, "Ugens puls")) == 1
    assert rows(db_path, "SELECT attempts FROM reminder_ledger WHERE kind = 'pulse'") == [(5,)]


async def test_nothing_is_sent_for_a_week_first_seen_too_late(bot, manager, employee, db_path):
    await confirmed_agreement(manager, employee)
    report = await run_at(bot, send_time(bot, 1) + timedelta(days=4))
    assert report.get("planned") is False, report
    assert not cards_of(employee, "Ugens puls")
    assert rows(db_path, "SELECT COUNT(*) FROM reminder_ledger") == [(0,)]


async def test_two_bot_processes_on_one_store_send_each_reminder_once(db_path, connector):
    """Two real `python app.py reminders run` processes, started together on one SQLite file:
    every employee gets exactly one pulse."""
    conversations = await seed(db_path, connector.url, employees=60)
    server = BotServer(db_path)  # only to learn the send time the bot computes
    await server.start()
    moment = send_time(server, 1)
    await server.stop()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MICROSOFT_APP")},
        "DATABASE_PATH": str(db_path),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "app.py", "reminders", "run", "--at", moment.isoformat()]
    processes = [
        await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [json.loads((await p.communicate())[0]) for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert sum(o.get("sent", 0) for o in outputs) == 60, outputs
    received = Counter(s.conversation_id for s in connector.sent)
    assert {c: received[c] for c in conversations} == {c: 1 for c in conversations}
    assert rows(
        db_path, "SELECT state, COUNT(*) FROM reminder_ledger WHERE kind = 'pulse' GROUP BY state"
    ) == [("sent", 60)]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("too_early", "on_time", "week"),
    [
        # Summer time began on Sunday 29 March 2026: 09:00 in Copenhagen is 07:00 UTC.
        ("2026-03-30T06:59:00", "2026-03-30T07:00:30", "2026-W14"),
        # Winter time began on Sunday 25 October 2026: 09:00 is 08:00 UTC again.
        ("2026-10-26T07:59:00", "2026-10-26T08:00:30", "2026-W44"),
        # Easter Monday 6 April 2026 and Whit Monday 25 May 2026: the send moves to Tuesday.
        ("2026-04-06T07:00:30", "2026-04-07T07:00:30", "2026-W15"),
        ("2026-05-25T07:00:30", "2026-05-26T07:00:30", "2026-W22"),
    ],
)
async def test_the_send_is_at_nine_in_copenhagen_on_a_working_day(
    bot, manager, employee, db_path, too_early, on_time, week
):
    await confirmed_agreement(manager, employee)
    await run_at(bot, utc(too_early))
    assert rows(db_path, "SELECT COUNT(*) FROM reminder_ledger WHERE week = ?", week) == [(0,)]
    assert not cards_of(employee, "Ugens puls")
    report = await run_at(bot, utc(on_time))
    assert report["week"] == week and report["sent"] == 1, report
    assert len(cards_of(employee, "Ugens puls")) == 1


SECRET = "s" * 40


@pytest.fixture
async def bot_with_secret(db_path):
    server = BotServer(db_path, reminders_run_secret=SECRET)
    await server.start()
    yield server
    await server.stop()


async def test_the_run_endpoint_needs_the_secret(bot_with_secret, session, connector, db_path):
    await seed(db_path, connector.url, employees=3)
    url = f"{bot_with_secret.url}/api/reminders"
    bot_with_secret.app[CLOCK].set(send_time(bot_with_secret, 1))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": SECRET}):
        async with session.post(f"{url}/run", headers=headers) as response:
            assert response.status == 401 and response.headers["WWW-Authenticate"] == "Bearer"
        async with session.get(f"{url}/status", headers=headers) as response:
            assert response.status == 401
    assert rows(db_path, "SELECT COUNT(*) FROM reminder_ledger") == [(0,)]
    auth = {"Authorization": f"Bearer {SECRET}"}
    async with session.post(f"{url}/run", headers=auth) as response:
        assert response.status == 202 and (await response.json())["started"] is True
    for _ in range(200):
        async with session.get(f"{url}/status", headers=auth) as response:
            status = await response.json()
        if not status["running"] and status["ledger"].get("sent") == 3:
            break
        await asyncio.sleep(0.05)
    assert status["ledger"] == {"sent": 3, "skipped": 1}, status  # 3 pulses; an empty digest
    assert len(connector.sent) == 3


async def test_without_a_secret_there_is_no_run_endpoint(bot, session):
    async with session.post(f"{bot.url}/api/reminders/run") as response:
        assert response.status in (404, 405)


def test_an_external_scheduler_without_a_secret_refuses_to_start(db_path):
    from app import StartupRefused, create_app
    from settings import Settings

    for bad in ({"reminder_scheduler": "external"}, {"reminders_run_secret": "short"}):
        with pytest.raises(StartupRefused):
            create_app(Settings(_env_file=None, database_path=db_path, **bad))


async def test_pulses_are_personal_data_export_erase_and_retention(
    session, connector, db_path, manager, employee
):
    from store.database import Database
    from store.personal_data import PersonalData

    hr_id = "55555555-5555-5555-5555-555555555555"
    server = BotServer(db_path, hr_users=f"{hr_id}:*")
    await server.start()
    try:
        manager.bot = employee.bot = server
        await confirmed_agreement(manager, employee)
        await run_at(server, send_time(server, 1))
        await answer_pulse(employee, {**GOOD, "rest": "problem"})
        card = (await employee.say("mine data"))[0]
        facts = {f["title"]: f["value"] for f in card.card["body"][2]["facts"]}
        assert facts["Svar på den ugentlige puls"] == "1"
        exported = "\n".join(
            texts_of(await employee.submit(card, action_data(card.card, "my_data_export")))
        )
        document = json.loads(exported.removeprefix("```json\n").removesuffix("\n```"))
        assert document["pulse_answers"][0]["answers"]["rest"] == "problem"
        assert [r["kind"] for r in document["reminders_sent"]] == ["pulse"]

        db = Database(db_path)
        await db.open()
        try:
            data = PersonalData(db)
            assert await data.purge_pulses(datetime.now(UTC), 365) == 0  # recent: kept
            assert await data.purge_pulses(datetime.now(UTC) + timedelta(days=366), 365) == 1
        finally:
            await db.close()

        hr = TeamsClient(session, server, connector, User("Anna HR", hr_id))
        await hr.say(f"hr slet {employee.user.aad_object_id}")
        for table, column in (
            ("reminder_ledger", "recipient_id"),
            ("pulse_answers", "employee_id"),
            ("reminder_preferences", "user_id"),
        ):
            assert rows(
                db_path,
                f"SELECT COUNT(*) FROM {table} WHERE {column} = ?",
                employee.user.aad_object_id,
            ) == [(0,)]
    finally:
        await server.stop()


@pytest.mark.both_engines
async def test_a_killed_sender_is_replaced_within_five_seconds(db_path, engine):
    """A `reminders run` process is SIGKILLed in the middle of a week while a running bot
    instance keeps asking to run (an external scheduler's trigger): the instance takes the
    sender lease over within five seconds of the kill and finishes the week; nothing is sent
    twice, and only messages caught in flight can be uncertain."""
    from reminders.delivery import CONCURRENCY, LEASE_SECONDS
    from tests.databases import rows as rows_of
    from tests.instances import BotProcess, base_env, due_slot, store_env
    from tests.teams_limits import RateLimitedConnector

    connector = RateLimitedConnector()  # 50 a second: a week of 250 takes five seconds
    await connector.start()
    waiting = None
    try:
        conversations = await seed(db_path, connector.url, employees=250)
        env = base_env(**store_env(db_path), **due_slot(), REMINDERS_RUN_SECRET=SECRET)
        waiting = BotProcess({**env, "REMINDER_SCHEDULER": "external"}, "waiting instance")
        await waiting.start()
        sender = await asyncio.create_subprocess_exec(
            sys.executable, "app.py", "reminders", "run", cwd=ROOT, env=env
        )
        while len(connector.sent) < 40:
            assert sender.returncode is None, "the sender ended before it was killed"
            await asyncio.sleep(0.01)
        (holder,) = rows_of(db_path, "SELECT holder FROM leases WHERE name = 'reminders'")[0]
        sender.kill()
        await sender.wait()
        killed_at, killed_after = time.monotonic(), len(connector.sent)

        auth = {"Authorization": f"Bearer {SECRET}"}
        taken_over_after = None
        async with aiohttp.ClientSession() as session:
            while True:
                # The scheduler's trigger until the instance has taken the lease over; after
                # that only the status, since every trigger starts a run (one that finds the
                # week done is short, but "running" while it lasts).
                if taken_over_after is None:
                    async with session.post(f"{waiting.url}/api/reminders/run", headers=auth) as r:
                        assert r.status == 202
                    now = rows_of(db_path, "SELECT holder FROM leases WHERE name = 'reminders'")
                    if now and now[0][0] != holder:
                        taken_over_after = time.monotonic() - killed_at
                async with session.get(f"{waiting.url}/api/reminders/status", headers=auth) as r:
                    status = await r.json()
                if not status["running"] and not status["ledger"].get("pending"):
                    break
                assert time.monotonic() - killed_at < 60, status
                await asyncio.sleep(0.1)
        print(f"takeover {taken_over_after:.2f} s after the kill (lease {LEASE_SECONDS} s)")
        assert taken_over_after is not None and taken_over_after <= 5.5, taken_over_after
        assert killed_after < 200 and len(connector.sent) > killed_after  # it was mid-run

        received = Counter(s.conversation_id for s in connector.sent)
        assert max(received.values()) == 1, "a reminder was sent twice"
        states = dict(
            rows_of(
                db_path,
                "SELECT state, COUNT(*) FROM reminder_ledger WHERE kind = 'pulse' GROUP BY state",
            )
        )
        assert set(states) <= {"sent", "uncertain"}, states
        assert states.get("uncertain", 0) <= CONCURRENCY, states  # only those in flight
        missing = [c for c in conversations if not received[c]]
        assert len(missing) <= states.get("uncertain", 0), (len(missing), states)
    finally:
        if waiting:
            await waiting.stop()
        await connector.stop()
