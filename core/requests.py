"""An employee's request for a conversation, until the manager acts on it.

Two kinds: ``follow_up`` asks for a new conversation about an agreement in force (with an
optional comment); ``conversation`` asks a named manager for a first home-working
conversation (with the self-check attached if the employee wants). A request is ``open``
until the manager starts the follow-up or the dialogue, then ``handled``.
"""

from __future__ import annotations

from dataclasses import dataclass

FOLLOW_UP = "follow_up"
CONVERSATION = "conversation"
KINDS = (FOLLOW_UP, CONVERSATION)
OPEN = "open"
HANDLED = "handled"
#: The longest comment an employee can send with a request.
COMMENT_MAX = 1000


@dataclass(kw_only=True)
class ConversationRequest:
    id: str
    kind: str
    employee_id: str
    manager_id: str
    locale: str
    employee_name: str | None = None
    manager_name: str | None = None
    #: follow_up: the agreement's dialogue; conversation: the dialogue started from it.
    dialogue_id: str | None = None
    comment: str | None = None
    #: The finished self-check the employee attached.
    self_check_id: str | None = None
    state: str = OPEN
    created_at: str = ""
    handled_at: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state == OPEN
