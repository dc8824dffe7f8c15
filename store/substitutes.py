"""Who stands in for a manager: one substitute per manager, named by the manager or by HR.

Kept as a small versioned document per manager in the key-value table (no schema change):
``substitute/<manager object id>`` → ``{"substitute": <object id>, "named_by": <object id>}``.
A substitute may lead dialogues about the employees whose manager (in Entra ID) named them,
and no one else's.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from store.key_values import KeyValueStore
from store.schema import bot_state

PREFIX = "substitute/"


class SubstituteStore:
    def __init__(self, documents: KeyValueStore) -> None:
        self.documents = documents

    @staticmethod
    def _key(manager_id: str) -> str:
        return PREFIX + manager_id.lower()

    async def of(self, manager_id: str) -> str | None:
        """The substitute the manager has (object id), or None."""
        found = await self.documents.read([self._key(manager_id)])
        document = found.get(self._key(manager_id))
        if document is None or not isinstance(document[1], dict):
            return None
        substitute = document[1].get("substitute")
        return substitute if isinstance(substitute, str) and substitute else None

    async def name(self, manager_id: str, substitute_id: str, named_by: str) -> None:
        await self.documents.write(
            {
                self._key(manager_id): (
                    None,
                    {"substitute": substitute_id.lower(), "named_by": named_by.lower()},
                )
            }
        )

    async def remove(self, manager_id: str) -> None:
        await self.documents.delete([self._key(manager_id)])

    async def _all(self) -> dict[str, dict[str, Any]]:
        """{manager id: document} for every named substitute."""
        c = bot_state.c
        rows = await self.documents.db.fetchall(
            select(c.key, c.data).where(c.key.startswith(PREFIX, autoescape=True))
        )
        return {r["key"][len(PREFIX) :]: json.loads(r["data"]) for r in rows}

    async def about(self, user_id: str) -> list[dict[str, Any]]:
        """The substitutions a person takes part in (as manager, substitute or who named
        it), for their data export."""
        me = user_id.lower()
        return [
            {"manager": manager, **document}
            for manager, document in (await self._all()).items()
            if me in (manager, document.get("substitute"), document.get("named_by"))
        ]

    async def forget(self, user_id: str) -> int:
        """Erase a person: the substitutions where they are the manager or the substitute."""
        me = user_id.lower()
        keys = [
            self._key(manager)
            for manager, document in (await self._all()).items()
            if me in (manager, document.get("substitute"))
        ]
        await self.documents.delete(keys)
        return len(keys)
