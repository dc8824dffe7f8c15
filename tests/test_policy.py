"""The guidance as data: the policy file moves the rules without a code change, and a file
with a problem stops the bot with one line that names the key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import policy as policies
from core.answers import SelfCheckAnswers
from core.rules import evaluate
from core.self_check import flags
from core.texts import texts_for
from tests.answers import typed_answers

ROOT = Path(__file__).resolve().parent.parent
TEXT = policies.POLICY_FILE.read_text(encoding="utf-8")


def copy_with(tmp_path: Path, old: str, new: str) -> Path:
    assert old in TEXT, old
    path = tmp_path / "policy.toml"
    path.write_text(TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def screen_work(policy: policies.Policy, days: str) -> bool:
    answers = typed_answers({"tasks": {"days_per_week": days, "day_pattern": "flexible"}})
    return "screen_work_rules" in {h.key for h in evaluate(answers, policy=policy)}


def test_a_higher_threshold_in_a_copy_moves_the_screen_work_rule(tmp_path):
    seed = policies.load()
    stricter = policies.load(copy_with(tmp_path, "screen_work_days = 2", "screen_work_days = 3"))
    assert screen_work(seed, "2") and not screen_work(stricter, "2")
    assert screen_work(stricter, "3")


def test_the_laws_more_than_two_days_as_in_docs(tmp_path):
    """docs/policy.md: the law's "more than 2 days a week" is "above" the threshold."""
    law = policies.load(
        copy_with(
            tmp_path,
            'when = { "tasks.days_per_week" = { at_least = "screen_work_days" } }',
            'when = { "tasks.days_per_week" = { above = "screen_work_days" } }',
        )
    )
    assert not screen_work(law, "2") and screen_work(law, "3")


def test_the_self_check_follows_the_laptop_threshold(tmp_path):
    answers = SelfCheckAnswers.model_validate(
        {
            "sc_equipment": {
                **dict.fromkeys(
                    ("sc_screen", "sc_chair", "sc_table", "sc_lighting", "sc_phone"), "yes"
                ),
                "sc_keyboard_mouse": "no",
                "sc_laptop_hours": 3,
                "sc_systems": "yes",
            }
        }
    )
    more = policies.load(copy_with(tmp_path, "laptop_hours = 2", "laptop_hours = 4"))
    assert [f.key for f in flags(answers)] == ["keyboard_mouse"]
    assert flags(answers, more) == []


def test_every_action_has_an_item_title_and_a_default_deadline():
    policy = policies.active()
    for action in policy.actions:
        if action.kind == "action":
            assert action.title is not None and action.due_days and action.due_days > 0
        else:
            assert action.title is None and action.due_days is None
    assert policy.action("apv_covers_home").due_days == 90
    assert texts_for("da-DK")("items.kinds.offer_eye_test") == "Tilbyd en synsprøve"
    assert texts_for("en-US")("items.kinds.offer_eye_test") == "Offer an eye test"


def test_texts_show_the_thresholds_value_and_plain_titles():
    da, en = texts_for("da-DK"), texts_for("en-US")
    assert "mere end 2 timer om dagen" in da("actions.separate_keyboard_mouse")
    assert "more than 2 hours a day" in en("actions.separate_keyboard_mouse")
    assert da("rules.R2") == "Bærbar, tablet og telefon"
    assert da("sources.equipment.url").startswith("https://www.kropogkontor.dk/")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            '"tasks.systematic" = { is = "yes" }',
            '"tasks.systematik" = { is = "yes" }',
            "actions[3] (med_committee).when: there is no answer 'tasks.systematik'",
        ),
        (
            '"tasks.systematic" = { is = "yes" }',
            '"tasks.systematic" = { is = "ja" }',
            "actions[3] (med_committee).when.tasks.systematic: 'ja' is not one of no, yes",
        ),
        (
            '{ at_least = "screen_work_days" }',
            '{ at_least = "screen_days" }',
            "no threshold named 'screen_days'",
        ),
        ('owner = "work_environment_group"', 'owner = "hr"', "actions.7.owner"),
        (
            'source = "screen_order"',
            'source = "nowhere"',
            "actions[0] (screen_work_rules).source: no source 'nowhere'",
        ),
        (
            'meaning.en-US = "The employee works',
            'meaning.fr-FR = "The employee works',
            "actions.0.meaning",
        ),
        ('{ is = "tablet_phone" }', '{ is = "tablet_phone", in = ["laptop"] }', "exactly one of"),
        (
            'action = "offer_eye_test"',
            'action = "eye_glasses"',
            "flags[11] (eye_test).action: no action 'eye_glasses'",
        ),
        ("laptop_hours = 2\n", "laptop_hours = 2\nlaptop_hours = 3\n", "not valid TOML"),
        (
            'sc_equipment = "equipment"',
            'sc_equipmnt = "equipment"',
            "read_more.sc_equipmnt: there is no step 'sc_equipmnt'",
        ),
        # An action's item: a default deadline and a title; an info point has neither.
        (
            "due_days = 14\n",
            "",
            "actions[1] (separate_keyboard_mouse).due_days: an action needs a default deadline",
        ),
        (
            "due_days = 14\n",
            "due_days = 0\n",
            "actions[1] (separate_keyboard_mouse).due_days: give a number of days from 1 to 366",
        ),
        ("due_days = 14\n", 'due_days = "two weeks"\n', "actions.1.due_days"),
        (
            'title.en-US = "Offer an eye test"\n',
            "",
            "actions.8.title",
        ),
        (
            'kind = "info"\nowner = "employee"\n',
            'kind = "info"\nowner = "employee"\ndue_days = 5\n',
            "actions[6] (employee_contributes).due_days: only an action",
        ),
        (
            '"outcome.med_discussed" = { is = "yes" }',
            '"outcome.med_discused" = { is = "yes" }',
            "actions[3] (med_committee).item_unless.when: there is no answer",
        ),
    ],
)
def test_a_policy_with_a_problem_is_named_in_one_line(tmp_path, old, new, problem):
    path = copy_with(tmp_path, old, new)
    with pytest.raises(policies.PolicyError) as caught:
        policies.load(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_a_wrong_setting_is_named_in_one_line_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROSOFT_APP")}
    env |= {"PORT": "0", "DATABASE_PATH": str(tmp_path / "db.sqlite3")}
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "Settings: PORT: Input should be greater than or equal to 1."
    ]


def test_the_bot_does_not_start_on_a_broken_policy(tmp_path):
    path = copy_with(tmp_path, '"tasks.systematic" = { is = "yes" }', '"tasks.x" = { is = "yes" }')
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROSOFT_APP")}
    env |= {
        "POLICY_FILE": str(path),
        "DATABASE_PATH": str(tmp_path / "db.sqlite3"),
        "PORT": "39999",
    }
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if "Policy file" in line]
    assert lines == [
        f"Policy file: {path}: actions[3] (med_committee).when: there is no answer 'tasks.x'"
    ]
    assert "Traceback" not in done.stderr
