"""A database written by the release of 2026-12-01 (tests/fixtures/README.md) still works.

Each test starts the current bot on a copy of that file and uses it as the people in it
would: the managers' status, continuing and concluding their open dialogues, the employee
confirming the agreement that waits for her, the agreement card of a revised agreement, the
self-check on the manager's topic card, `mine data` and HR's export, buttons on cards the
old release sent, the chat state it kept, its SharePoint outbox, the weekly reminders through
the stored chats, and nothing of the old data lost on the way.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app import CLOCK, REMINDERS
from reminders.scheduler import closed_days
from settings import Settings
from sharepoint.provisioning import provision
from sharepoint.runtime import graph, syncer
from store.database import Database
from tests.answers import FOLLOW_UP, STEP_ANSWERS
from tests.connector import Sent
from tests.graph_server import GraphServer
from tests.harness import BotServer, TeamsClient, User, action_data, inputs, texts_of
from tests.sharepoint_agreements import LIST, SITE_URL, graph_settings, in_sharepoint

FIXTURE = Path(__file__).parent / "fixtures" / "release-2026-12.sqlite3"

LONE = User("Lone Kjærgaard", "3f2b8c1e-7a4d-4e9b-9c21-5d8e0f6a1b42")
HENRIK = User("Henrik Mølgaard", "a7c4e2d9-1b3f-4c8a-8e5d-2f9b6a0c3d71")
METTE = User("Mette Sørensen", "5e91b7a2-c8d4-4f36-a1e0-9b2c7d4f8e13")
JENS = User("Jens Østergaard", "c2d8f4a6-3e1b-4a97-b5c0-7e6d9f2a1b84")
SOFIE = User("Sofie Bæk", "8b3e6c1f-2d7a-4f05-9e48-1a6c3b9d7e20")
MADS = User("Mads Holm", "e4a1d7c3-9f2b-4b6e-8d15-3c7a0e5f9b62")
IDA = User("Ida Frederiksen", "1d6f9b3a-4e8c-4a72-b0d9-6e2f8c1a5b37")
FREJA = User("Freja Lund", "9c5a2e8f-6b1d-4d3c-a7f4-0b8e3d6c2a95")
HR_ID = "7b2e9d41-5c3a-4f86-b1e7-0d4c8a2f6e93"

#: Every table the old release wrote, and how many rows it left in each.
OLD_COUNTS = {
    "agreements": 5,
    "bot_state": 8,
    "conversation_refs": 8,
    "dialogues": 7,
    "leases": 0,
    "pulse_answers": 1,
    "reminder_ledger": 6,
    "reminder_preferences": 1,
    "reminder_weeks": 1,
    "schema_migrations": 4,
    "self_checks": 3,
    "sharepoint_outbox": 5,
}


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    copy = tmp_path / "release-2026-12.sqlite3"
    shutil.copyfile(FIXTURE, copy)
    return copy


@pytest.fixture
async def server(old_db: Path) -> AsyncIterator[BotServer]:
    bot = BotServer(old_db, hr_users=f"{HR_ID}:*")
    await bot.start()
    yield bot
    await bot.stop()


@pytest.fixture
def client(session, server, connector):
    def make(user: User) -> TeamsClient:
        return TeamsClient(session, server, connector, user)

    return make


def rows(db_path: Path, sql: str, *params: Any) -> list[tuple]:
    # The fixture itself is only ever read, and opened so that nothing is written beside it.
    target = f"file:{db_path}?immutable=1" if db_path == FIXTURE else f"file:{db_path}"
    with closing(sqlite3.connect(target, uri=True)) as db, db:
        return db.execute(sql, params).fetchall()


def tables(db_path: Path, like: Path = FIXTURE) -> dict[str, set[tuple]]:
    """Every table of ``like`` (the old release's file) with its rows in ``db_path``, read by
    the old release's columns, so a later migration that adds a column changes nothing here."""
    names = [
        n
        for (n,) in rows(like, "SELECT name FROM sqlite_master WHERE type = 'table'")
        if not n.startswith("sqlite_")
    ]
    found = {}
    for name in names:
        columns = ", ".join(f'"{c[1]}"' for c in rows(like, f'PRAGMA table_info("{name}")'))
        found[name] = set(rows(db_path, f'SELECT {columns} FROM "{name}"'))
    return found


def dialogue_id(db_path: Path, employee_name: str) -> str:
    [(found,)] = rows(db_path, "SELECT id FROM dialogues WHERE employee_name = ?", employee_name)
    return found


def shown(sent: Sent | dict[str, Any] | None) -> str:
    card = sent.card if isinstance(sent, Sent) else sent
    return json.dumps(card, ensure_ascii=False)


def sections(card: dict[str, Any]) -> dict[str, dict[str, str]]:
    """A status card's sections: heading -> {title: value} of the facts under it."""
    found: dict[str, dict[str, str]] = {}
    heading = ""
    for item in card["body"]:
        if item["type"] == "TextBlock":
            heading = item["text"]
        elif item["type"] == "FactSet":
            found[heading] = {f["title"]: f["value"] for f in item["facts"]}
    return found


def card_with(client: TeamsClient, text: str) -> Sent:
    found = [s for s in client.seen() if s.card is not None and text in shown(s)]
    assert found, f"no card with {text!r}"
    return found[-1]


def exported(sent: list[Sent]) -> Any:
    text = "\n".join(texts_of(sent))
    assert text.startswith("```json"), text[:200]
    return json.loads(text.removeprefix("```json\n").removesuffix("\n```"))


async def answer(client: TeamsClient, step: str, **changes: str) -> Sent:
    card = client.last_card()
    data = action_data(card.card, "next")
    assert data["step"] == step, (data["step"], step)
    sent = await client.submit(card, {**data, **STEP_ANSWERS[step], **changes})
    assert [s for s in sent if s.card], (step, texts_of(sent))
    return client.last_card()


async def test_status_lists_the_old_dialogues_by_state(client):
    lone = sections((await client(LONE).say("status"))[0].card)
    assert lone["Lederen er i gang"] == {"Mette Sørensen": "Emne 1: Opgaver og arbejdstid"}
    assert lone["Venter på medarbejderens bekræftelse"] == {
        "Sofie Bæk": "Hjemmearbejde godkendt. Opfølgning 31-03-2029."
        " Venter på medarbejderens bekræftelse."
    }
    assert lone["Bekræftet af begge"] == {
        "Mads Holm": "Godkendt med betingelser. Opfølgning 30-06-2029. Bekræftet af begge."
    }
    assert "Niels Jakobsen" not in json.dumps(lone, ensure_ascii=False)  # cancelled

    henrik = sections((await client(HENRIK).say("status"))[0].card)
    assert henrik["Lederen er i gang"] == {"Jens Østergaard": "Gennemse aftalen"}
    assert henrik["Medarbejderen er uenig"] == {
        "Ida Frederiksen": "Ikke godkendt – arbejdet foregår på den faste arbejdsplads."
        " Opfølgning 30-09-2028. Medarbejderen er uenig."
    }
    assert henrik["Bekræftet af begge"] == {
        "Freja Lund": "Godkendt med betingelser. Opfølgning 30-09-2029. Bekræftet af begge."
    }

    sofie = (await client(SOFIE).say("status"))[0].card
    assert sections(sofie)["Aftaler om dig"] == {
        "Lone Kjærgaard": "Venter på medarbejderens bekræftelse"
    }
    assert action_data(sofie, "show_agreement")["dialogue_id"]
    mads = sections((await client(MADS).say("status"))[0].card)
    assert mads["Aftaler om dig"] == {"Lone Kjærgaard": "Bekræftet af begge"}
    assert mads["Dit selvtjek"] == {"": "Lavet den 01-12-2026"}
    jens = sections((await client(JENS).say("status"))[0].card)
    assert jens["Dit selvtjek"] == {"": "I gang"}


async def test_the_manager_concludes_the_dialogue_left_at_the_review(client, old_db):
    henrik, jens = client(HENRIK), client(JENS)
    await jens.say("hjælp")  # the chat the agreement is sent to
    sent = await henrik.say("fortsæt")
    assert "samtalen med Jens Østergaard" in texts_of(sent)[0]
    review = sent[-1]
    body = shown(review)
    assert "Gennemse aftalen" in body and "Deltager i fredagsmødet" in body
    assert "Skærmarbejde" in body and "Mandag, Torsdag" in body
    sent = await henrik.submit(review, action_data(review.card, "conclude"))
    assert "sendt aftalen til Jens Østergaard, som skal bekræfte den" in " ".join(texts_of(sent))

    did = dialogue_id(old_db, JENS.name)
    assert rows(
        old_db,
        "SELECT version, state, decision, follow_up_date FROM agreements WHERE dialogue_id = ?",
        did,
    ) == [(1, "awaiting_employee", "approved_with_conditions", "2029-11-30")]
    assert rows(old_db, "SELECT version FROM sharepoint_outbox WHERE dialogue_id = ?", did) == [
        (1,)
    ]
    to_confirm = card_with(jens, "Bekræft")
    sent = await jens.submit(to_confirm, action_data(to_confirm.card, "confirm"))
    assert "Du har bekræftet aftalen" in texts_of(sent)[0]
    assert rows(old_db, "SELECT state FROM dialogues WHERE id = ?", did) == [("confirmed",)]


async def test_the_self_check_is_on_the_topic_cards_and_the_dialogue_concludes(client, old_db):
    lone, mette = client(LONE), client(METTE)
    await mette.say("hjælp")
    sent = await lone.say("fortsæt")
    assert "samtalen med Mette Sørensen" in texts_of(sent)[0]
    tasks = shown(sent[-1])
    assert action_data(sent[-1].card, "next")["step"] == "tasks"
    assert "Medarbejderens selvtjek" in tasks and "Skrivearbejde" in tasks
    assert "ikke lavet selvtjekket endnu" not in tasks
    await answer(lone, "tasks")
    technology = shown(await answer(lone, "environment"))
    assert "Medarbejderens selvtjek" in technology
    assert "Mangler en egnet kontorstol." in technology
    for step in ("technology", "ergonomics", "weighing"):
        await answer(lone, step)
    review = await answer(lone, "outcome")
    assert "Medarbejderen ønsker en synsprøve." in shown(review)
    await lone.submit(review, action_data(review.card, "conclude"))

    did = dialogue_id(old_db, METTE.name)
    [(record,)] = rows(old_db, "SELECT record FROM agreements WHERE dialogue_id = ?", did)
    record = json.loads(record)
    assert record["employee"]["name"] == METTE.name and record["follow_up_date"] == FOLLOW_UP
    assert "R9" in record["rules"]  # from the self-check stored by the old release
    to_confirm = card_with(mette, "Bekræft")
    await mette.submit(to_confirm, action_data(to_confirm.card, "confirm"))
    assert rows(old_db, "SELECT state FROM agreements WHERE dialogue_id = ?", did) == [
        ("confirmed",)
    ]


async def test_the_employee_confirms_the_agreement_waiting_for_her(client, old_db):
    lone, sofie = client(LONE), client(SOFIE)
    await lone.say("hjælp")  # the chat the news goes to
    status = (await sofie.say("status"))[0]
    sent = await sofie.submit(status, action_data(status.card, "show_agreement"))
    to_confirm = [s for s in sent if s.card][-1]
    body = shown(to_confirm)
    assert "Hjemmearbejde godkendt" in body and "Lone Kjærgaard" in body
    assert "31-03-2029" in body and "Fleksible dage efter aftale" in body
    sent = await sofie.submit(to_confirm, action_data(to_confirm.card, "confirm"))
    assert "Du har bekræftet aftalen" in texts_of(sent)[0]
    assert "Bekræftet af begge" in shown(to_confirm) and not inputs(to_confirm.card)
    assert "Sofie Bæk har bekræftet aftalen" in " ".join(texts_of(lone.seen()))
    did = dialogue_id(old_db, SOFIE.name)
    assert rows(old_db, "SELECT state FROM dialogues WHERE id = ?", did) == [("confirmed",)]
    assert rows(
        old_db, "SELECT version, state, decision FROM agreements WHERE dialogue_id = ?", did
    ) == [(1, "confirmed", "approved")]
    record = json.loads(
        rows(old_db, "SELECT record FROM agreements WHERE dialogue_id = ?", did)[0][0]
    )
    assert record["state"] == "confirmed" and record["answered_at"]
    assert record["availability"] == {"from": "08:00", "to": "15:30"}  # the old shape


@pytest.mark.parametrize("user", [FREJA, HENRIK], ids=["employee", "manager"])
async def test_the_revised_agreement_card_shows_version_2(client, old_db, user):
    freja = client(user)
    did = dialogue_id(old_db, FREJA.name)
    sent = await freja.submit(Sent("", {}, "0"), {"verb": "show_agreement", "dialogue_id": did})
    card = [s for s in sent if s.card][-1].card
    body = shown(card)
    assert "Aftale om hjemmearbejde" in body
    assert "Freja Lund" in body and "Henrik Mølgaard" in body
    assert "Godkendt med betingelser" in body and "Møder op ved teammøder" in body
    assert "Bekræftet af begge" in body
    assert {"title": "Version", "value": "2"} in [
        f for item in card["body"] if item["type"] == "FactSet" for f in item["facts"]
    ]
    # The rules of version 2 as they were stored: one day a week is no longer screen work (R1).
    assert "Bærbar, tablet og telefon" in body and "Arbejdspladsvurdering (APV)" in body
    assert "Skærmarbejde" not in body
    assert "1 dag" in body and "Mandag" in body and "Torsdag" not in body  # the revision
    assert "Jeg arbejder hjemme mandag" not in body  # the comment belonged to version 1


async def test_my_data_and_hr_export_return_the_old_records(client, old_db):
    freja = client(FREJA)
    card = (await freja.say("mine data"))[0]
    facts = sections(card.card)["Det har jeg gemt om dig"]
    assert facts["Samtaler om dig"] == "1" and facts["Aftaler (alle versioner)"] == "2"
    assert facts["Svar på den ugentlige puls"] == "0"
    document = exported(await freja.submit(card, action_data(card.card, "my_data_export")))
    assert document["user_id"] == FREJA.aad_object_id
    versions = {a["version"]: a for a in document["agreements"]}
    assert versions[1]["state"] == "disputed"
    assert versions[1]["employee_comment"] == "Jeg arbejder hjemme mandag, ikke torsdag"
    assert versions[2]["state"] == "confirmed"
    assert versions[1]["record"]["fixed_days"] == ["mon", "thu"]
    assert versions[2]["record"]["fixed_days"] == ["mon"]
    assert document["reminder_preferences"][0]["snoozed_week"] == "2026-W51"

    mads = client(MADS)
    card = (await mads.say("mine data"))[0]
    document = exported(await mads.submit(card, action_data(card.card, "my_data_export")))
    assert document["pulse_answers"][0]["answers"]["workstation"] == "problem"
    [check] = document["self_checks"]
    assert check["state"] == "done"
    assert check["answers"]["sc_equipment"]["sc_equipment_note"] == "Privat note om stuen"

    hr = client(User("Hanne Frandsen", HR_ID))
    listing = (await hr.say("HR"))[0]
    records = exported(await hr.submit(listing, action_data(listing.card, "hr_export")))
    by_name = {r["employee"]: r for r in records}
    assert set(by_name) == {"Mads Holm", "Sofie Bæk", "Ida Frederiksen", "Freja Lund"}
    assert by_name["Ida Frederiksen"]["decision"] == "not_approved"
    assert by_name["Freja Lund"]["version"] == 2
    assert by_name["Mads Holm"]["rules"] and "R9" in by_name["Mads Holm"]["rules"]


async def test_buttons_on_cards_the_old_release_sent_still_work(client, old_db):
    """A card in the chat carries what the old release put on it: verb, id, step, version."""
    henrik, ida, jens = client(HENRIK), client(IDA), client(JENS)
    await ida.say("hjælp")
    did = dialogue_id(old_db, IDA.name)
    [(step, version)] = rows(old_db, "SELECT step, version FROM dialogues WHERE id = ?", did)
    old_notice = Sent("", {}, "0")  # the dispute notice of the old release
    envelope = {"dialogue_id": did, "step": step, "version": version}
    sent = await henrik.submit(old_notice, {"verb": "revise", **envelope})
    review = [s for s in sent if s.card][-1]
    assert "Gennemse aftalen" in shown(review) and "0 dage" in shown(review)
    sent = await henrik.submit(review, {**action_data(review.card, "edit"), "edit_step": "tasks"})
    tasks = [s for s in sent if s.card][-1]
    assert inputs(tasks.card)["days_per_week"]["value"] == "0"  # the old answer, prefilled
    await henrik.submit(
        tasks,
        {
            **action_data(tasks.card, "next"),
            **STEP_ANSWERS["tasks"],
            "days_per_week": "1",
            "day_pattern": "flexible",
        },
    )
    review = henrik.last_card()
    sent = await henrik.submit(review, {**action_data(review.card, "edit"), "edit_step": "outcome"})
    outcome = [s for s in sent if s.card][-1]
    await henrik.submit(
        outcome,
        {
            **action_data(outcome.card, "next"),
            "decision": "approved",
            "follow_up_date": FOLLOW_UP,
        },
    )
    review = henrik.last_card()
    await henrik.submit(review, action_data(review.card, "conclude"))
    assert rows(
        old_db,
        "SELECT version, state, decision, employee_comment FROM agreements"
        " WHERE dialogue_id = ? ORDER BY version",
        did,
    ) == [
        (1, "disputed", "not_approved", "Jeg ønsker én dag hjemme om ugen"),
        (2, "awaiting_employee", "approved", None),
    ]
    assert "Version" in shown(card_with(ida, "Bekræft"))

    # Jens's self-check, left at its second step on a card of the old release.
    [(check_id, check_step, check_version)] = rows(
        old_db, "SELECT id, step, version FROM self_checks WHERE state = 'in_progress'"
    )
    assert check_step == "sc_contact"
    sent = await jens.submit(
        Sent("", {}, "0"),
        {
            "verb": "sc_next",
            "check_id": check_id,
            "step": check_step,
            "version": check_version,
            "sc_feedback": "daily",
            "sc_colleagues": "good",
            "sc_work_life": "partly",
        },
    )
    assert action_data([s for s in sent if s.card][-1].card, "sc_next")["step"] == "sc_equipment"


async def test_the_old_chat_remembers_the_dialogue_it_was_in(client, old_db):
    """The chat state the old release kept (bot_state) still points at its dialogue."""
    [(old_chat,)] = rows(
        old_db,
        "SELECT conversation_id FROM conversation_refs WHERE user_id = ?",
        LONE.aad_object_id,
    )
    # A second open dialogue, begun in another chat, is now Lone's newest.
    other = client(LONE)
    await other.say("start")
    card = other.last_card()
    await other.submit(
        card,
        {
            **action_data(card.card, "next"),
            **STEP_ANSWERS["employee"],
            "employee": "Karen Thomsen",
        },
    )
    assert "samtalen med Karen Thomsen" in texts_of(await client(LONE).say("fortsæt"))[0]
    lone = client(LONE)
    lone.conversation_id = old_chat
    sent = await lone.say("fortsæt")
    assert "samtalen med Mette Sørensen" in texts_of(sent)[0]
    assert action_data(sent[-1].card, "next")["step"] == "tasks"


async def test_the_old_outbox_reaches_sharepoint(old_db, monkeypatch):
    graph_server = GraphServer(page_size=10)
    await graph_server.start()
    try:
        for key, value in graph_server.identity_env().items():
            monkeypatch.setenv(key, value)
        settings = Settings(_env_file=None, **graph_settings(graph_server.url))
        db = Database(old_db)
        await db.open()
        try:
            async with graph(settings) as client:
                await provision(client, SITE_URL, LIST, "", settings.sharepoint_folder)
                sync = syncer(db, client, settings)
                for _ in range(200):
                    if (await sync.outbox.counts())["pending"] == 0:
                        break
                    await sync.drain_once()
        finally:
            await db.close()
        items = in_sharepoint(graph_server)
        files = graph_server.files()
    finally:
        await graph_server.stop()

    freja = dialogue_id(old_db, FREJA.name)
    ida = dialogue_id(old_db, IDA.name)
    assert len(items) == 5 and len(files) == 5
    assert items[f"{freja}:1"]["AgreementState"] == "Medarbejderen er uenig"
    v2 = items[f"{freja}:2"]
    assert v2["AgreementState"] == "Bekræftet af begge" and v2["EmployeeName"] == "Freja Lund"
    assert v2["Decision"] == "Godkendt med betingelser" and v2["DaysPerWeek"] == 1
    assert v2["FollowUpDate"] == "2029-09-30T00:00:00Z" and v2["ConfirmedAt"].endswith("Z")
    assert "R1 Skærmarbejde" not in v2["RulesTriggered"]
    assert "R1 Skærmarbejde" in items[f"{freja}:1"]["RulesTriggered"]
    assert items[f"{ida}:1"]["Decision"].startswith("Ikke godkendt")
    page = files[f"{freja}-v2.html"].decode()
    assert "Aftale om hjemmearbejde" in page and "Freja Lund" in page
    assert "Bekræftet af begge" in page and "Bærbar, tablet og telefon" in page
    assert rows(old_db, "SELECT COUNT(*) FROM sharepoint_outbox WHERE synced_at IS NULL") == [(0,)]


async def test_the_weekly_reminders_go_on_through_the_stored_chats(server, client, old_db):
    # The old chats' service address was the old run's local connector; here it is this one.
    url = client(MADS).connector.url
    with closing(sqlite3.connect(old_db)) as db, db:
        db.execute(
            "UPDATE conversation_refs SET service_url = ?,"
            " reference = json_set(reference, '$.serviceUrl', ?)",
            (url, url),
        )
    old_chat = {
        user: cid
        for user, cid in rows(old_db, "SELECT user_id, conversation_id FROM conversation_refs")
    }
    ledger = rows(old_db, "SELECT * FROM reminder_ledger")
    scheduler = server.app[REMINDERS]
    scheduler.delivery.backoff_base = 0.02

    async def run_in(week: int) -> dict:
        moment = scheduler.slot.send_time(2026, week, closed_days(2026)) + timedelta(minutes=1)
        server.app[CLOCK].set(moment)
        return await scheduler.run_once()

    # The week the old release sent goes out once only, also after the upgrade.
    assert (await run_in(50)).get("sent", 0) == 0
    assert rows(old_db, "SELECT * FROM reminder_ledger") == ledger

    report = await run_in(51)
    assert report["sent"] >= 1, report
    sent = client(MADS).connector.sent
    pulses = [s for s in sent if s.card is not None and "Ugens puls" in shown(s)]
    assert [p.conversation_id for p in pulses] == [old_chat[MADS.aad_object_id]]
    assert rows(
        old_db,
        "SELECT recipient_id, state FROM reminder_ledger WHERE week = '2026-W51'"
        " AND kind = 'pulse'",
    ) == [(MADS.aad_object_id, "sent")]  # Freja skipped this week's pulse before the upgrade


async def test_nothing_of_the_old_data_is_lost(server, client, old_db):
    before = tables(FIXTURE)
    assert {n: len(r) for n, r in before.items()} == OLD_COUNTS
    for user in (LONE, HENRIK, METTE, JENS, SOFIE, MADS, FREJA):
        status = await client(user).say("status")
        assert "Dine samtaler og aftaler" in shown(status[0]), texts_of(status)
        data = await client(user).say("mine data")
        assert "Det har jeg gemt om dig" in shown(data[0]), texts_of(data)
    await server.stop()
    await server.start()  # the store opened twice: migrations, if any, run once
    after = tables(old_db)
    for name, old_rows in before.items():
        assert old_rows <= after[name], name
    grown = {n for n in before if len(after[n]) != len(before[n])}
    # New chats and their state (and a migration, should one come) are the only new rows;
    # every dialogue, agreement, self-check, outbox row, reminder and pulse is as it was.
    assert grown <= {"conversation_refs", "bot_state", "schema_migrations"}, grown
