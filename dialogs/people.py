"""Who a typed name stands for: someone who has written to the bot, else someone in Entra ID.

Teams' people picker gives an Entra object id and needs no look-up. A typed name is first
compared with the names of the people who have written to the bot (any case). When none of
them has it and the access checks are on, the directory is asked for the users whose display
name begins with it (directory/graph_directory.py): a user with exactly that name, else the
only user whose name begins so, is the one meant. Several people or nobody is said so, so
the user can type the full name or use the people picker. The typed name is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.access import Access
from store.conversations import ConversationStore

#: Why a typed name found no one person.
NOBODY = "nobody"
SEVERAL = "several"


@dataclass(frozen=True)
class Person:
    user_id: str
    #: The name to show: as typed for someone the bot knows, as in Entra ID otherwise.
    name: str


class People:
    def __init__(self, known: ConversationStore, access: Access) -> None:
        self.known = known
        self.access = access

    async def named(self, typed: str, *, besides: str | None = None) -> Person | str:
        """The one person ``typed`` names (never ``besides``, the one asking), or NOBODY or
        SEVERAL. Raises DirectoryUnavailable when Entra ID had to be asked and did not answer."""
        name = " ".join(typed.split())
        if not name:
            return NOBODY
        other = (besides or "").lower()
        known = {u for u in await self.known.users_named(name) if u.lower() != other}
        if len(known) == 1:
            return Person(known.pop(), name)
        if known:
            return SEVERAL
        directory = self.access.directory
        if directory is None:
            return NOBODY
        found = [(u, n) for u, n in await directory.users_named(name) if u != other]
        exact = [(u, n) for u, n in found if n.casefold() == name.casefold()]
        candidates = exact or found
        if len(candidates) == 1:
            user_id, display = candidates[0]
            return Person(user_id, display)
        return SEVERAL if candidates else NOBODY
