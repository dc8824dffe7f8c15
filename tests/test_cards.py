"""Every card the bot can send is a valid Adaptive Card 1.5 (the official schema, with only
the two Teams extensions allowed) and stays under 80 KB."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from jsonschema import Draft6Validator

from cards.reminder_screens import ReminderScreens
from cards.renderer import MAX_CARD_BYTES, CardRenderer
from cards.screens import Screens, StatusData
from core.agreement import build_record
from core.dialogue import AWAITING_EMPLOYEE
from core.reminders import Digest
from core.texts import texts_for
from tests.answers import FOLLOW_UP
from tests.card_catalogue import all_cards, answered_dialogue

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "adaptive-card-1.5.json"
CARDS = list(all_cards())


def teams_schema() -> dict:
    """The 1.5 schema plus exactly the Teams extensions the bot uses: ``msteams`` on the card
    and the people picker's ``choices.data`` on Input.ChoiceSet."""
    schema = copy.deepcopy(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    defs = schema["definitions"]
    defs["AdaptiveCard"]["properties"]["msteams"] = {
        "type": "object",
        "properties": {"width": {"enum": ["Full"]}},
        "additionalProperties": False,
    }
    defs["Input.ChoiceSet"]["properties"]["choices.data"] = {
        "type": "object",
        "properties": {
            "type": {"const": "Data.Query"},
            "dataset": {"const": "graph.microsoft.com/users"},
        },
        "required": ["type", "dataset"],
        "additionalProperties": False,
    }
    return schema


VALIDATOR = Draft6Validator(teams_schema())


@pytest.mark.parametrize(("name", "card"), CARDS, ids=[n for n, _ in CARDS])
def test_card_is_valid_adaptive_card_1_5(name, card):
    errors = sorted(VALIDATOR.iter_errors(card), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]]
    assert card["version"] == "1.5"


@pytest.mark.parametrize(("name", "card"), CARDS, ids=[n for n, _ in CARDS])
def test_card_is_under_80_kb(name, card):
    assert len(json.dumps(card, ensure_ascii=False).encode()) < MAX_CARD_BYTES


def test_the_schema_check_can_fail():
    broken = copy.deepcopy(CARDS[0][1])
    broken["body"][0]["wrap"] = "yes"
    broken["unknownKey"] = 1
    assert list(VALIDATOR.iter_errors(broken))


def test_every_template_is_covered():
    names = set(CardRenderer().template_names())
    covered = {n.split()[0] for n, _ in CARDS}
    steps = {n.removeprefix("step_") for n in names if n.startswith("step_")}
    assert steps <= covered
    assert {"welcome", "help", "review", "answered", "agreement", "status"} <= covered


def test_user_text_cannot_break_the_card_json():
    card = CardRenderer().render(
        "answered", title='"}], "x": {"', note='\\ " \n </script> {{ }}', answers=[]
    )
    assert card["body"][0]["text"] == '"}], "x": {"'
    assert "x" not in card


def test_inputs_carry_required_and_error_message():
    from tests.harness import inputs

    card = dict(CARDS)["tasks da-DK/text"]
    how_often = inputs(card)["frequency"]
    assert how_often["isRequired"] is True and how_often["errorMessage"]
    # The days a week are asked for weekly home working only: checked by the bot, not the card.
    assert inputs(card)["days_per_week"]["errorMessage"]
    assert inputs(card)["tasks_note"]["maxLength"] == 1000


def test_people_picker_in_teams_and_typed_name_locally():
    from tests.harness import inputs

    picker = inputs(dict(CARDS)["employee da-DK/picker"])["employee"]
    assert picker["type"] == "Input.ChoiceSet" and picker["style"] == "filtered"
    assert picker["choices.data"]["dataset"] == "graph.microsoft.com/users"
    typed = inputs(dict(CARDS)["employee da-DK/text"])["employee"]
    assert typed["type"] == "Input.Text"


@pytest.mark.parametrize(
    ("locale", "shown"), [("da-DK", "{d:%d-%m-%Y}"), ("en-US", "{d:%Y-%m-%d}")]
)
def test_every_card_shows_a_date_the_same_way(locale, shown):
    """The agreement, the status, HR's list and the manager's digest write a date alike:
    dd-mm-yyyy in Danish, ISO in English."""
    t, renderer = texts_for(locale), CardRenderer()
    screens = Screens(renderer, people_picker=False)
    dialogue = answered_dialogue(locale, "review")
    record = build_record(dialogue, 1, AWAITING_EMPLOYEE, "2026-11-26T10:00:00+00:00")
    follow_up = shown.format(d=date.fromisoformat(FOLLOW_UP))
    concluded = shown.format(d=date(2026, 11, 26))
    agreement = json.dumps(screens.agreement(record, t), ensure_ascii=False)
    assert follow_up in agreement and concluded in agreement
    assert follow_up in json.dumps(screens.hr_list(t, [record]), ensure_ascii=False)
    status = StatusData([], [], None, False, "2026-12-01")
    done = t("status.self_check_done", date=shown.format(d=date(2026, 12, 1)))
    assert done in json.dumps(screens.status_card(t, status), ensure_ascii=False)
    digest = ReminderScreens(renderer).digest(t, Digest(follow_ups=[dialogue]))
    line = t("digest.follow_up_line", employee="Mette Sørensen", date=follow_up)
    assert line in json.dumps(digest, ensure_ascii=False)


def test_agreement_parts_shared_by_two_cards_change_neither():
    """The conclusion builds the manager's copy and the employee's request from one set of
    parts: both cards are as built alone, and an employee who reads another language gets
    the agreement in their language, not in the manager's."""
    screens = Screens(CardRenderer(), people_picker=False)
    da, en = texts_for("da-DK"), texts_for("en-US")
    record = build_record(answered_dialogue("da-DK", "review"), 1, AWAITING_EMPLOYEE, "2026-11-26")
    envelope = {"dialogue_id": record.dialogue_id, "version": 9, "step": "review"}
    parts = screens.agreement_parts(record, da)
    assert screens.agreement(record, da, parts=parts) == screens.agreement(record, da)
    request = screens.agreement(record, da, confirm=envelope, intro="x", parts=parts)
    assert request == screens.agreement(record, da, confirm=envelope, intro="x")
    in_english = screens.agreement(record, en, confirm=envelope, intro="x", parts=parts)
    assert in_english == screens.agreement(record, en, confirm=envelope, intro="x")
    assert in_english["body"][0]["text"] == en("agreement.title") != da("agreement.title")
