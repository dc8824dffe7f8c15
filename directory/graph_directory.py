"""The directory questions access needs, asked of Microsoft Graph v1.0:

- ``GET /users/{id}/manager`` (User.Read.All): the user's manager; 404 when none is set;
  for many users at once (``status``, the weekly digest) the same requests go in ``POST
  /$batch`` of at most 20 ("Combine multiple HTTP requests using JSON batching"), each
  answered and cached on its own;
- ``GET /users/{id}?$select=department`` (User.Read.All): the user's unit;
- ``POST /users/{id}/checkMemberGroups`` (GroupMember.Read.All): which of up to 20 named
  groups the user is a member of, directly or through nested groups (transitive);
- ``GET /users?$filter=startswith(displayName,'…') and accountEnabled eq true&$select=
  id,displayName&$top=…`` (User.Read.All): the users with an enabled account whose display
  name begins with a typed name, for choosing a person the bot does not know yet (a disabled
  account, someone who has left, is never offered). ``startswith`` on ``displayName`` and
  ``eq`` on ``accountEnabled`` are both default queries ("Advanced query capabilities on
  Microsoft Entra ID objects": only ``ne`` and ``not`` on ``accountEnabled`` are advanced), so
  no ``ConsistencyLevel: eventual`` or ``$count`` is needed; a ``'`` in the name is doubled
  (OData string literals) and the whole filter is percent-encoded.

Each question is one request with a short timeout, answered from the cache when it was asked
within ACCESS_CACHE_MINUTES. Anything but a clear answer (403 for a missing permission, 429
or 503 and the Retry-After window after them, 5xx, a timeout) raises ``DirectoryUnavailable``:
the caller refuses the action politely. Nothing is retried inside a turn. Logs carry the
status and Graph's error code, never ids, names or typed names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from core.validation import is_entra_id
from directory.cache import AnswerCache
from sharepoint.graph import BATCH_LIMIT, GraphClient, Response, batch_answers, reason_of

log = logging.getLogger(__name__)

#: Graph takes at most 20 group ids in one checkMemberGroups.
GROUPS_PER_CHECK = 20
#: Users asked for by a typed name: enough to tell "one" from "several".
NAMED_USERS = 5


class DirectoryUnavailable(Exception):
    """Graph could not answer a question about access."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GraphDirectory:
    def __init__(self, client: GraphClient, cache: AnswerCache) -> None:
        self.client = client
        self.cache = cache

    async def _ask(self, method: str, path: str, body: Any = None) -> Response:
        if self.client.window_left() > 0:  # Graph asked us to wait: no turn waits for it
            raise DirectoryUnavailable("inside a Retry-After window")
        try:
            response = await self.client.send(method, path, json_body=body)
        except Exception as error:  # noqa: BLE001 - the credential failed in many ways
            log.error("directory: could not get a Graph token (%s)", type(error).__name__)
            raise DirectoryUnavailable("no token") from None
        if response.status == 403:
            log.error(
                "directory: Graph refused %s (403 %s): check the app's Graph permissions",
                method,
                response.error_code(),
            )
            raise DirectoryUnavailable(reason_of(response))
        if not response.ok and response.status != 404:
            log.warning("directory: Graph %s did not answer (%s)", method, reason_of(response))
            raise DirectoryUnavailable(reason_of(response))
        return response

    async def manager_of(self, user_id: str) -> str | None:
        """The object id of the user's manager, or None when Entra ID names none."""
        if not is_entra_id(user_id):
            return None

        async def ask() -> str | None:
            return _manager_in(await self._ask("GET", _manager_path(user_id)))

        result: str | None = await self.cache.get(("manager", user_id.lower()), ask)
        return result

    async def managers_of(self, user_ids: Iterable[str]) -> dict[str, str | None]:
        """``manager_of`` for many users (keys in lower case): cached answers first, the rest
        in $batch requests of at most BATCH_LIMIT. A user Graph did not answer for (the whole
        batch failed, or their request inside it did: 403, 429, 5xx) is left out, so the
        caller can tell "no manager" (None) from "not known now" (missing)."""
        found: dict[str, str | None] = {}
        asked: list[str] = []
        for user_id in dict.fromkeys(u.lower() for u in user_ids):
            if not is_entra_id(user_id):
                found[user_id] = None
                continue
            known, manager = self.cache.kept(("manager", user_id))
            if known:
                found[user_id] = manager
            else:
                asked.append(user_id)
        for start in range(0, len(asked), BATCH_LIMIT):
            part = asked[start : start + BATCH_LIMIT]
            requests = [
                {"id": str(n), "method": "GET", "url": _manager_path(u)} for n, u in enumerate(part)
            ]
            try:
                outer = await self._ask("POST", "/$batch", {"requests": requests})
            except DirectoryUnavailable:
                continue  # already logged; these users stay unknown
            answers = batch_answers(outer, requests)
            failed: set[str] = set()
            for n, user_id in enumerate(part):
                inner = answers[str(n)]
                if not inner.ok and inner.status != 404:
                    failed.add(reason_of(inner))
                    continue
                found[user_id] = _manager_in(inner)
                self.cache.keep(("manager", user_id), found[user_id])
            if any(reason.startswith("HTTP 403") for reason in failed):
                log.error(
                    "directory: Graph refused requests inside $batch (%s): check the app's"
                    " Graph permissions",
                    sorted(failed),
                )
            elif failed:
                log.warning("directory: Graph did not answer inside $batch (%s)", sorted(failed))
        return found

    async def unit_of(self, user_id: str) -> str | None:
        """The user's department, or None."""
        if not is_entra_id(user_id):
            return None

        async def ask() -> str | None:
            response = await self._ask("GET", f"/users/{quote(user_id)}?$select=id,department")
            body = response.body if isinstance(response.body, dict) else {}
            department = body.get("department")
            return department if isinstance(department, str) and department else None

        result: str | None = await self.cache.get(("unit", user_id.lower()), ask)
        return result

    async def users_named(self, name: str) -> list[tuple[str, str]]:
        """The users with an enabled account whose display name begins with ``name`` (any
        case, as Graph compares): (object id in lower case, display name), at most NAMED_USERS
        of them."""
        wanted = " ".join(name.split())
        if not wanted:
            return []
        literal = wanted.replace("'", "''")  # an OData string literal doubles its quotes
        query = quote(f"startswith(displayName,'{literal}') and accountEnabled eq true", safe="")

        async def ask() -> list[tuple[str, str]]:
            response = await self._ask(
                "GET", f"/users?$filter={query}&$select=id,displayName&$top={NAMED_USERS}"
            )
            body = response.body if isinstance(response.body, dict) else {}
            found = []
            for user in body.get("value", []):
                if not isinstance(user, dict):
                    continue
                user_id, display = user.get("id"), user.get("displayName")
                if isinstance(user_id, str) and is_entra_id(user_id) and isinstance(display, str):
                    found.append((user_id.lower(), display.strip()))
            return found

        result: list[tuple[str, str]] = await self.cache.get(("named", wanted.casefold()), ask)
        return result

    async def groups_of(self, user_id: str, groups: frozenset[str]) -> frozenset[str]:
        """Which of ``groups`` the user is a member of, transitively."""
        if not groups or not is_entra_id(user_id):
            return frozenset()
        wanted = sorted(groups)

        async def ask() -> frozenset[str]:
            found: set[str] = set()
            for start in range(0, len(wanted), GROUPS_PER_CHECK):
                part = wanted[start : start + GROUPS_PER_CHECK]
                response = await self._ask(
                    "POST", f"/users/{quote(user_id)}/checkMemberGroups", {"groupIds": part}
                )
                if response.status == 404:  # no such user: a member of nothing
                    return frozenset()
                body = response.body if isinstance(response.body, dict) else {}
                found.update(str(g).lower() for g in body.get("value", []) if isinstance(g, str))
            return frozenset(found)

        result: frozenset[str] = await self.cache.get(
            ("groups", user_id.lower(), tuple(wanted)), ask
        )
        return result


def _manager_path(user_id: str) -> str:
    return f"/users/{quote(user_id)}/manager?$select=id"


def _manager_in(response: Response) -> str | None:
    """The manager's object id in a "Get manager" answer; None for a 404 (none is set)."""
    if response.status == 404 or not isinstance(response.body, dict):
        return None
    found = response.body.get("id")
    return found.lower() if isinstance(found, str) and found else None
