"""The municipality's guidance as data: ``content/policy.toml``.

For every follow-up of the rules R1–R12 the file holds its trigger (which answers, which
thresholds), who acts, what it means in practice (per locale) and the source to read more;
and for every point the employee's self-check can raise, its trigger and the follow-up it
adds. A municipality follows a change in its guidance, or in the law, by editing the file (or
pointing ``POLICY_FILE`` at its own copy): no code changes.

The file is checked when it is loaded: every answer it names must exist, every value must be
one the answer can take, every threshold, source and rule must be defined and every text
given in every locale. A problem is reported in one line naming the file, the key and what is
wrong, and the bot does not start.

A trigger (``when``) is a table of answers, each with one test; all must hold (an empty
table always holds). ``any_of`` holds when one of its tables holds. The tests: ``is`` /
``is_not`` a value, ``in`` a list of values, ``at_least`` / ``above`` a number or the name
of a threshold. An answer of a step not answered yet fails every test.
"""

from __future__ import annotations

import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from core.answers import DialogueAnswers, FormAnswers, SelfCheckAnswers

POLICY_FILE = Path(__file__).resolve().parent.parent / "content" / "policy.toml"
LOCALES = ("da-DK", "en-US")
#: The longest default deadline of an item, in days.
MAX_DUE_DAYS = 366
Owner = Literal["manager", "employee", "work_environment_group"]


class PolicyError(ValueError):
    """The policy file is not valid; the message is one line for the person who edits it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Localized(_Strict):
    da: str
    en: str

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _locales(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {"da": value.get("da-DK"), "en": value.get("en-US"), **_unknown(value)}
        return value

    def __call__(self, locale: str) -> str:
        return self.en if locale == "en-US" else self.da


def _unknown(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k not in LOCALES}


class Test(_Strict):
    is_: str | None = None
    is_not: str | None = None
    in_: list[str] | None = None
    at_least: float | str | None = None
    above: float | str | None = None

    @model_validator(mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            renamed = {"is": "is_", "in": "in_"}
            return {renamed.get(k, k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one(self) -> Test:
        given = [v for v in self.model_dump().values() if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of is, is_not, in, at_least, above")
        return self


class Trigger(_Strict):
    """All of ``answers`` hold, and (if given) one of ``any_of``."""

    answers: dict[str, Test] = {}
    any_of: list[Trigger] = []

    @model_validator(mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, Mapping) and "answers" not in value:
            return {
                "answers": {k: v for k, v in value.items() if k != "any_of"},
                "any_of": value.get("any_of", []),
            }
        return value


class Source(_Strict):
    url: str
    title: Localized


class Rule(_Strict):
    """One rule of the guidance: the plain title users see (never its number)."""

    title: Localized


class Action(_Strict):
    """A follow-up (``action``: someone must do it) or a point to know (``info``)."""

    key: str
    rule: str
    kind: Literal["action", "info"]
    owner: Owner
    source: str
    when: Trigger = Trigger()
    meaning: Localized
    #: An action becomes an item on its owner's list: its short title there, and its default
    #: deadline in days after the agreement is concluded (info points have neither).
    title: Localized | None = None
    due_days: int | None = None
    #: No item when this holds (the action is done already, e.g. MED has discussed it).
    item_unless: Trigger | None = None


class Flag(_Strict):
    """A point of the employee's self-check to act on, and the follow-up it adds."""

    key: str
    rule: str
    step: str
    when: Trigger
    action: str | None = None


class Policy(_Strict):
    thresholds: dict[str, float]
    sources: dict[str, Source]
    rules: dict[str, Rule]
    actions: list[Action]
    flags: list[Flag]
    #: step id -> the source a step's card links to ("read more").
    read_more: dict[str, str] = {}

    def action(self, key: str) -> Action:
        for a in self.actions:
            if a.key == key:
                return a
        raise KeyError(key)

    def threshold(self, value: float | str) -> float:
        return self.thresholds[value] if isinstance(value, str) else value


# --- evaluation --------------------------------------------------------------------------


def _answer(answers: FormAnswers, path: str) -> Any:
    step_id, _, field = path.partition(".")
    step = answers.get(step_id)
    return None if step is None else getattr(step, field, None)


def _passes(policy: Policy, test: Test, value: Any) -> bool:
    if value is None:
        return False
    if test.is_ is not None:
        return str(value) == test.is_
    if test.is_not is not None:
        return str(value) != test.is_not
    if test.in_ is not None:
        return str(value) in test.in_
    if test.at_least is not None:
        return float(value) >= policy.threshold(test.at_least)
    assert test.above is not None
    return float(value) > policy.threshold(test.above)


def holds(policy: Policy, trigger: Trigger, answers: FormAnswers) -> bool:
    if not all(_passes(policy, t, _answer(answers, p)) for p, t in trigger.answers.items()):
        return False
    return not trigger.any_of or any(holds(policy, t, answers) for t in trigger.any_of)


# --- loading and checking ----------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    numeric: bool
    values: frozenset[str] | None  # the values a choice can take; None: any text


def _fields(form: type[FormAnswers]) -> dict[str, _Field]:
    found = {}
    for step_id, model in form.STEPS.items():
        for name, info in model.model_fields.items():
            annotation = info.annotation
            literal = _literal(annotation)
            types = set(typing.get_args(annotation) or (annotation,)) - {type(None)}
            numeric = bool(types) and types <= {int, float}
            found[f"{step_id}.{name}"] = _Field(numeric, literal)
    return found


def _literal(annotation: Any) -> frozenset[str] | None:
    if typing.get_origin(annotation) is Literal:
        return frozenset(str(a) for a in typing.get_args(annotation))
    for arg in typing.get_args(annotation):
        found = _literal(arg)
        if found is not None:
            return found
    return None


def _check_trigger(policy: Policy, trigger: Trigger, fields: dict[str, _Field], where: str) -> None:
    for path, test in trigger.answers.items():
        field = fields.get(path)
        if field is None:
            raise PolicyError(f"{where}.when: there is no answer {path!r}")
        for name in ("at_least", "above"):
            bound = getattr(test, name)
            if bound is None:
                continue
            if not field.numeric:
                raise PolicyError(f"{where}.when.{path}: {name} needs a number answer")
            if isinstance(bound, str) and bound not in policy.thresholds:
                raise PolicyError(f"{where}.when.{path}: no threshold named {bound!r}")
        values = [test.is_, test.is_not, *(test.in_ or [])]
        for value in (v for v in values if v is not None):
            if field.values is not None and value not in field.values:
                allowed = ", ".join(sorted(field.values))
                raise PolicyError(f"{where}.when.{path}: {value!r} is not one of {allowed}")
    for n, alternative in enumerate(trigger.any_of):
        _check_trigger(policy, alternative, fields, f"{where}.when.any_of[{n}]")


def _check_item(policy: Policy, action: Action, fields: dict[str, _Field], where: str) -> None:
    """An action needs what its item shows (a title, a default deadline); an info point has
    no item."""
    if action.kind == "info":
        for name in ("title", "due_days", "item_unless"):
            if getattr(action, name) is not None:
                raise PolicyError(f'{where}.{name}: only an action (kind = "action") has one')
        return
    if action.title is None:
        raise PolicyError(f"{where}.title: an action needs a title for its item")
    if action.due_days is None:
        raise PolicyError(f"{where}.due_days: an action needs a default deadline in days")
    if not 1 <= action.due_days <= MAX_DUE_DAYS:
        raise PolicyError(f"{where}.due_days: give a number of days from 1 to {MAX_DUE_DAYS}")
    if action.item_unless is not None:
        _check_trigger(policy, action.item_unless, fields, f"{where}.item_unless")


def check(policy: Policy) -> None:
    dialogue, self_check = _fields(DialogueAnswers), _fields(SelfCheckAnswers)
    keys: set[str] = set()
    for n, action in enumerate(policy.actions):
        where = f"actions[{n}] ({action.key})"
        if action.key in keys:
            raise PolicyError(f"{where}: the key is used twice")
        keys.add(action.key)
        if action.rule not in policy.rules:
            raise PolicyError(f"{where}.rule: no rule {action.rule!r} in [rules]")
        if action.source not in policy.sources:
            raise PolicyError(f"{where}.source: no source {action.source!r} in [sources]")
        _check_trigger(policy, action.when, dialogue, where)
        _check_item(policy, action, dialogue, where)
    for n, flag in enumerate(policy.flags):
        where = f"flags[{n}] ({flag.key})"
        if flag.rule not in policy.rules:
            raise PolicyError(f"{where}.rule: no rule {flag.rule!r} in [rules]")
        if flag.step not in SelfCheckAnswers.STEPS:
            raise PolicyError(f"{where}.step: no self-check step {flag.step!r}")
        if flag.action is not None and flag.action not in keys:
            raise PolicyError(f"{where}.action: no action {flag.action!r} in [[actions]]")
        _check_trigger(policy, flag.when, self_check, where)
    steps = set(DialogueAnswers.STEPS) | set(SelfCheckAnswers.STEPS)
    for step_id, source in policy.read_more.items():
        if step_id not in steps:
            raise PolicyError(f"read_more.{step_id}: there is no step {step_id!r}")
        if source not in policy.sources:
            raise PolicyError(f"read_more.{step_id}: no source {source!r} in [sources]")


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    place = ".".join(str(p) for p in first["loc"] if p not in ("answers",))
    place = place.replace("is_", "is").replace("in_", "in").replace(".da", ".da-DK")
    place = place.replace(".en", ".en-US")
    return f"{place}: {first['msg']}"


def load(path: Path = POLICY_FILE) -> Policy:
    """Read and check the policy file; PolicyError names the file, the key and the problem."""
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as error:
        raise PolicyError(f"{path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{path}: not valid TOML ({error})") from None
    try:
        policy = Policy.model_validate(raw)
        check(policy)
    except ValidationError as error:
        raise PolicyError(f"{path}: {_first_problem(error)}") from None
    except PolicyError as error:
        raise PolicyError(f"{path}: {error}") from None
    return policy


_active: list[Policy] = []


def use(policy: Policy) -> None:
    """Make ``policy`` the one the bot applies (at start, from ``POLICY_FILE``)."""
    from core.texts import texts_for  # the texts carry the policy's titles and meanings

    _active[:] = [policy]
    texts_for.cache_clear()


def active() -> Policy:
    if not _active:
        _active.append(_default())
    return _active[0]


@cache
def _default() -> Policy:
    return load(POLICY_FILE)


def texts(policy: Policy, locale: str) -> dict[str, str]:
    """The policy's words as texts: ``rules.<id>``, ``actions.<key>``, ``sources.<id>``."""
    found = {f"rules.{rid}": rule.title(locale) for rid, rule in policy.rules.items()}
    found |= {f"actions.{a.key}": a.meaning(locale) for a in policy.actions}
    found |= {f"items.kinds.{a.key}": a.title(locale) for a in policy.actions if a.title}
    for sid, source in policy.sources.items():
        found[f"sources.{sid}.title"] = source.title(locale)
        found[f"sources.{sid}.url"] = source.url
    return found
