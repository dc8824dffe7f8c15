"""Drain the outbox into SharePoint: one list item and one summary document per agreement
version, and one item per action of the version in the second list, exactly once.

- The action items travel with their version's outbox row (its ``actions`` part): each is
  created once, keyed by the unique ``ActionKey`` column ("<dialogue>:<version>:<action>"),
  and updated with its eTag when its status changes; only items changed since SharePoint got
  them are sent (each item counts its revisions). The part is done when every item of the
  version is in SharePoint in its newest revision; otherwise the row keeps the reason and is
  tried again.

- Creates are idempotent through the list's unique ``AgreementKey`` column: when an earlier
  create reached SharePoint but its answer was lost (a timeout, a reset, a killed process),
  the retry gets 409; the syncer looks the item up by the key and updates it instead.
- The item id and its eTag are kept in the outbox, so updates need no lookup and carry
  ``If-Match``; a 412 (the item changed in SharePoint) reloads the eTag and sends the local
  record again, since the bot's store decides the agreement's fields.
- With more than one request due, requests travel in ``$batch`` es of at most 20, documents
  and items in batches of their own; each request of a batch succeeds or fails on its own.
- 429 and 503 wait for Retry-After before the next request at all, not only for that
  entry, counted from the moment the answer arrived (the Graph client holds every request
  until then). The moment is kept in the store too, so the other bot instances on the same
  store wait for it as well; a pass starts only when it has passed. The instances take turns
  to send through the store and share one pacer (sharepoint/graph.py), since Graph throttles
  the app, not the instance. 5xx, timeouts and reset
  connections back off exponentially, and a failed pass waits at least for the window Graph
  gave. Everything that is not sent stays in the outbox with its reason, and a restarted
  process goes on from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sharepoint import schema, summary
from sharepoint.graph import (
    BATCH_LIMIT,
    GraphClient,
    GraphError,
    GraphUnavailable,
    Response,
    batch_body,
    reason_of,
)
from sharepoint.site import NotProvisioned, Target
from store.action_items import SyncedItem
from store.outbox import Entry, Outbox

log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"


@dataclass
class Sub:
    """One request for one entry, sendable alone or inside a $batch."""

    id: str
    entry: Entry
    kind: str  # "document", "create", "update"
    method: str
    url: str
    json_body: Any = None
    data: bytes | None = None
    headers: dict[str, str] | None = None
    #: An action item of the entry's version (second list); None: the agreement's own parts.
    action: SyncedItem | None = None

    def for_batch(self) -> dict[str, Any]:
        request: dict[str, Any] = {"id": self.id, "method": self.method, "url": self.url}
        if self.data is not None:
            request.update(batch_body(self.data, (self.headers or {})["Content-Type"]))
            return request
        request["body"] = self.json_body
        request["headers"] = {"Content-Type": "application/json", **(self.headers or {})}
        return request


def _reason(error: Exception) -> str:
    """Why a whole pass failed, for the outbox: a status and code, or the error's kind."""
    if isinstance(error, GraphError):
        return error.reason
    if isinstance(error, NotProvisioned):
        return "not provisioned: run python -m sharepoint provision"
    return type(error).__name__


def _duplicate(response: Response) -> bool:
    """A create refused because the unique key is taken. Graph's documentation does not say
    which status SharePoint gives; 409 is expected, and a 400 naming duplicate values is
    treated the same (the lookup by key decides either way)."""
    if response.status == 409:
        return True
    body = response.body if isinstance(response.body, dict) else {}
    message = str(body.get("error", {}).get("message", ""))
    return response.status == 400 and "duplicate" in message.lower()


class Syncer:
    def __init__(
        self,
        outbox: Outbox,
        client: GraphClient,
        locate: Callable[[], Awaitable[Target]],
        *,
        interval: float = 5.0,
    ) -> None:
        self.outbox = outbox
        self.client = client
        # The outbox's store is shared by every bot instance: Retry-After windows are kept
        # there, so none of them sends inside a window another was given.
        client.window = outbox
        self.locate = locate
        self.interval = interval
        self.target: Target | None = None
        #: Graph asked for a wait (Retry-After) during the pass.
        self.throttled = False

    # --- one pass ---------------------------------------------------------------------------

    async def drain_once(self) -> int:
        """Send what is due (one batch of documents, one of items); how many were due."""
        self.throttled = False
        await self.client.ready()  # what is due is read after any Retry-After window
        if self.target is None:
            self.target = await self.locate()
        target = self.target
        documents = await self.outbox.due("document", BATCH_LIMIT)
        items = await self.outbox.due("item", BATCH_LIMIT)
        if documents:
            await self._send([self._document(n, e, target) for n, e in enumerate(documents)])
        if items:
            await self._send([self._item(n, e, target) for n, e in enumerate(items)])
        actions = await self.outbox.due("actions", BATCH_LIMIT)
        if actions:
            await self._send_actions(actions, target)
        return len(documents) + len(items) + len(actions)

    def _document(self, n: int, entry: Entry, target: Target) -> Sub:
        name = schema.document_name(entry.dialogue_id, entry.version)
        return Sub(
            id=f"d{n}",
            entry=entry,
            kind="document",
            method="PUT",
            url=target.upload_path(name),
            data=summary.render(entry.record).encode("utf-8"),
            headers={"Content-Type": HTML},
        )

    def _item(self, n: int, entry: Entry, target: Target) -> Sub:
        url = target.document_url(schema.document_name(entry.dialogue_id, entry.version))
        fields = schema.fields(entry.record, url)
        if entry.item_id and entry.etag:
            return Sub(
                id=f"i{n}",
                entry=entry,
                kind="update",
                method="PATCH",
                url=f"{target.items}/{entry.item_id}/fields",
                json_body=fields,
                headers={"If-Match": entry.etag},
            )
        return Sub(
            id=f"i{n}",
            entry=entry,
            kind="create",
            method="POST",
            url=target.items,
            json_body={"fields": fields},
        )

    async def _exchange(self, subs: list[Sub]) -> dict[str, Response]:
        """Send the requests (alone, or as one $batch; the client paces them)."""
        try:
            if len(subs) == 1:
                sub = subs[0]
                answers = {
                    sub.id: await self.client.request(
                        sub.method,
                        sub.url,
                        json_body=sub.json_body,
                        data=sub.data,
                        headers=sub.headers,
                    )
                }
            else:
                answers = await self.client.batch([s.for_batch() for s in subs])
        except GraphUnavailable as error:
            last = error.body if isinstance(error.body, Response) else Response(503)
            answers = {s.id: last for s in subs}
        if any(a.retry_after() for a in answers.values()):
            self.throttled = True
        return answers

    async def _send(self, subs: list[Sub]) -> None:
        answers = await self._exchange(subs)
        conflicts: list[Sub] = []
        async with self.outbox.together():
            for sub in subs:
                if await self._settle(sub, answers[sub.id]):
                    conflicts.append(sub)
            if conflicts:
                await self._resolve(conflicts)

    async def _settle(self, sub: Sub, response: Response) -> bool:
        """Record the answer; True when it is a conflict to resolve (409 or 412)."""
        entry = sub.entry
        if response.ok:
            if sub.kind == "document":
                await self.outbox.document_done(entry.dialogue_id, entry.version, entry.revision)
                return False
            body = response.body if isinstance(response.body, dict) else {}
            if sub.kind == "create":
                item_id = str(body.get("id", ""))
                etag = body.get("eTag") or (body.get("fields") or {}).get("@odata.etag")
            else:
                item_id, etag = str(entry.item_id), body.get("@odata.etag")
            await self.outbox.item_done(
                entry.dialogue_id, entry.version, entry.revision, item_id, etag
            )
            return False
        if sub.kind == "create" and _duplicate(response):
            return True
        if sub.kind == "update" and response.status == 412:
            return True
        if sub.kind == "update" and response.status == 404:
            await self.outbox.remember_item(entry.dialogue_id, entry.version, None, None)
            await self.outbox.failed(
                entry.dialogue_id,
                entry.version,
                "HTTP 404: item gone, creating again",
                self._soon(entry),
            )
            return False
        await self._failed(entry, response)
        return False

    def _wait(self, entry: Entry, response: Response) -> float:
        retry_after = response.retry_after()
        transient = response.transient or response.status == 0
        return self.client.backoff(entry.attempts if transient else entry.attempts + 4, retry_after)

    async def _failed(self, entry: Entry, response: Response) -> None:
        wait = self._wait(entry, response)
        await self.outbox.failed(entry.dialogue_id, entry.version, reason_of(response), wait)

    async def _resolve(self, conflicts: list[Sub]) -> None:
        """409: the item exists (an earlier create whose answer was lost): find it by its
        key. 412: the item changed in SharePoint: read its current eTag. Either way the next
        pass sends the local record as an update. The look-ups go in one batch."""
        items = self._items()
        lookups: list[Sub] = []
        for n, sub in enumerate(conflicts):
            if sub.kind == "create":
                key = quote(f"'{sub.entry.key}'", safe="")
                url = (
                    f"{items}?$filter=fields/{schema.KEY}%20eq%20{key}"
                    f"&$expand=fields($select={schema.KEY})&$select=id,eTag"
                )
            else:
                url = f"{items}/{sub.entry.item_id}?$select=id,eTag"
            lookups.append(Sub(id=f"r{n}", entry=sub.entry, kind=sub.kind, method="GET", url=url))
        answers = await self._exchange(lookups)
        for sub in lookups:
            entry, response = sub.entry, answers[sub.id]
            body = response.body if isinstance(response.body, dict) else {}
            if sub.kind == "create" and response.ok and body.get("value"):
                found = body["value"][0]
                item_id, etag = str(found["id"]), found.get("eTag")
                reason = "HTTP 409: already in SharePoint, updating"
            elif sub.kind == "update" and response.ok and body.get("eTag"):
                item_id, etag = str(entry.item_id), body["eTag"]
                reason = "HTTP 412: changed in SharePoint, resending"
            else:
                await self._failed(entry, response)
                continue
            await self.outbox.remember_item(entry.dialogue_id, entry.version, item_id, etag)
            await self.outbox.failed(entry.dialogue_id, entry.version, reason, self._soon(entry))

    # --- the action items (second list) ----------------------------------------------------

    def _action(self, n: int, entry: Entry, synced: SyncedItem, target: Target) -> Sub:
        fields = schema.action_fields(synced.item)
        if synced.sp_item_id and synced.sp_etag:
            return Sub(
                id=f"a{n}",
                entry=entry,
                kind="update",
                method="PATCH",
                url=f"{target.action_items}/{synced.sp_item_id}/fields",
                json_body=fields,
                headers={"If-Match": synced.sp_etag},
                action=synced,
            )
        return Sub(
            id=f"a{n}",
            entry=entry,
            kind="create",
            method="POST",
            url=target.action_items,
            json_body={"fields": fields},
            action=synced,
        )

    async def _send_actions(self, entries: list[Entry], target: Target) -> None:
        """Every action item of each entry's version, in batches of at most 20; an entry's
        part is done only when all its items went through."""
        subs: list[Sub] = []
        for entry in entries:
            for synced in await self.outbox.actions_of(entry.dialogue_id, entry.version):
                if synced.behind:  # only what changed since SharePoint got it
                    subs.append(self._action(len(subs), entry, synced, target))
        #: Per entry that is not done this time: why, and when to try again.
        missed: dict[str, tuple[str, float]] = {}
        for start in range(0, len(subs), BATCH_LIMIT):
            chunk = subs[start : start + BATCH_LIMIT]
            answers = await self._exchange(chunk)
            conflicts: list[Sub] = []
            async with self.outbox.together():
                for sub in chunk:
                    if await self._settle_action(sub, answers[sub.id], missed):
                        conflicts.append(sub)
                if conflicts:
                    await self._resolve_actions(conflicts, target, missed)
        async with self.outbox.together():
            for entry in entries:
                if entry.key in missed:
                    reason, wait = missed[entry.key]
                    await self.outbox.failed(entry.dialogue_id, entry.version, reason, wait)
                else:
                    await self.outbox.actions_done(entry.dialogue_id, entry.version, entry.revision)

    async def _settle_action(
        self, sub: Sub, response: Response, missed: dict[str, tuple[str, float]]
    ) -> bool:
        """Record the answer for one action item; True when it is a conflict to resolve."""
        entry, synced = sub.entry, sub.action
        assert synced is not None
        key = synced.item.key
        if response.ok:
            body = response.body if isinstance(response.body, dict) else {}
            if sub.kind == "create":
                item_id = str(body.get("id", ""))
                etag = body.get("eTag") or (body.get("fields") or {}).get("@odata.etag")
            else:
                item_id, etag = str(synced.sp_item_id), body.get("@odata.etag")
            await self.outbox.remember_action(
                entry.dialogue_id, entry.version, key, item_id, etag, sent=synced.revision
            )
            return False
        if (sub.kind == "create" and _duplicate(response)) or (
            sub.kind == "update" and response.status == 412
        ):
            return True
        if sub.kind == "update" and response.status == 404:
            await self.outbox.remember_action(entry.dialogue_id, entry.version, key, None, None)
            missed[entry.key] = ("HTTP 404: action item gone, creating again", self._soon(entry))
            return False
        missed[entry.key] = (reason_of(response), self._wait(entry, response))
        return False

    async def _resolve_actions(
        self, conflicts: list[Sub], target: Target, missed: dict[str, tuple[str, float]]
    ) -> None:
        """As ``_resolve``, for action items: find a created item by its ActionKey (409), or
        read an item's current eTag (412); the next pass sends the local item as an update."""
        lookups: list[Sub] = []
        for n, sub in enumerate(conflicts):
            assert sub.action is not None
            if sub.kind == "create":
                key = quote(f"'{schema.action_key(sub.action.item)}'", safe="")
                url = (
                    f"{target.action_items}?$filter=fields/{schema.ACTION_KEY}%20eq%20{key}"
                    f"&$expand=fields($select={schema.ACTION_KEY})&$select=id,eTag"
                )
            else:
                url = f"{target.action_items}/{sub.action.sp_item_id}?$select=id,eTag"
            lookups.append(
                Sub(
                    id=f"q{n}",
                    entry=sub.entry,
                    kind=sub.kind,
                    method="GET",
                    url=url,
                    action=sub.action,
                )
            )
        answers = await self._exchange(lookups)
        for sub in lookups:
            entry, response, synced = sub.entry, answers[sub.id], sub.action
            assert synced is not None
            body = response.body if isinstance(response.body, dict) else {}
            if sub.kind == "create" and response.ok and body.get("value"):
                found = body["value"][0]
                item_id, etag = str(found["id"]), found.get("eTag")
                reason = "HTTP 409: action item already in SharePoint, updating"
            elif sub.kind == "update" and response.ok and body.get("eTag"):
                item_id, etag = str(synced.sp_item_id), body["eTag"]
                reason = "HTTP 412: action item changed in SharePoint, resending"
            else:
                missed[entry.key] = (reason_of(response), self._wait(entry, response))
                continue
            await self.outbox.remember_action(
                entry.dialogue_id, entry.version, synced.item.key, item_id, etag
            )
            missed.setdefault(entry.key, (reason, self._soon(entry)))

    def _soon(self, entry: Entry) -> float:
        """At once after a conflict is resolved; with backoff if conflicts keep coming."""
        return 0.0 if entry.attempts < 3 else self.client.backoff(entry.attempts)

    def _items(self) -> str:
        assert self.target is not None
        return self.target.items

    # --- the background loop ----------------------------------------------------------------

    async def flush(self, seconds: float) -> int:
        """At shutdown, after the last turn: send what is due, for at most ``seconds``; how
        many entries were tried. What is left (Graph down or throttling, time up) stays in the
        outbox for the next start: an upsert keyed by dialogue and version is safe to repeat."""

        async def drain() -> int:
            tried = 0
            while due := await self.drain_once():
                tried += due
                if self.throttled:  # Graph asks us to wait: the next start will go on
                    break
            return tried

        try:
            return await asyncio.wait_for(drain(), seconds)
        except Exception as error:  # noqa: BLE001 - shutdown goes on, the outbox keeps the work
            log.warning("sharepoint flush at shutdown stopped: %s", _reason(error))
            return 0

    async def run(self) -> None:
        """Forever: drain what is due, wait as Graph asks, back off while it is down."""
        failures = 0
        while True:
            try:
                due = await self.drain_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must survive, the outbox keeps the work
                # Graph unreachable, the list not provisioned, the sign-in refused, …: every
                # pending entry waits with the reason, which `python -m sharepoint pending` shows.
                failures += 1
                # At least the Retry-After window of the last answer (counted from it).
                wait = max(self.client.backoff(min(failures, 7)), self.client.window_left())
                reason = _reason(error)
                log.warning("sharepoint sync waits %.1fs: %s", wait, reason)
                with contextlib.suppress(Exception):
                    await self.outbox.postpone_all(reason, wait)
                await asyncio.sleep(wait)
                continue
            if due:  # the next pass waits for any Retry-After window first
                continue
            due_in = await self.outbox.next_due_in()
            await asyncio.sleep(
                self.interval if due_in is None else min(self.interval, max(due_in, 0.01))
            )
