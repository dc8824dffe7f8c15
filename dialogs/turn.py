"""Who is acting, and what a handled turn answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.texts import Texts, texts_for


@dataclass(frozen=True)
class Actor:
    """The user behind an activity: Entra object id when Teams gives one, else the channel id."""

    user_id: str
    name: str
    locale: str
    tenant_id: str | None = None

    @property
    def texts(self) -> Texts:
        return texts_for(self.locale)


@dataclass
class Reply:
    text: str | None = None
    card: dict[str, Any] | None = None


@dataclass
class TurnResult:
    #: A read-only card to put in place of the card that was submitted (None: leave it).
    replace: dict[str, Any] | None = None
    replies: list[Reply] = field(default_factory=list)
    #: The dialogue this turn worked on, for the conversation's "continue" pointer.
    dialogue_id: str | None = None

    @classmethod
    def say(cls, text: str) -> TurnResult:
        return cls(replies=[Reply(text=text)])

    @classmethod
    def show(cls, card: dict[str, Any]) -> TurnResult:
        return cls(replies=[Reply(card=card)])
