"""Every card the bot can send, in both locales and both employee-input modes, built through
the same Screens the bot uses: the set the schema and size tests run over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from cards.renderer import CardRenderer
from core.agreement import build_record
from core.dialogue import CONCLUDED, Dialogue
from core.fields import FORM_STEPS, STEP_IDS, STEPS_BY_ID
from core.texts import LOCALES, texts_for
from core.validation import validate_step
from dialogs.screens import Screens
from tests.answers import STEP_ANSWERS


def answered_dialogue(locale: str, upto: str) -> Dialogue:
    d = Dialogue(id="d" * 32, manager_id="m", manager_name="Lone Leder", locale=locale)
    for step in FORM_STEPS:
        if step.id == upto:
            break
        d.answers[step.id], _ = validate_step(step, STEP_ANSWERS[step.id], date.today())
    d.employee_name = "Mette Sørensen"
    d.step = upto
    return d


def long_text_dialogue(locale: str) -> Dialogue:
    """Every text answer at its maximum length: the largest review card there can be."""
    d = answered_dialogue(locale, "review")
    for step in FORM_STEPS:
        for f in step.fields:
            if f.kind in ("text", "person") and f.max_len:
                d.answers[step.id][f.id] = "Æ" * f.max_len
    return d


def all_cards() -> Iterator[tuple[str, dict[str, Any]]]:
    renderer = CardRenderer()
    for locale in LOCALES:
        t = texts_for(locale)
        for picker in (False, True):
            screens = Screens(renderer, people_picker=picker)
            tag = f"{locale}/{'picker' if picker else 'text'}"
            yield f"welcome {tag}", screens.welcome(t)
            yield f"help {tag}", screens.help(t)
            for step_id in STEP_IDS:
                d = answered_dialogue(locale, step_id)
                yield f"{step_id} {tag}", screens.step(d, t)
                if step_id in STEPS_BY_ID:
                    step = STEPS_BY_ID[step_id]
                    _, errors = validate_step(step, {}, date.today())
                    yield f"{step_id} errors {tag}", screens.step(d, t, {}, errors)
                    yield (
                        f"{step_id} answered {tag}",
                        screens.answered_step(answered_dialogue(locale, "review"), step_id, t),
                    )
            big = long_text_dialogue(locale)
            yield f"review long {tag}", screens.review(big, t)
            record = build_record(big, 1, CONCLUDED, "2026-11-26")
            yield f"agreement long {tag}", screens.agreement(record, t)
            no_home = answered_dialogue(locale, "review")
            no_home.answers["outcome"]["decision"] = "not_approved"
            yield f"review no rules {tag}", screens.review(no_home, t)
            yield f"answered plain {tag}", screens.answered("Titel", "Note")
            yield f"status empty {tag}", screens.status(t, [], [], None)
            yield (
                f"status full {tag}",
                screens.status(
                    t, [answered_dialogue(locale, "tasks")], [record] * 20, {"verb": "continue"}
                ),
            )
