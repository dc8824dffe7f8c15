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
    #: A 1:1 chat with the bot. Dialogues hold personal data and happen only there.
    personal: bool = True

    @property
    def texts(self) -> Texts:
        return texts_for(self.locale)


@dataclass
class Reply:
    text: str | None = None
    card: dict[str, Any] | None = None


@dataclass
class Notify:
    """Messages for another user (proactive): the employee's invitation, the manager's news.

    ``user_id`` None means the user is not known to the bot; then, like when delivery fails,
    ``if_unreachable`` is said to the acting user instead.
    """

    user_id: str | None
    replies: list[Reply]
    if_unreachable: str | None = None
    #: Said to the acting user once the messages were delivered.
    if_reached: str | None = None


@dataclass
class TurnResult:
    #: A read-only card to put in place of the card that was submitted (None: leave it).
    replace: dict[str, Any] | None = None
    replies: list[Reply] = field(default_factory=list)
    #: The dialogue this turn worked on, for the conversation's "continue" pointer.
    dialogue_id: str | None = None
    notify: list[Notify] = field(default_factory=list)

    def extend(self, other: TurnResult) -> TurnResult:
        """Add another result's replies and notifications after this one's."""
        self.replies.extend(other.replies)
        self.notify.extend(other.notify)
        return self

    @classmethod
    def say(cls, text: str) -> TurnResult:
        return cls(replies=[Reply(text=text)])

    @classmethod
    def show(cls, card: dict[str, Any]) -> TurnResult:
        return cls(replies=[Reply(card=card)])
