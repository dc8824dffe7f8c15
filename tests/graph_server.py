"""A local Microsoft Graph server for exactly the endpoints the bot uses, with injected faults.

It follows the public Microsoft Graph v1.0 documentation on learn.microsoft.com:

- "Get a site resource by path": ``GET /sites/{hostname}:/{server-relative-path}``; site ids
  are "{hostname},{site collection id},{web id}" ("site resource type").
- "List lists", "Create a list" (``displayName``, ``columns``, ``list.template``), "List
  columns in a list", "Create a columnDefinition in a list", "Update columnDefinition"; a
  ``columnDefinition`` has ``indexed`` and ``enforceUniqueValues`` (which requires an index)
  and one type facet (text, number, dateTime, choice).
- "Create a new entry in a SharePoint list" (``POST …/items`` with ``{"fields": …}``, 201 with
  the listItem and its ``eTag``), "Get listItem", "List items" with ``$expand=fields``,
  ``$filter=fields/X eq '…'`` (only on indexed columns, else 400) and ``$top``, "Update
  listItem" (``PATCH …/items/{id}/fields``; ``If-Match`` with a stale eTag gives 412).
- "Paging Microsoft Graph data in your app": collections come in pages with an absolute
  ``@odata.nextLink``.
- "Get Drive" (``/sites/{id}/drive``, ``/sites/{id}/drives``), "Get a DriveItem resource"
  by path (``/drives/{id}/root:/{path}``), "Create a new folder" (``POST …/children``,
  ``@microsoft.graph.conflictBehavior``), "Upload or replace the contents of a DriveItem"
  (``PUT /drives/{drive-id}/items/{parent-id}:/{filename}:/content``; 201 new, 200 replaced).
- "Combine multiple HTTP requests using JSON batching": ``POST /$batch``, at most 20
  requests (else 400), outer status 200, answers in any order (this server shuffles them),
  each request throttled on its own (a 429 with ``Retry-After`` inside the outer 200); a
  non-JSON body is base64 with its ``Content-Type``. Drive uploads inside a batch answer with
  a base64-encoded JSON body, as Microsoft Q&A 1352007 reports ("by design").
- "Microsoft Graph throttling guidance": 429 and 503 with ``Retry-After`` (seconds); a
  client must wait that long before its next request (inside a batch too: "best practices to
  handle throttling", and the batch section of the same page).
- "Microsoft Graph error responses": ``{"error": {"code", "message"}}``; 401
  ``InvalidAuthenticationToken`` for a missing or invalid bearer token.
- The directory, for the bot's access checks: "Get manager" (``GET /users/{id}/manager``, a
  directoryObject; 404 ``Request_ResourceNotFound`` when no manager is set), "Get user" with
  ``$select`` (``GET /users/{id}?$select=id,department``; 404 for an unknown user), and
  "user: checkMemberGroups" (``POST /users/{id}/checkMemberGroups`` with ``groupIds``, at
  most 20, else 400; the answer lists the ids of those groups the user is a member of,
  directly or through nested groups). "List users" with ``$filter=startswith(displayName,
  '…')`` ("Use the $filter query parameter": ``startswith`` on ``displayName`` is a default
  query, case-insensitive, needing no ``ConsistencyLevel``; a ``'`` inside an OData string
  literal is written ``''``), optionally ``and accountEnabled eq true`` ("user resource
  type": ``accountEnabled`` supports ``$filter`` with ``eq``, ``ne``, ``not`` and ``in``;
  "Advanced query capabilities on Microsoft Entra ID objects": ``accountEnabled eq …`` works
  by default, while ``ne`` and ``not`` need ``ConsistencyLevel: eventual`` and
  ``$count=true``, else 400), ``$select`` and ``$top`` (1 to 999, else 400); a filter this
  server cannot read answers 400 ``Request_UnsupportedQuery``. ``$search`` (which needs
  ``ConsistencyLevel: eventual``) is not implemented: the bot does not use it. A missing
  application permission answers 403 ``Authorization_RequestDenied`` ("Insufficient
  privileges to complete the operation.").
  Throttling (429 with Retry-After) and timeouts come from the same ``Faults`` as the rest.
- The App Service managed identity token endpoint ("Managed identities for App Service",
  REST protocol 2019-08-01: ``IDENTITY_ENDPOINT`` and the ``X-IDENTITY-HEADER``), so the
  bot's real ``azure.identity.aio.ManagedIdentityCredential`` gets the tokens it sends.

Not documented, and assumed here as the bot assumes it: a create that breaks a unique column
answers 409. ``dependsOn`` in batches is not implemented (the bot does not use it).

For the tests, not part of Graph: the server notes when every Graph request arrived and when
every answer carrying ``Retry-After`` (outer, or inside a batch) was written, so a test can
ask which requests came inside a window it gave (``inside_windows``); ``latency`` makes every
answer take a while, as Graph's do.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from aiohttp import web

TOKEN = "local-graph-token"
IDENTITY_HEADER = "local-identity-header"

_SITE_BY_PATH = re.compile(r"^/sites/([^/,:]+):(/.*)?$")
_SITE = re.compile(r"^/sites/([^/]+)$")
_LISTS = re.compile(r"^/sites/([^/]+)/lists$")
_LIST = re.compile(r"^/sites/([^/]+)/lists/([^/]+)$")
_COLUMNS = re.compile(r"^/sites/([^/]+)/lists/([^/]+)/columns$")
_COLUMN = re.compile(r"^/sites/([^/]+)/lists/([^/]+)/columns/([^/]+)$")
_ITEMS = re.compile(r"^/sites/([^/]+)/lists/([^/]+)/items$")
_ITEM = re.compile(r"^/sites/([^/]+)/lists/([^/]+)/items/([^/]+)$")
_FIELDS = re.compile(r"^/sites/([^/]+)/lists/([^/]+)/items/([^/]+)/fields$")
_SITE_DRIVE = re.compile(r"^/sites/([^/]+)/drive$")
_SITE_DRIVES = re.compile(r"^/sites/([^/]+)/drives$")
_BY_PATH = re.compile(r"^/drives/([^/]+)/root:/(.+?):?$")
_CHILDREN = re.compile(r"^/drives/([^/]+)/root/children$")
_UPLOAD = re.compile(r"^/drives/([^/]+)/items/([^/]+):/(.+):/content$")
_FILTER = re.compile(r"^fields/(\w+) eq '((?:[^']|'')*)'$")
_TYPES = ("text", "number", "dateTime", "choice", "boolean")
_USER = re.compile(r"^/users/([^/]+)$")
_USERS = re.compile(r"^/users$")
_STARTSWITH = re.compile(
    r"^startswith\(displayName,'((?:[^']|'')*)'\)"
    r"(?:\s+and\s+(?:accountEnabled\s+(eq|ne)\s+(true|false)"
    r"|(not)\(accountEnabled\s+eq\s+(true|false)\)))?$",
    re.IGNORECASE,
)
_MANAGER = re.compile(r"^/users/([^/]+)/manager$")
_CHECK_GROUPS = re.compile(r"^/users/([^/]+)/checkMemberGroups$")
#: On a $batch answer: the longest Retry-After of the requests inside it.
INNER_RETRY_AFTER = web.ResponseKey("inner_retry_after", float)


def error(status: int, code: str, message: str = "", **headers: str) -> tuple[int, dict, Any]:
    return status, headers, {"error": {"code": code, "message": message or code}}


@dataclass
class Faults:
    """Chances per outer request (and per request inside a batch for ``batch_throttle``)."""

    throttle: float = 0.0  # 429 with Retry-After
    unavailable: float = 0.0  # 503 with Retry-After
    server_error: float = 0.0  # 500
    timeout: float = 0.0  # no answer until the client gives up (the write may be done)
    reset: float = 0.0  # connection closed (the write may be done)
    batch_throttle: float = 0.0
    retry_after: int = 1
    hang: float = 2.0
    seed: int = 7
    #: At most this many faults in all (outer and inside batches), then none: an outage or a
    #: stretch of throttling that ends. None: no end.
    limit: int | None = None

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.used = 0

    def spent(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    def pick(self) -> str:
        """The fault for one outer request, or "" for none."""
        if self.spent():
            return ""
        roll = self.random.random()
        for kind in ("throttle", "unavailable", "server_error", "timeout", "reset"):
            chance = getattr(self, kind)
            if roll < chance:
                self.used += 1
                return kind
            roll -= chance
        return ""

    def throttle_inside(self) -> bool:
        """Is this request inside a batch throttled?"""
        if self.spent() or self.random.random() >= self.batch_throttle:
            return False
        self.used += 1
        return True


class Throttle:
    """A token bucket over requests (each request inside a batch counts): beyond it, 429
    with the seconds until the bucket holds a token again. ``time_scale`` makes a model
    second shorter, matching the client's GRAPH_WAIT_SCALE."""

    def __init__(self, per_second: float, burst: float, time_scale: float = 1.0) -> None:
        self.rate, self.burst, self.scale = per_second, burst, time_scale
        self.tokens, self.at = burst, time.monotonic()

    def take(self) -> int | None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) / self.scale * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return max(1, int((1 - self.tokens) / self.rate + 0.999))


@dataclass(frozen=True)
class Window:
    """An answer with Retry-After asking for ``seconds``; ``status`` is the outer status (200
    for a batch). ``sent`` (time.monotonic()) is taken just before the answer is written: the
    client cannot have had it earlier, so a request that arrives less than ``seconds`` after
    ``sent`` came inside the window, whatever the network did. ``written`` is taken once the
    last byte was handed to the socket; the answer left somewhere in between, and a window
    counted from ``written`` would blame a client for this process being paused after the
    write (seen: up to 5 ms on a busy machine)."""

    sent: float
    written: float
    seconds: float
    status: int
    inside_batch: bool

    def holds(self, moment: float, scale: float = 1.0) -> bool:
        return self.sent < moment < self.sent + self.seconds * scale


def retry_after_of(headers: dict[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            return float(value)
    return None


@dataclass
class Stats:
    http: int = 0  # Graph requests over HTTP (a $batch once)
    batches: int = 0
    inner: int = 0  # requests inside batches
    max_batch: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    creates: int = 0
    updates: int = 0
    uploads: int = 0
    conflicts: dict[int, int] = field(default_factory=dict)
    user_agents: set[str] = field(default_factory=set)
    #: Outer requests by what they carried: "batch:items", "batch:documents", "batch:mixed",
    #: "direct:<METHOD>" (counted when they reach the resources, faults excluded).
    kinds: dict[str, int] = field(default_factory=dict)

    def kind(self, name: str) -> None:
        self.kinds[name] = self.kinds.get(name, 0) + 1

    def fault(self, kind: str) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + 1


@dataclass
class Directory:
    """The users and security groups of the tenant, as the access checks read them."""

    #: user id → {"department": str | None, "manager": user id | None, "name": str | None}
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: group id → its members: user ids and group ids (nested groups)
    groups: dict[str, set[str]] = field(default_factory=dict)
    #: The app lacks User.Read.All / GroupMember.Read.All: every directory request gets 403.
    forbidden: bool = False
    #: The kinds of request (below) that get 403, e.g. {"checkMemberGroups"}: the app was
    #: granted User.Read.All but not GroupMember.Read.All.
    forbidden_kinds: set[str] = field(default_factory=set)
    #: Directory requests answered, by kind ("manager", "user", "checkMemberGroups",
    #: "users" for a search by name).
    requests: dict[str, int] = field(default_factory=dict)

    #: The display names searched for, as the server read them (the bot must quote them).
    searched: list[str] = field(default_factory=list)

    def add_user(
        self,
        user_id: str,
        manager: str | None = None,
        department: str = "",
        name: str = "",
        enabled: bool = True,
    ) -> None:
        self.users[user_id.lower()] = {
            "manager": manager,
            "department": department or None,
            "name": name or None,
            "enabled": enabled,
        }

    def disable(self, user_id: str) -> None:
        """The account is disabled in Entra ID (someone left); the user object stays."""
        self.users[user_id.lower()]["enabled"] = False

    def set_department(self, user_id: str, department: str) -> None:
        """The user moves to another unit in Entra ID."""
        self.users[user_id.lower()]["department"] = department or None

    def set_manager(self, user_id: str, manager: str | None) -> None:
        """The manager changes in Entra ID (HR moved the employee)."""
        self.users[user_id.lower()]["manager"] = manager

    def member_of(self, user_id: str) -> set[str]:
        """Every group the user is in, directly or through groups in groups."""
        found: set[str] = set()
        inside = {user_id.lower()}
        while True:
            more = {g for g, members in self.groups.items() if members & inside} - found
            if not more:
                return found
            found |= more
            inside |= more

    def count(self, kind: str) -> None:
        self.requests[kind] = self.requests.get(kind, 0) + 1

    def answer(
        self,
        method: str,
        path: str,
        data: Any,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict, Any] | None:
        """The answer to a directory request, or None for a path that is not one (``headers``
        in lower case)."""
        if _USERS.match(path):
            return self._list_users(method, params or {}, headers or {})
        for pattern, kind, wanted in (
            (_MANAGER, "manager", "GET"),
            (_CHECK_GROUPS, "checkMemberGroups", "POST"),
            (_USER, "user", "GET"),
        ):
            m = pattern.match(path)
            if m is None:
                continue
            if method != wanted:
                return error(405, "Request_BadRequest", f"{method} is not supported here.")
            self.count(kind)
            if self.forbidden or kind in self.forbidden_kinds:
                return error(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                )
            user = self.users.get(unquote(m.group(1)).lower())
            if user is None:
                return error(
                    404,
                    "Request_ResourceNotFound",
                    f"Resource '{unquote(m.group(1))}' does not exist or one of its queried"
                    " reference-property objects are not present.",
                )
            if kind == "manager":
                return self._manager(user)
            if kind == "user":
                return 200, {}, {"id": unquote(m.group(1)), "department": user["department"]}
            return self._check_groups(unquote(m.group(1)), data)
        return None

    def _list_users(
        self, method: str, params: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict, Any]:
        if method != "GET":
            return error(405, "Request_BadRequest", f"{method} is not supported here.")
        self.count("users")
        if self.forbidden:
            return error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        top = params.get("$top", "100")
        if not top.isdigit() or not 1 <= int(top) <= 999:
            return error(400, "Request_BadRequest", f"Invalid page size specified: '{top}'.")
        wanted: str | None = None
        enabled: bool | None = None  # None: enabled and disabled accounts alike
        if "$filter" in params:
            m = _STARTSWITH.match(params["$filter"].strip())
            if m is None:
                return error(400, "Request_UnsupportedQuery", "Unsupported query.")
            operator, value, negated, negated_value = m.group(2, 3, 4, 5)
            if (operator or "").lower() == "ne" or negated:
                # ne and not() on accountEnabled are advanced queries only
                advanced = headers.get("consistencylevel", "").lower() == "eventual"
                if not advanced or params.get("$count", "").lower() != "true":
                    return error(
                        400,
                        "Request_UnsupportedQuery",
                        "Unsupported or invalid query filter clause specified for property"
                        " 'accountEnabled' of resource 'User'.",
                    )
                enabled = (value or negated_value).lower() != "true"
            elif value:
                enabled = value.lower() == "true"
            wanted = m.group(1).replace("''", "'")
            self.searched.append(wanted)
        found = [
            {"id": user_id, "displayName": user["name"]}
            for user_id, user in self.users.items()
            if user["name"]
            and (wanted is None or user["name"].casefold().startswith(wanted.casefold()))
            and (enabled is None or user["enabled"] == enabled)
        ]
        select = [f for f in params.get("$select", "").split(",") if f]
        if select:
            found = [{k: v for k, v in u.items() if k in select} for u in found]
        return 200, {}, {"value": found[: int(top)]}

    @staticmethod
    def _manager(user: dict[str, Any]) -> tuple[int, dict, Any]:
        if not user["manager"]:
            return error(
                404,
                "Request_ResourceNotFound",
                "Resource 'manager' does not exist or one of its queried reference-property"
                " objects are not present.",
            )
        return 200, {}, {"@odata.type": "#microsoft.graph.user", "id": user["manager"]}

    def _check_groups(self, user_id: str, data: Any) -> tuple[int, dict, Any]:
        ids = data.get("groupIds") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not ids or len(ids) > 20:
            return error(400, "Request_BadRequest", "groupIds must hold 1 to 20 group ids.")
        member_of = self.member_of(user_id)
        return 200, {}, {"value": [g for g in ids if str(g).lower() in member_of]}


class GraphServer:
    def __init__(
        self,
        *,
        hostname: str = "hjoerring.sharepoint.com",
        site_path: str = "/sites/HR",
        faults: Faults | None = None,
        throttle: Throttle | None = None,
        page_size: int = 50,
        latency: float = 0.0,
    ) -> None:
        self.hostname, self.site_path = hostname, site_path
        self.site_id = f"{hostname},{uuid.uuid4()},{uuid.uuid4()}"
        self.web_url = f"https://{hostname}{site_path}"
        self.faults = faults or Faults()
        self.throttle = throttle
        self.page_size = page_size
        #: Seconds every Graph request takes before its answer (Graph's own work: a batch of
        #: uploads takes a while), so "since the request" and "since the answer" differ.
        self.latency = latency
        self.down = False
        self.stats = Stats()
        self.directory = Directory()
        self.lists: dict[str, dict[str, Any]] = {}
        self.drive_id = "b!" + uuid.uuid4().hex
        self.drive_items: dict[str, dict[str, Any]] = {
            "root": {
                "id": "root",
                "name": "root",
                "parent": None,
                "folder": {},
                "webUrl": f"{self.web_url}/Shared%20Documents",
            }
        }
        self.children: dict[tuple[str, str], str] = {}
        self.url = ""
        self._runner: web.AppRunner | None = None
        #: When each Graph request arrived (time.monotonic(), on entering the handler), with
        #: its method and whether it was a $batch.
        self.arrivals: list[tuple[float, str]] = []
        #: Every Retry-After this server gave, from the moment its answer was written.
        self.windows: list[Window] = []

    # --- running ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_get("/msi/token", self._token)
        app.router.add_route("*", "/v1.0/{tail:.*}", self._http)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def identity_env(self) -> dict[str, str]:
        """Environment for the bot's ManagedIdentityCredential (App Service protocol)."""
        return {"IDENTITY_ENDPOINT": f"{self.url}/msi/token", "IDENTITY_HEADER": IDENTITY_HEADER}

    # --- inspection for tests -----------------------------------------------------------------

    def the_list(self, name: str) -> dict[str, Any]:
        return next(x for x in self.lists.values() if x["displayName"] == name)

    def items(self, name: str) -> list[dict[str, Any]]:
        return list(self.the_list(name)["items"].values())

    def files(self) -> dict[str, bytes]:
        return {i["name"]: i["content"] for i in self.drive_items.values() if "file" in i}

    def inside_windows(self, scale: float = 1.0) -> list[str]:
        """Requests that arrived inside a Retry-After window this server had given (its
        seconds times ``scale``, for a client whose waits are scaled); empty when none did."""
        found = []
        for window in self.windows:
            for at, what in self.arrivals:
                if window.holds(at, scale):
                    where = "inside a batch" if window.inside_batch else "outer"
                    found.append(
                        f"{what} {at - window.sent:.3f}s after a Retry-After {window.seconds:g}"
                        f" ({window.status}, {where})"
                    )
        return found

    def edit_item(self, name: str, item_id: str, **fields: Any) -> None:
        """Someone changes the item in SharePoint: its eTag moves on."""
        lst = self.the_list(name)
        item = lst["items"][item_id]
        self._store(lst, item, fields)
        self._bump(item)

    # --- HTTP ---------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        if request.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response(
            {
                "access_token": TOKEN,
                "expires_on": str(int(time.time()) + 3600),
                "resource": request.query.get("resource", ""),
                "token_type": "Bearer",
            }
        )

    async def _http(self, request: web.Request) -> web.StreamResponse:
        """Every Graph request: noted on arrival; an answer with Retry-After (outer or inside
        a batch) is written here, its window noted from the moment before it was written."""
        self.arrivals.append((time.monotonic(), f"{request.method} {request.path}"))
        if self.latency:
            await asyncio.sleep(self.latency)
        response, retry_after, inside = await self._answer(request)
        if retry_after is not None:
            sent = time.monotonic()
            await response.prepare(request)
            await response.write_eof()
            self.windows.append(
                Window(sent, time.monotonic(), retry_after, response.status, inside)
            )
        return response

    async def _answer(self, request: web.Request) -> tuple[web.StreamResponse, float | None, bool]:
        """The answer, its Retry-After (the longest inside a batch) and whether that came from
        inside a batch."""
        response = await self._respond(request)
        retry_after = retry_after_of(dict(response.headers))
        if retry_after is not None:
            return response, retry_after, False
        inner = response.get(INNER_RETRY_AFTER)
        return response, inner, inner is not None

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        self.stats.http += 1
        self.stats.user_agents.add(request.headers.get("User-Agent", ""))
        if self.down:
            self.stats.fault("down")
            return self._reset(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._json(
                *error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
            )
        f = self.faults
        kind = f.pick()
        if kind:
            self.stats.fault(kind)
        if kind == "throttle":
            return self._json(*error(429, "TooManyRequests", **{"Retry-After": str(f.retry_after)}))
        if kind == "unavailable":
            return self._json(
                *error(503, "serviceNotAvailable", **{"Retry-After": str(f.retry_after)})
            )
        if kind == "server_error":
            return self._json(*error(500, "generalException"))
        path = "/" + request.match_info["tail"]
        query = request.rel_url.raw_query_string
        body = await request.read()
        after = kind in ("timeout", "reset") and f.random.random() < 0.5
        if kind in ("timeout", "reset") and not after:
            return await self._lose(request, kind)
        if path == "/$batch" and request.method == "POST":
            answer = self._batch(json.loads(body or b"{}"))
        else:
            self.stats.kind(f"direct:{request.method}")
            answer = self.dispatch(
                request.method, path, query, dict(request.headers), body, count_throttle=True
            )
        if after:  # the change is made, but its answer never arrives
            return await self._lose(request, kind)
        response = self._json(*answer)
        if path == "/$batch" and isinstance(answer[2], dict):
            inner = [retry_after_of(r.get("headers") or {}) for r in answer[2].get("responses", [])]
            longest = max((x for x in inner if x is not None), default=None)
            if longest is not None:
                response[INNER_RETRY_AFTER] = longest
        return response

    async def _lose(self, request: web.Request, kind: str) -> web.StreamResponse:
        if kind == "timeout":
            await asyncio.sleep(self.faults.hang)
        return self._reset(request)

    @staticmethod
    def _reset(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

    @staticmethod
    def _json(status: int, headers: dict, body: Any) -> web.Response:
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    # --- $batch -------------------------------------------------------------------------------

    def _batch(self, payload: dict[str, Any]) -> tuple[int, dict, Any]:
        requests = payload.get("requests")
        if not isinstance(requests, list) or not requests:
            return error(400, "BadRequest", "Invalid batch payload format.")
        if len(requests) > 20:
            return error(
                400, "BadRequest", "Number of batch request steps exceeds the maximum of 20."
            )
        self.stats.batches += 1
        self.stats.inner += len(requests)
        urls = {"documents" if ":/content" in str(r.get("url")) else "items" for r in requests}
        self.stats.kind("batch:" + (urls.pop() if len(urls) == 1 else "mixed"))
        self.stats.max_batch = max(self.stats.max_batch, len(requests))
        responses = []
        for sub in requests:
            responses.append(self._one(sub))
        self.faults.random.shuffle(responses)
        return 200, {}, {"responses": responses}

    def _one(self, sub: dict[str, Any]) -> dict[str, Any]:
        rid = str(sub.get("id"))
        if self.faults.throttle_inside():
            self.stats.fault("batch_throttle")
            status, headers, body = error(
                429, "TooManyRequests", **{"Retry-After": str(self.faults.retry_after)}
            )
            return {"id": rid, "status": status, "headers": headers, "body": body}
        headers = {k.lower(): v for k, v in (sub.get("headers") or {}).items()}
        raw: bytes = b""
        if "body" in sub:
            kind = headers.get("content-type", "")
            if not kind:
                status, h, body = error(
                    400, "BadRequest", "Content-Type header is required with a body."
                )
                return {"id": rid, "status": status, "body": body}
            if "json" in kind:
                raw = json.dumps(sub["body"]).encode()
            else:
                raw = base64.b64decode(sub["body"])
        url = urlsplit("/" + str(sub.get("url", "")).lstrip("/"))
        status, h, body = self.dispatch(
            str(sub.get("method", "GET")).upper(), url.path, url.query, headers, raw, True
        )
        if _UPLOAD.match(unquote(url.path)) and body is not None:
            body = base64.b64encode(json.dumps(body).encode()).decode()
        return {"id": rid, "status": status, "headers": h, "body": body}

    # --- the resources ------------------------------------------------------------------------

    def dispatch(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        count_throttle: bool = False,
    ) -> tuple[int, dict, Any]:
        if count_throttle and self.throttle is not None:
            wait = self.throttle.take()
            if wait is not None:
                self.stats.fault("throttle_model")
                return error(429, "TooManyRequests", **{"Retry-After": str(wait)})
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        lower = {k.lower(): v for k, v in headers.items()}
        data: Any = None
        if body and "json" in lower.get("content-type", "application/json"):
            try:
                data = json.loads(body)
            except ValueError:
                return error(400, "BadRequest", "Unable to read JSON request payload.")
        path = path.rstrip("/") if path != "/" else path
        upload = _UPLOAD.match(path)
        if upload and method == "PUT":
            return self._upload(*map(unquote, upload.groups()), body, lower)
        if m := _SITE_BY_PATH.match(path):
            return self._site_by_path(m.group(1), unquote(m.group(2) or ""))
        if m := _SITE.match(path):
            return self._site(unquote(m.group(1)))
        if m := _LISTS.match(path):
            return self._lists(method, unquote(m.group(1)), params, data)
        if m := _COLUMNS.match(path):
            return self._columns(method, *map(unquote, m.groups()), params, data)
        if m := _COLUMN.match(path):
            return self._column(method, *map(unquote, m.groups()), data)
        if m := _ITEMS.match(path):
            return self._items(method, *map(unquote, m.groups()), params, data)
        if m := _FIELDS.match(path):
            return self._patch(method, *map(unquote, m.groups()), data, lower)
        if m := _ITEM.match(path):
            return self._item(method, *map(unquote, m.groups()))
        if m := _LIST.match(path):
            return self._get_list(method, *map(unquote, m.groups()))
        if m := _SITE_DRIVE.match(path):
            return (
                self._drive_json()
                if self._site_ok(unquote(m.group(1)))
                else error(404, "itemNotFound")
            )
        if m := _SITE_DRIVES.match(path):
            return self._page([self._drive_json()[2]], params, path)
        if m := _CHILDREN.match(path):
            return self._new_folder(method, unquote(m.group(1)), data)
        if m := _BY_PATH.match(path):
            return self._by_path(*map(unquote, m.groups()))
        if (answer := self.directory.answer(method, path, data, params, lower)) is not None:
            return answer
        return error(400, "BadRequest", f"Resource not found for the segment in {method} {path}.")

    def _site_ok(self, site_id: str) -> bool:
        return site_id == self.site_id

    def _site_json(self) -> dict[str, Any]:
        return {
            "id": self.site_id,
            "name": self.site_path.rsplit("/", 1)[-1],
            "displayName": "HR",
            "webUrl": self.web_url,
        }

    def _site_by_path(self, hostname: str, path: str) -> tuple[int, dict, Any]:
        if hostname != self.hostname or path.rstrip("/") != self.site_path:
            return error(404, "itemNotFound", "Requested site could not be found")
        return 200, {}, self._site_json()

    def _site(self, site_id: str) -> tuple[int, dict, Any]:
        return (
            (200, {}, self._site_json()) if self._site_ok(site_id) else error(404, "itemNotFound")
        )

    def _page(self, values: list[Any], params: dict[str, str], path: str) -> tuple[int, dict, Any]:
        size = min(int(params.get("$top", self.page_size)), self.page_size)
        start = int(params.get("$skiptoken", "0"))
        page: dict[str, Any] = {"value": values[start : start + size]}
        if start + size < len(values):
            rest = {k: v for k, v in params.items() if k != "$skiptoken"}
            rest["$skiptoken"] = str(start + size)
            q = "&".join(f"{k}={quote(v, safe='')}" for k, v in rest.items())
            page["@odata.nextLink"] = f"{self.url}/v1.0{path}?{q}"
        return 200, {}, page

    # lists and columns

    def _list_json(self, lst: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": lst["id"],
            "name": lst["name"],
            "displayName": lst["displayName"],
            "list": {"template": lst["template"]},
            "webUrl": f"{self.web_url}/Lists/{lst['name']}",
        }

    def _find_list(self, site_id: str, list_id: str) -> dict[str, Any] | None:
        if not self._site_ok(site_id):
            return None
        return self.lists.get(list_id) or next(
            (x for x in self.lists.values() if x["displayName"] == list_id), None
        )

    def _lists(self, method: str, site_id: str, params: dict, data: Any) -> tuple[int, dict, Any]:
        if not self._site_ok(site_id):
            return error(404, "itemNotFound")
        if method == "GET":
            return self._page(
                [self._list_json(x) for x in self.lists.values()], params, f"/sites/{site_id}/lists"
            )
        if method != "POST" or not isinstance(data, dict) or not data.get("displayName"):
            return error(400, "invalidRequest", "displayName is required")
        if any(x["displayName"] == data["displayName"] for x in self.lists.values()):
            return error(409, "nameAlreadyExists", "A list with this name already exists.")
        lst = {
            "id": str(uuid.uuid4()),
            "name": re.sub(r"\W", "", data["displayName"]),
            "displayName": data["displayName"],
            "template": data.get("list", {}).get("template", "genericList"),
            "columns": {},
            "items": {},
            "next_id": 1,
            "unique": {},
        }
        for column in [
            {"name": "Title", "displayName": "Title", "text": {}},
            *data.get("columns", []),
        ]:
            problem = self._add_column(lst, column)
            if problem:
                return problem
        self.lists[lst["id"]] = lst
        return 201, {}, self._list_json(lst)

    def _add_column(
        self, lst: dict[str, Any], column: dict[str, Any]
    ) -> tuple[int, dict, Any] | None:
        if not column.get("name") or sum(t in column for t in _TYPES) != 1:
            return error(400, "invalidRequest", "A column needs a name and exactly one type.")
        if column["name"] in {c["name"] for c in lst["columns"].values()}:
            return error(409, "nameAlreadyExists", "A column with this name already exists.")
        problem = self._index_problem(column)
        if problem:
            return problem
        made = {"indexed": False, "enforceUniqueValues": False, **column, "id": str(uuid.uuid4())}
        lst["columns"][made["id"]] = made
        return None

    @staticmethod
    def _index_problem(column: dict[str, Any]) -> tuple[int, dict, Any] | None:
        if column.get("enforceUniqueValues") and not column.get("indexed"):
            return error(400, "invalidRequest", "enforceUniqueValues requires indexed.")
        if column.get("indexed") and column.get("text", {}).get("allowMultipleLines"):
            return error(400, "invalidRequest", "Multiple lines of text cannot be indexed.")
        return None

    def _get_list(self, method: str, site_id: str, list_id: str) -> tuple[int, dict, Any]:
        lst = self._find_list(site_id, list_id)
        if lst is None or method != "GET":
            return error(404, "itemNotFound", "The list could not be found.")
        return 200, {}, self._list_json(lst)

    def _columns(
        self, method: str, site_id: str, list_id: str, params: dict, data: Any
    ) -> tuple[int, dict, Any]:
        lst = self._find_list(site_id, list_id)
        if lst is None:
            return error(404, "itemNotFound")
        if method == "GET":
            return self._page(
                list(lst["columns"].values()), params, f"/sites/{site_id}/lists/{list_id}/columns"
            )
        if method == "POST" and isinstance(data, dict):
            problem = self._add_column(lst, data)
            if problem:
                return problem
            return 201, {}, next(c for c in lst["columns"].values() if c["name"] == data["name"])
        return error(405, "methodNotAllowed")

    def _column(
        self, method: str, site_id: str, list_id: str, column_id: str, data: Any
    ) -> tuple[int, dict, Any]:
        lst = self._find_list(site_id, list_id)
        column = lst["columns"].get(column_id) if lst else None
        if column is None:
            return error(404, "itemNotFound")
        if method != "PATCH" or not isinstance(data, dict):
            return error(405, "methodNotAllowed")
        changed = {**column, **data}
        problem = self._index_problem(changed)
        if problem:
            return problem
        column.update(data)
        return 200, {}, column

    # list items

    def _bump(self, item: dict[str, Any]) -> None:
        item["version"] += 1
        item["eTag"] = f'"{item["guid"]},{item["version"]}"'
        item["fields"]["@odata.etag"] = item["eTag"]

    def _check_fields(
        self, lst: dict[str, Any], fields: Any, item_id: str | None
    ) -> tuple[int, dict, Any] | None:
        if not isinstance(fields, dict):
            return error(400, "invalidRequest", "fields are required")
        known = {c["name"]: c for c in lst["columns"].values()}
        for name in fields:
            if name not in known:
                return error(400, "invalidRequest", f"Field '{name}' is not recognized")
        for name, column in known.items():
            if column.get("enforceUniqueValues") and fields.get(name) is not None:
                holder = lst["unique"].get((name, fields[name]))
                if holder is not None and holder != item_id:
                    self.stats.conflicts[409] = self.stats.conflicts.get(409, 0) + 1
                    return error(
                        409,
                        "nameAlreadyExists",
                        "The list item could not be added or updated because duplicate"
                        f" values were found in the following field(s) in the list: [{name}].",
                    )
        return None

    @staticmethod
    def _store(lst: dict[str, Any], item: dict[str, Any], fields: dict[str, Any]) -> None:
        """Write fields to an item, keeping the index of unique values."""
        for column in lst["columns"].values():
            name = column["name"]
            if column.get("enforceUniqueValues") and name in fields:
                old = item["fields"].get(name)
                if lst["unique"].get((name, old)) == item["id"]:
                    del lst["unique"][(name, old)]
                if fields[name] is not None:
                    lst["unique"][(name, fields[name])] = item["id"]
        item["fields"].update(fields)

    def _item_json(self, item: dict[str, Any], expand: bool) -> dict[str, Any]:
        shown = {"id": item["id"], "eTag": item["eTag"], "webUrl": item["webUrl"]}
        if expand:
            shown["fields"] = dict(item["fields"])
        return shown

    def _items(
        self, method: str, site_id: str, list_id: str, params: dict, data: Any
    ) -> tuple[int, dict, Any]:
        lst = self._find_list(site_id, list_id)
        if lst is None:
            return error(404, "itemNotFound", "The list could not be found.")
        if method == "POST":
            fields = data.get("fields") if isinstance(data, dict) else None
            problem = self._check_fields(lst, fields, None)
            if problem:
                return problem
            item_id = str(lst["next_id"])
            lst["next_id"] += 1
            item = {
                "id": item_id,
                "guid": str(uuid.uuid4()),
                "version": 0,
                "webUrl": f"{self.web_url}/Lists/{lst['name']}/DispForm.aspx?ID={item_id}",
                "fields": {"id": item_id},
            }
            self._store(lst, item, fields)
            self._bump(item)
            lst["items"][item_id] = item
            self.stats.creates += 1
            return 201, {}, self._item_json(item, True)
        if method != "GET":
            return error(405, "methodNotAllowed")
        chosen = list(lst["items"].values())
        if "$filter" in params:
            m = _FILTER.match(params["$filter"])
            if not m:
                return error(400, "invalidRequest", "Unsupported filter.")
            name, value = m.group(1), m.group(2).replace("''", "'")
            column = next((c for c in lst["columns"].values() if c["name"] == name), None)
            if column is None:
                return error(400, "invalidRequest", f"Field '{name}' is not recognized")
            if not column.get("indexed"):
                return error(
                    400,
                    "invalidRequest",
                    f"Field '{name}' cannot be referenced in filter or orderby as it is not indexed.",
                )
            chosen = [i for i in chosen if str(i["fields"].get(name)) == value]
        expand = params.get("$expand", "").startswith("fields")
        path = f"/sites/{site_id}/lists/{list_id}/items"
        return self._page([self._item_json(i, expand) for i in chosen], params, path)

    def _item(self, method: str, site_id: str, list_id: str, item_id: str) -> tuple[int, dict, Any]:
        lst = self._find_list(site_id, list_id)
        item = lst["items"].get(item_id) if lst else None
        if item is None:
            return error(404, "itemNotFound")
        if method == "GET":
            return 200, {}, self._item_json(item, True)
        return error(405, "methodNotAllowed")

    def _patch(
        self, method: str, site_id: str, list_id: str, item_id: str, data: Any, headers: dict
    ) -> tuple[int, dict, Any]:
        lst = self._find_list(site_id, list_id)
        item = lst["items"].get(item_id) if lst else None
        if item is None:
            return error(404, "itemNotFound")
        if method != "PATCH":
            return error(405, "methodNotAllowed")
        match = headers.get("if-match")
        if match is not None and match not in ("*", item["eTag"]):
            self.stats.conflicts[412] = self.stats.conflicts.get(412, 0) + 1
            return error(412, "preconditionFailed", "The eTag does not match the item's.")
        problem = self._check_fields(lst, data, item_id)
        if problem:
            return problem
        self._store(lst, item, data)
        self._bump(item)
        self.stats.updates += 1
        return 200, {}, dict(item["fields"])

    # drive

    def _drive_json(self) -> tuple[int, dict, Any]:
        return (
            200,
            {},
            {
                "id": self.drive_id,
                "name": "Documents",
                "driveType": "documentLibrary",
                "webUrl": self.drive_items["root"]["webUrl"],
            },
        )

    def _child(self, parent: str, name: str) -> dict[str, Any] | None:
        found = self.children.get((parent, name.lower()))
        return self.drive_items[found] if found else None

    def _add_drive_item(self, item: dict[str, Any]) -> None:
        self.drive_items[item["id"]] = item
        self.children[(item["parent"], item["name"].lower())] = item["id"]

    def _item_out(self, item: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in item.items() if k not in ("content", "parent")}
        if "file" in item:
            shown["size"] = len(item["content"])
        return shown

    def _by_path(self, drive_id: str, path: str) -> tuple[int, dict, Any]:
        if drive_id != self.drive_id:
            return error(404, "itemNotFound")
        here = self.drive_items["root"]
        for part in path.strip("/").split("/"):
            found = self._child(here["id"], part)
            if found is None:
                return error(404, "itemNotFound", "The resource could not be found.")
            here = found
        return 200, {}, self._item_out(here)

    def _new_folder(self, method: str, drive_id: str, data: Any) -> tuple[int, dict, Any]:
        if drive_id != self.drive_id or method != "POST" or not isinstance(data, dict):
            return error(400, "invalidRequest")
        existing = self._child("root", data["name"])
        if existing is not None:
            if data.get("@microsoft.graph.conflictBehavior", "fail") == "fail":
                return error(409, "nameAlreadyExists", "An item with the same name already exists.")
            return 200, {}, self._item_out(existing)
        folder = {
            "id": uuid.uuid4().hex,
            "name": data["name"],
            "parent": "root",
            "folder": {"childCount": 0},
            "webUrl": f"{self.drive_items['root']['webUrl']}/{quote(data['name'])}",
        }
        self._add_drive_item(folder)
        return 201, {}, self._item_out(folder)

    def _upload(
        self, drive_id: str, parent_id: str, name: str, body: bytes, headers: dict
    ) -> tuple[int, dict, Any]:
        parent = self.drive_items.get(parent_id)
        if drive_id != self.drive_id or parent is None or "folder" not in parent:
            return error(404, "itemNotFound")
        self.stats.uploads += 1
        existing = self._child(parent_id, name)
        if existing is not None:
            existing["content"] = body
            existing["file"] = {"mimeType": headers.get("content-type", "")}
            return 200, {}, self._item_out(existing)
        made = {
            "id": uuid.uuid4().hex,
            "name": name,
            "parent": parent_id,
            "file": {"mimeType": headers.get("content-type", "")},
            "webUrl": f"{parent['webUrl']}/{quote(name)}",
            "content": body,
        }
        self._add_drive_item(made)
        return 201, {}, self._item_out(made)
