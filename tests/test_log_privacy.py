"""No personal data in the logs: a whole two-person dialogue (invitation, self-check, the
manager's dialogue with free-text notes, conclusion, a dispute with a comment, revision,
confirmation, status, help, and refused submits) runs with the app's own log configuration at
DEBUG, in text and in JSON, and with pytest's caplog at DEBUG. No name, e-mail address or
free-text answer may appear in anything that was logged; the ids of dialogues may."""

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
from typing import Any
from unittest import mock

import pytest

from bot.logging_setup import QUIET, SILENT, configure
from core.fields import SELF_CHECK_BY_ID, STEPS_BY_ID
from tests.answers import SELF_CHECK_ANSWERS, STEP_ANSWERS
from tests.conftest import EMPLOYEE, MANAGER, OTHER
from tests.harness import TeamsClient, action_data, texts_of

pytestmark = pytest.mark.both_hosts

E_MAIL = "mette.sorensen@hjoerring.dk"
#: A free text for every text field of the dialogue and the self-check.
FREE_TEXT = {
    "unit": "Borgerservice Vendsyssel",
    "tasks_home": "Sagsbehandling af fortrolige sager",
    "tasks_office": "Borgermøder i skranken",
    "special_care_measures": "Låst skærm og lukket rum",
    "tasks_note": "Hemmelig note om opgaver",
    "colleague_contact": "Morgenmøde på Teams hver dag",
    "environment_note": f"Privat note om familien, skriv til {E_MAIL}",
    "technology_note": "Bruger egen printer derhjemme",
    "ergonomics_note": "Arbejder fra spisebordet i køkkenet",
    "weigh_organisation_note": "Kerneopgaven løses fint",
    "weigh_task_note": "Opgaverne egner sig til stilhed",
    "weigh_individual_note": "Lang transport hver dag",
    "conditions": "Møder op ved teammøder",
    "reason": "Opgaverne kræver fremmøde hver dag",
    "sc_tasks": "Skrivearbejde om borgersager",
    "sc_work_note": "Min søn er hjemme om eftermiddagen",
    "sc_contact_note": "Savner kollegerne lidt",
    "sc_equipment_note": "Privat note om stuen",
    "sc_ergonomics_note": "Ondt i ryggen efter lange dage",
}
REVISED_NOTE = "Ny hemmelig note efter uenighed"
COMMENT = f"Jeg arbejder hjemme mandag, ikke torsdag. Svar på {E_MAIL}"


def with_free_text(answers: dict[str, dict[str, str]], steps) -> dict[str, dict[str, str]]:
    filled = {}
    for step_id, values in answers.items():
        text_fields = {f.id for f in steps[step_id].fields if f.kind == "text"}
        filled[step_id] = {
            **values,
            **{k: FREE_TEXT.get(k, f"Fortroligt svar i feltet {k}") for k in text_fields},
        }
    return filled


STEPS = with_free_text(STEP_ANSWERS, STEPS_BY_ID)
SELF_CHECK = with_free_text(SELF_CHECK_ANSWERS, SELF_CHECK_BY_ID)
#: Everything a log line must never carry.
SECRETS = sorted(
    {
        MANAGER.name,
        EMPLOYEE.name,
        OTHER.name,
        *MANAGER.name.split(),
        *EMPLOYEE.name.split(),
        *OTHER.name.split(),
        E_MAIL,
        REVISED_NOTE,
        COMMENT,
        *(
            v
            for answers in (STEPS, SELF_CHECK)
            for step in answers.values()
            for v in step.values()
            if isinstance(v, str) and " " in v
        ),
    }
)
E_MAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def test_every_text_field_has_a_free_text():
    assert {f.id for s in STEPS_BY_ID.values() for f in s.fields if f.kind == "text"} | {
        f.id for s in SELF_CHECK_BY_ID.values() for f in s.fields if f.kind == "text"
    } == set(FREE_TEXT)


# --- the dialogue ----------------------------------------------------------------------------


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
    data = action_data(card.card, "next" if step in STEPS else "sc_next")
    assert data["step"] == step, (data["step"], step)
    return await client.submit(card, {**data, **answers[step]})


async def two_person_dialogue(manager, employee, outsider, db_path) -> None:
    await employee.say("hjælp")
    await outsider.say("hjælp")
    await manager.say("start")
    sent = await answer_step(manager, "employee", STEPS)
    assert "Jeg har sendt Mette Sørensen en besked" in " ".join(texts_of(sent))

    invitation = card_with(employee, "Start selvtjekket")
    await employee.submit(invitation, action_data(invitation.card, "sc_start"))
    for step in SELF_CHECK:
        await answer_step(employee, step, SELF_CHECK)
    for step in list(STEPS)[1:]:
        await answer_step(manager, step, STEPS)

    review = manager.last_card()
    # Refused submits log too: a malformed envelope, a stale card, someone else's card.
    await manager.submit(review, {"verb": "next", "dialogue_id": 5, "step": "review"})
    await manager.submit(review, {**action_data(review.card, "conclude"), "version": 1})
    await outsider.submit(review, action_data(review.card, "conclude"))
    await manager.submit(review, action_data(review.card, "conclude"))

    to_confirm = card_with(employee, "Jeg er uenig")
    await outsider.submit(to_confirm, {**action_data(to_confirm.card, "dispute"), "comment": "x"})
    dispute = {**action_data(to_confirm.card, "dispute"), "comment": COMMENT}
    sent = await employee.submit(to_confirm, dispute)
    assert "Jeg sender din bemærkning til din leder" in texts_of(sent)[0]
    await employee.submit(to_confirm, dispute)  # again: stale

    notice = card_with(manager, "Medarbejderen er uenig i aftalen")
    sent = await manager.submit(notice, action_data(notice.card, "revise"))
    review2 = [s for s in sent if s.card is not None][-1]
    sent = await manager.submit(
        review2, {**action_data(review2.card, "edit"), "edit_step": "tasks"}
    )
    tasks = [s for s in sent if s.card is not None][-1]
    await manager.submit(
        tasks, {**action_data(tasks.card, "next"), **STEPS["tasks"], "tasks_note": REVISED_NOTE}
    )
    review3 = manager.last_card()
    await manager.submit(review3, action_data(review3.card, "conclude"))
    second = card_with(employee, "Bekræft")
    sent = await employee.submit(second, action_data(second.card, "confirm"))
    assert "Du har bekræftet aftalen" in texts_of(sent)[0]

    for client in (manager, employee, outsider):
        await client.say("status")
        await client.say("hjælp")
    await manager.say("fortsæt")
    await employee.say("noget helt andet")

    rows = sqlite3.connect(db_path).execute("SELECT version, state FROM agreements").fetchall()
    assert sorted(rows) == [(1, "disputed"), (2, "confirmed")]


# --- the logs --------------------------------------------------------------------------------


def record_text(record: logging.LogRecord) -> str:
    """Everything a record carries: the message, its arguments, extras and exception."""
    return " ".join(
        [
            record.getMessage(),
            repr(record.args),
            repr({k: v for k, v in vars(record).items() if k not in ("msg", "args")}),
            record.exc_text or "",
        ]
    )


def leaks(text: str) -> list[str]:
    found = []
    for secret in SECRETS:
        # Also as a JSON formatter with ensure_ascii would write it.
        for form in {secret, json.dumps(secret)[1:-1]}:
            if form in text:
                found.append(secret)
    found += [m.group(0) for m in E_MAIL_LIKE.finditer(text)]
    return found


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_no_personal_data_in_the_logs(fmt, manager, employee, outsider, db_path, caplog):
    root = logging.getLogger()
    saved: dict[str, Any] = {
        "handlers": root.handlers[:],
        "quiet": {name: logging.getLogger(name).level for name in QUIET + SILENT},
    }
    caplog.set_level(logging.DEBUG)  # first: caplog restores the root level it found
    stream = io.StringIO()
    try:
        with mock.patch("sys.stderr", stream):
            configure("DEBUG", fmt)  # its StreamHandler writes to stderr: to the StringIO
        root.addHandler(caplog.handler)  # configure() replaced the root's handlers
        assert root.level == logging.DEBUG

        await two_person_dialogue(manager, employee, outsider, db_path)
    finally:
        root.handlers[:] = saved["handlers"]
        for name, level in saved["quiet"].items():
            logging.getLogger(name).setLevel(level)

    configured = stream.getvalue()
    captured = "\n".join(record_text(r) for r in caplog.records)
    # The scan means something: both saw the dialogue's log lines, with its id.
    assert configured.strip() and caplog.records
    dialogue_id = sqlite3.connect(db_path).execute("SELECT id FROM dialogues").fetchone()[0]
    assert dialogue_id in configured and dialogue_id in captured
    if fmt == "json":
        lines = [json.loads(line) for line in configured.splitlines() if line.strip()]
        assert any(line.get("dialogue") == dialogue_id for line in lines)

    assert leaks(configured) == [], configured
    assert leaks(captured) == [], captured


async def test_a_refused_activity_is_not_logged_with_what_it_carried(manager, caplog):
    """An activity with a text that is not a string (the Agents SDK's model refuses it with a
    400, botbuilder's reads it) is no 5xx, and neither the bot nor the SDK logs what it carried
    (the Agents SDK's model logs the input values it refuses)."""
    root = logging.getLogger()
    saved = root.handlers[:], {name: logging.getLogger(name).level for name in QUIET + SILENT}
    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    try:
        with mock.patch("sys.stderr", stream):
            configure("DEBUG", "text")
        root.addHandler(caplog.handler)
        status = await manager.post(manager.activity(text=[MANAGER.name, E_MAIL]))
    finally:
        root.handlers[:] = saved[0]
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)
    assert status in (201, 400)
    logged = stream.getvalue() + "\n".join(record_text(r) for r in caplog.records)
    assert MANAGER.name not in logged and E_MAIL not in logged, logged
