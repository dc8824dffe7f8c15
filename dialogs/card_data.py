"""What each card button (and typed command) submits, as typed models.

The route table (dialogs/routes.py) names one model per verb. A submit that does not fit its
model (a missing or malformed id, a version that is not a number, a step that does not exist)
is answered with the route's friendly refusal before any handler runs, and changes nothing.
The inputs of a form card travel beside the envelope; ``inputs`` gives them to the step
machine, which checks each one (core/validation.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictInt, StringConstraints

from core.action_items import CLOSING
from core.dialogue import SEQUENCE as DIALOGUE_STEPS
from core.reminders import KINDS
from core.self_check import SEQUENCE as SELF_CHECK_STEPS

#: The longest id a card carries (dialogue and self-check ids are 32 hex digits).
MAX_ID = 64
_WEEK = re.compile(r"\d{4}-W\d{2}")


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError("not one of the allowed values")
        return value

    return check


def _week(value: str) -> str:
    if not _WEEK.fullmatch(value):
        raise ValueError("not an ISO week")
    return value


Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID)]
DialogueStepId = Annotated[str, AfterValidator(_one_of(DIALOGUE_STEPS.ids))]
SelfCheckStepId = Annotated[str, AfterValidator(_one_of(SELF_CHECK_STEPS.ids))]
Week = Annotated[str, AfterValidator(_week)]
ReminderKind = Annotated[str, AfterValidator(_one_of(KINDS))]
ItemKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
ClosingStatus = Annotated[str, AfterValidator(_one_of(CLOSING))]


class CardData(BaseModel):
    """A submit with nothing but its verb (Start, Help, Status, …)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    verb: str

    @property
    def inputs(self) -> dict[str, Any]:
        """The card's inputs: everything beside the envelope."""
        return dict(self.model_extra or {})


class Pointed(CardData):
    """Continue or cancel: the dialogue the button names, else the chat's last one."""

    dialogue_id: Id | None = None


class Argument(CardData):
    """A typed command with an argument (``hr slet <id>``)."""

    argument: str = ""


class FormCard(CardData):
    """A button on a step of a form: which form, at which step and version."""

    step: str
    version: StrictInt

    @property
    def form_id(self) -> str:
        raise NotImplementedError


class DialogueCard(FormCard):
    dialogue_id: Id
    step: DialogueStepId

    @property
    def form_id(self) -> str:
        return self.dialogue_id


class EditCard(DialogueCard):
    edit_step: Any = None  # checked by the handler: one of the answered steps


class SelfCheckCard(FormCard):
    check_id: Id
    step: SelfCheckStepId

    @property
    def form_id(self) -> str:
        return self.check_id


class AgreementCard(CardData):
    """Confirm or disagree with one agreement version."""

    dialogue_id: Id
    version: StrictInt
    comment: Any = None  # checked by the handler, after who may answer


class AgreementRef(CardData):
    dialogue_id: Id


class FollowUpCard(CardData):
    """Follow up or reopen the agreement in force, from the dialogue at this version."""

    dialogue_id: Id
    version: StrictInt
    reason: Any = None  # reopen only; checked by the handler


class AskCard(CardData):
    """The employee asks for a new conversation about an agreement, maybe with a comment."""

    dialogue_id: Id
    comment: Any = None  # optional; checked by the handler


class RequestRef(CardData):
    """ "Start samtalen" on an employee's request."""

    request_id: Id


class PulseCard(CardData):
    week: Week


class StopCard(CardData):
    kind: ReminderKind


class ItemCard(CardData):
    """Mark one action item of one agreement version done or not needed."""

    dialogue_id: Id
    version: StrictInt
    item: ItemKey
    status: ClosingStatus
