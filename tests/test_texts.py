"""Every text exists in Danish and English, and nothing the bot shows lacks its text."""

from __future__ import annotations

import tomllib

import pytest

from core import policy as policies
from core.dialogue import SEQUENCE as DIALOGUE_SEQUENCE
from core.fields import FORM_STEPS
from core.texts import CONTENT_DIR, LOCALES, flatten, pick_locale, texts_for


def entries(locale: str) -> dict[str, str]:
    with (CONTENT_DIR / f"{locale}.toml").open("rb") as fh:
        return dict(flatten(tomllib.load(fh)))


def test_both_locales_have_the_same_keys():
    da, en = entries("da-DK"), entries("en-US")
    assert set(da) == set(en)


@pytest.mark.parametrize("locale", LOCALES)
def test_no_empty_texts(locale):
    empty = [k for k, v in entries(locale).items() if not isinstance(v, str) or not v.strip()]
    assert empty == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_field_step_choice_and_rule_has_text(locale):
    t = texts_for(locale)
    for sid in DIALOGUE_SEQUENCE.ids:
        assert t(f"steps.{sid}.title") and t(f"steps.{sid}.intro")
    for step in FORM_STEPS:
        for f in step.fields:
            assert t(f"fields.{f.id}.label")
            for c in f.choices:
                assert t(f"{f.choices_text_key}.{c}")
    policy = policies.active()
    assert sorted(policy.rules, key=lambda r: int(r[1:])) == [f"R{n}" for n in range(1, 13)]
    for rule in policy.rules:
        assert t(f"rules.{rule}") and rule not in t(f"rules.{rule}")
    for action in policy.actions:
        assert t(f"actions.{action.key}") and "{" not in t(f"actions.{action.key}")
    for flag in policy.flags:
        assert t(f"flags.{flag.key}.advice") and t(f"flags.{flag.key}.manager")


def test_danish_is_the_default_and_english_follows_teams():
    assert pick_locale(None) == "da-DK"
    assert pick_locale("da-DK") == "da-DK"
    assert pick_locale("nb-NO") == "da-DK"
    assert pick_locale("en-GB") == "en-US"
    assert texts_for("en-US")("buttons.next") == "Next"
    assert texts_for("da-DK")("buttons.next") == "Næste"
