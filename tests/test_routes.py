"""The route table: every command and card verb reaches exactly one handler with typed data,
and data that does not fit the verb's model is refused politely before any handler runs."""

from __future__ import annotations

from typing import Any

import pytest

from core.texts import texts_for
from dialogs.access import Access
from dialogs.card_data import CardData, DialogueCard, PulseCard
from dialogs.routes import Router
from dialogs.turn import Actor, TurnResult

DA = texts_for("da-DK")
ME = Actor(user_id="11111111-1111-1111-1111-111111111111", name="Lone Leder", locale="da-DK")
IN_GROUP = Actor(user_id=ME.user_id, name=ME.name, locale="da-DK", personal=False)


class Recorder:
    """Stands in for every handler object: each method records its call and answers."""

    def __init__(self, calls: list[tuple[str, Any]]) -> None:
        self.calls = calls

    def __getattr__(self, name: str):
        async def handler(actor: Actor, data: Any = None) -> TurnResult:
            self.calls.append((name, data))
            return TurnResult.say(f"handled {name}")

        return handler


class Screens:
    def help(self, t: Any) -> dict[str, Any]:
        return {"type": "AdaptiveCard", "body": []}


@pytest.fixture
def calls() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def router(calls) -> Router:
    r = Recorder(calls)
    # The access checks off (local mode), the acting user HR for every unit: every verb
    # reaches its handler.
    access = Access(r, r, hr_users={ME.user_id: frozenset({"*"})})  # type: ignore[arg-type]
    return Router(r, r, r, r, r, r, Screens(), r, r, r, access, r, r)  # type: ignore[arg-type]


async def test_a_button_and_its_typed_command_reach_the_same_handler(router, calls):
    await router.on_text(ME, "Ny samtale", None)
    await router.on_card(ME, {"verb": "start"}, None)
    assert [name for name, _ in calls] == ["start", "start"]


async def test_a_dialogue_button_gets_its_envelope_typed(router, calls):
    data = {"verb": "next", "dialogue_id": "d" * 32, "step": "tasks", "version": 3, "x": "1"}
    await router.on_card(ME, data, None)
    [(name, model)] = calls
    assert name == "next" and isinstance(model, DialogueCard)
    assert model.version == 3 and model.inputs == {"x": "1"}


@pytest.mark.parametrize(
    "envelope",
    [
        {},
        {"dialogue_id": "d" * 32, "step": "tasks"},
        {"dialogue_id": "d" * 32, "step": "tasks", "version": "3"},
        {"dialogue_id": "d" * 32, "step": "tasks", "version": True},
        {"dialogue_id": "d" * 32, "step": "nowhere", "version": 3},
        {"dialogue_id": "d" * 65, "step": "tasks", "version": 3},
        {"dialogue_id": ["d"], "step": "tasks", "version": 3},
    ],
)
async def test_a_malformed_envelope_is_refused_before_any_handler(router, calls, envelope):
    for verb in ("next", "back", "later", "cancel", "edit", "conclude", "revise"):
        result = await router.on_card(ME, {"verb": verb, **envelope}, None)
        assert [r.text for r in result.replies] == [DA("notices.unknown_action")]
    assert calls == []


async def test_each_refusal_speaks_of_what_was_pressed(router, calls):
    pulse = await router.on_card(ME, {"verb": "pulse_answer", "week": "last week"}, None)
    stop = await router.on_card(ME, {"verb": "reminders_stop", "kind": "everything"}, None)
    show = await router.on_card(ME, {"verb": "show_agreement"}, None)
    assert pulse.replies[0].text == DA("pulse.not_yours")
    assert stop.replies[0].text == DA("reminders.unknown_kind")
    assert show.replies[0].text == DA("notices.not_yours")
    assert calls == []
    await router.on_card(ME, {"verb": "pulse_answer", "week": "2026-W49", "breaks": "ok"}, None)
    [(_, model)] = calls
    assert isinstance(model, PulseCard) and model.inputs == {"breaks": "ok"}


async def test_continue_without_a_dialogue_uses_the_chats_last_one(router, calls):
    await router.on_text(ME, "fortsæt", "abc")
    await router.on_card(ME, {"verb": "continue", "dialogue_id": "xyz"}, "abc")
    resumed = [d.dialogue_id for n, d in calls if n == "resume"]
    assert resumed == ["abc", "xyz"]


async def test_in_a_group_chat_only_help_answers(router, calls):
    help_ = await router.on_text(IN_GROUP, "hjælp", None)
    start = await router.on_text(IN_GROUP, "start", None)
    card = await router.on_card(IN_GROUP, {"verb": "sc_start"}, None)
    assert help_.replies[0].card == {"type": "AdaptiveCard", "body": []}  # the help card
    assert start.replies[0].text == card.replies[0].text == DA("notices.personal_only")
    assert calls == []


async def test_unknown_verbs_and_words_get_a_hint_not_an_error(router, calls):
    unknown = await router.on_card(ME, {"verb": "delete_everything"}, None)
    hint = await router.on_text(ME, "hvad kan du?", None)
    assert unknown.replies[0].text == DA("notices.unknown_action")
    assert hint.replies[0].text == DA("commands.hint")
    assert calls == []


def test_every_verb_is_declared_once_with_a_model(router):
    assert all(issubclass(route.model, CardData) for route in router.routes.values())
    assert len(router.routes) == len(set(router.routes))
