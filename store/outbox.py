"""The SharePoint outbox: which agreement versions SharePoint does not have yet, and why.

Each row has three parts: the version's item in the agreements list, its summary document,
and its action items in the second list (store/action_items.py), each with the revision
SharePoint has of it.

An agreement version and its outbox row are written in one transaction (``enqueue`` takes the
open connection), so a crash can never leave an agreement that SharePoint will not get. The
row's ``revision`` counts local changes to the version (concluded, confirmed, disputed);
``item_revision`` and ``doc_revision`` say which revision the list item and the summary
document in SharePoint show. The syncer sends the newest record and marks the revision it
sent, so a change made while a send is under way is sent again.

Several instances drain one outbox together: ``due`` claims the entries it returns for this
syncer (``holder``) for ``claim_seconds``, picking them in a short transaction that locks
them (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time), so two
syncers never send the same entry at once. Writing an outcome releases the claim; the
claims of an instance that died expire. SharePoint's unique ``dialogue id:version`` column
keeps an item single even if a claim expired while its request was still under way.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    RowMapping,
    case,
    func,
    or_,
    select,
    tuple_,
    update,
)

from core.answers import AgreementRecord
from store import action_items as item_store  # imports this module: used at call time
from store.connections import StoreConnection
from store.database import Database, insert_for, utc_now
from store.schema import action_items, agreements, dialogues, leases, sharepoint_outbox

o = sharepoint_outbox.c

#: An entry whose list item, document or action items SharePoint does not have in its newest
#: revision.
BEHIND: ColumnElement[bool] = or_(
    o.item_revision < o.revision, o.doc_revision < o.revision, o.actions_revision < o.revision
)
#: The parts of an entry: the revision column SharePoint has of each, and its claim.
PARTS = {
    "item": (o.item_revision, o.item_claim, o.item_claimed_until),
    "document": (o.doc_revision, o.doc_claim, o.doc_claimed_until),
    "actions": (o.actions_revision, o.actions_claim, o.actions_claimed_until),
}
#: Seconds a syncer keeps the entries it took: one batch normally ends well within them; an
#: instance that died (or a restart after a crash) frees its entries this long after.
CLAIM_SECONDS = 30.0
#: The row of the ``leases`` table that holds Graph's latest Retry-After for every instance
#: on this store: ``until`` is the moment before which none of them sends to Graph, ``holder``
#: the reason (the status and Graph's error code).
GRAPH_WAIT = "sharepoint.graph_retry_after"
#: The row of the ``leases`` table that lets one request at a time reach Graph from all the
#: instances on this store (Graph throttles the app per tenant, not per instance): while
#: ``holder`` names an instance, it has the turn until ``until``; given back, ``holder`` is
#: empty and ``until`` is the earliest moment the next request may start (the pacer's gap).
GRAPH_TURN = "sharepoint.graph_turn"
#: The row that keeps the pacer's gap between two requests, in seconds, in ``holder``
#: (``until``: when it was last set), so every instance paces as the last answer asked.
GRAPH_PACE = "sharepoint.graph_pace"


@cache
def _enqueuing(engine_name: str) -> Executable:
    """The upsert of an outbox entry, built once per engine (its ``excluded`` columns cost
    more to build than the statement takes to run); the values are its parameters."""
    add = insert_for(engine_name, sharepoint_outbox)
    return add.on_conflict_do_update(
        index_elements=[o.dialogue_id, o.version],
        set_={
            "revision": o.revision + 1,
            "attempts": 0,
            "next_attempt_at": add.excluded.next_attempt_at,
            "updated_at": add.excluded.updated_at,
        },
    )


async def enqueue(conn: StoreConnection, dialogue_id: str, version: int) -> None:
    """Inside the caller's transaction: this agreement version changed, send it again."""
    now = utc_now()
    await conn.execute(
        _enqueuing(conn.dialect.name),
        {
            "dialogue_id": dialogue_id,
            "version": version,
            "next_attempt_at": now,
            "updated_at": now,
            # A new version has no action items yet (they come with the confirmation).
            "actions_revision": 1,
        },
    )


async def enqueue_actions(conn: StoreConnection, dialogue_id: str, version: int) -> None:
    """Inside the caller's transaction: only the version's action items changed. The new
    revision is asked of the action items; the list item and the document, when SharePoint
    had their newest revision, are counted as having this one too (nothing of theirs
    changed), so they are not sent again."""
    now = utc_now()
    await conn.execute(
        update(sharepoint_outbox)
        .where(*_this(dialogue_id, version))
        .values(
            {
                o.revision: o.revision + 1,
                o.item_revision: case(
                    (o.item_revision >= o.revision, o.revision + 1), else_=o.item_revision
                ),
                o.doc_revision: case(
                    (o.doc_revision >= o.revision, o.revision + 1), else_=o.doc_revision
                ),
                o.attempts: 0,
                o.next_attempt_at: now,
                o.updated_at: now,
            }
        )
    )


@dataclass
class Entry:
    dialogue_id: str
    version: int
    revision: int
    item_revision: int
    doc_revision: int
    actions_revision: int
    item_id: str | None
    etag: str | None
    attempts: int
    last_error: str | None
    record: AgreementRecord

    @property
    def key(self) -> str:
        return f"{self.dialogue_id}:{self.version}"

    @property
    def needs_item(self) -> bool:
        return self.item_revision < self.revision

    @property
    def needs_document(self) -> bool:
        return self.doc_revision < self.revision

    @property
    def needs_actions(self) -> bool:
        return self.actions_revision < self.revision


def _entry(row: RowMapping) -> Entry:
    return Entry(
        dialogue_id=row["dialogue_id"],
        version=row["version"],
        revision=row["revision"],
        item_revision=row["item_revision"],
        doc_revision=row["doc_revision"],
        actions_revision=row["actions_revision"],
        item_id=row["item_id"],
        etag=row["etag"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        record=AgreementRecord.model_validate_json(row["record"]),
    )


_ENTRIES = select(
    o.dialogue_id,
    o.version,
    o.revision,
    o.item_revision,
    o.doc_revision,
    o.actions_revision,
    o.item_id,
    o.etag,
    o.attempts,
    o.last_error,
    agreements.c.record,
).join(
    agreements,
    (agreements.c.dialogue_id == o.dialogue_id) & (agreements.c.version == o.version),
)
_ORDER = (o.next_attempt_at, o.dialogue_id, o.version)


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def _error_unless_done(*others: Any) -> Any:
    """A part was sent: the last error stays while one of the ``others`` is still behind."""
    return case((or_(*(other < o.revision for other in others)), o.last_error), else_=None)


@dataclass(frozen=True)
class GraphTurn:
    """The outcome of asking for the turn to send to Graph."""

    #: This instance has the turn now.
    taken: bool
    #: Seconds to wait before asking again (0 when taken).
    wait: float
    #: The pacer's gap between two requests, in seconds.
    spacing: float
    #: The latest Retry-After window any instance was given (it may be past).
    window: datetime | None


def _this(dialogue_id: str, version: int) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return o.dialogue_id == dialogue_id, o.version == version


class Outbox:
    def __init__(
        self, db: Database, *, holder: str | None = None, claim_seconds: float = CLAIM_SECONDS
    ) -> None:
        self.db = db
        self.holder = holder or uuid.uuid4().hex
        self.claim_seconds = claim_seconds
        self._held: list[Executable] | None = None

    def _released(self, *kinds: str) -> dict[Any, Any]:
        """The column values that give up this syncer's claims of ``kinds``."""
        values: dict[Any, Any] = {}
        for claim, until in (self._claim_columns(kind) for kind in kinds):
            mine = claim == self.holder
            values[claim] = case((mine, None), else_=claim)
            values[until] = case((mine, None), else_=until)
        return values

    @staticmethod
    def _claim_columns(kind: str) -> tuple[Any, Any]:
        _, claim, until = PARTS[kind]
        return claim, until

    async def _write(self, statement: Executable) -> None:
        if self._held is not None:
            self._held.append(statement)
            return
        async with self.db.transaction() as conn:
            await conn.execute(statement)

    @asynccontextmanager
    async def together(self) -> AsyncIterator[None]:
        """The outcomes of one batch are written in one transaction, after the batch."""
        self._held = []
        try:
            yield
            held = self._held
        finally:
            self._held = None
        async with self.db.transaction() as conn:
            for statement in held:
                await conn.execute(statement)

    async def due(self, kind: str, limit: int) -> list[Entry]:
        """Entries whose list item ("item"), summary document ("document") or action items
        ("actions") are behind and whose next attempt is now or past, oldest first, claimed
        for this syncer: another syncer's unexpired claims are skipped."""
        behind = PARTS[kind][0] < o.revision
        claim, until = self._claim_columns(kind)
        now = utc_now()
        pick = (
            select(o.dialogue_id, o.version)
            .where(
                behind,
                o.next_attempt_at <= now,
                or_(until.is_(None), until <= now, claim == self.holder),
            )
            .order_by(*_ORDER)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.db.transaction() as conn:
            keys = [tuple(k) for k in (await conn.execute(pick)).all()]
            if not keys:
                return []
            taken = tuple_(o.dialogue_id, o.version).in_(keys)
            await conn.execute(
                update(sharepoint_outbox)
                .where(taken)
                .values({claim: self.holder, until: _later(self.claim_seconds)})
            )
            rows = (await conn.execute(_ENTRIES.where(taken).order_by(*_ORDER))).mappings()
            return [_entry(r) for r in rows]

    async def next_due_in(self) -> float | None:
        """Seconds until the next pending entry is due (0 when one is due); None when empty."""
        row = await self.db.fetchone(select(func.min(o.next_attempt_at).label("at")).where(BEHIND))
        if not row or row["at"] is None:
            return None
        wait = (datetime.fromisoformat(row["at"]) - datetime.now(UTC)).total_seconds()
        return max(0.0, wait)

    async def item_done(
        self, dialogue_id: str, version: int, revision: int, item_id: str, etag: str | None
    ) -> None:
        now = utc_now()
        await self._write(
            update(sharepoint_outbox)
            .where(*_this(dialogue_id, version))
            .values(
                {
                    o.item_revision: case(
                        (o.item_revision > revision, o.item_revision), else_=revision
                    ),
                    o.item_id: item_id,
                    o.etag: etag,
                    o.attempts: 0,
                    o.synced_at: now,
                    o.updated_at: now,
                    o.last_error: _error_unless_done(o.doc_revision, o.actions_revision),
                    **self._released("item"),
                }
            )
        )

    async def document_done(self, dialogue_id: str, version: int, revision: int) -> None:
        await self._write(
            update(sharepoint_outbox)
            .where(*_this(dialogue_id, version))
            .values(
                {
                    o.doc_revision: case(
                        (o.doc_revision > revision, o.doc_revision), else_=revision
                    ),
                    o.updated_at: utc_now(),
                    o.last_error: _error_unless_done(o.item_revision, o.actions_revision),
                    **self._released("document"),
                }
            )
        )

    async def actions_done(self, dialogue_id: str, version: int, revision: int) -> None:
        """SharePoint's second list has every action item of this version at ``revision``."""
        await self._write(
            update(sharepoint_outbox)
            .where(*_this(dialogue_id, version))
            .values(
                {
                    o.actions_revision: case(
                        (o.actions_revision > revision, o.actions_revision), else_=revision
                    ),
                    o.attempts: 0,
                    o.updated_at: utc_now(),
                    o.last_error: _error_unless_done(o.item_revision, o.doc_revision),
                    **self._released("actions"),
                }
            )
        )

    async def actions_of(self, dialogue_id: str, version: int) -> list[item_store.SyncedItem]:
        """The version's action items with their place in SharePoint's second list."""
        return await item_store.ActionItemStore(self.db).for_version(dialogue_id, version)

    async def remember_action(
        self,
        dialogue_id: str,
        version: int,
        key: str,
        item_id: str | None,
        etag: str | None,
        sent: int | None = None,
    ) -> None:
        """Where one action item is in SharePoint's second list (None: create it again), and
        the item's revision SharePoint now has (``sent``; None: not sent, only found)."""
        i = action_items.c
        values: dict[Any, Any] = {i.sp_item_id: item_id, i.sp_etag: etag}
        if sent is not None:
            values[i.sp_revision] = case((i.sp_revision > sent, i.sp_revision), else_=sent)
        await self._write(
            update(action_items)
            .where(i.dialogue_id == dialogue_id, i.version == version, i.item_key == key)
            .values(values)
        )

    async def remember_item(
        self, dialogue_id: str, version: int, item_id: str | None, etag: str | None
    ) -> None:
        """The SharePoint item of this version (found after a duplicate create or a 412), or
        None when it is gone and must be created again."""
        await self._write(
            update(sharepoint_outbox)
            .where(*_this(dialogue_id, version))
            .values(item_id=item_id, etag=etag)
        )

    async def failed(self, dialogue_id: str, version: int, reason: str, retry_in: float) -> None:
        """Not sent this time: why (a status code or an error class, never content) and when
        to try again."""
        await self._write(
            update(sharepoint_outbox)
            .where(*_this(dialogue_id, version))
            .values(
                {
                    o.attempts: o.attempts + 1,
                    o.last_error: reason[:200],
                    o.next_attempt_at: _later(retry_in),
                    o.updated_at: utc_now(),
                    **self._released("item", "document", "actions"),
                }
            )
        )

    async def postpone_all(self, reason: str, retry_in: float) -> None:
        """SharePoint cannot be reached at all: every pending entry waits, with the reason;
        this syncer's claims are given up."""
        at = _later(retry_in)
        async with self.db.transaction() as conn:
            await conn.execute(
                update(sharepoint_outbox)
                .where(BEHIND)
                .values(
                    {
                        o.last_error: reason[:200],
                        o.next_attempt_at: case(
                            (o.next_attempt_at > at, o.next_attempt_at), else_=at
                        ),
                        **self._released("item", "document", "actions"),
                    }
                )
            )

    async def hold_graph(self, until: datetime, reason: str) -> None:
        """Graph asked to wait (Retry-After) until ``until``: no instance sends before it. A
        later moment replaces an earlier one, never the reverse."""
        wait = leases.c
        hold = self.db.insert(leases).values(
            name=GRAPH_WAIT, holder=reason[:200], until=until.isoformat(timespec="microseconds")
        )
        async with self.db.transaction() as conn:
            await conn.execute(
                hold.on_conflict_do_update(
                    index_elements=[wait.name],
                    set_={"holder": hold.excluded.holder, "until": hold.excluded.until},
                    where=hold.excluded.until > wait.until,
                )
            )

    async def take_graph_turn(self, seconds: float, poll: float) -> GraphTurn:
        """Take the turn to send one request to Graph, for at most ``seconds`` (longer than a
        request can last): taken when it is free and its gap has passed, or this syncer
        has it. With the pacer's gap and the shared Retry-After window, read in the same
        transaction. Not taken: ``wait`` is the rest of the gap, or while another instance has
        the turn, the rest of the gap after its start (all instances hold a turn alike) or
        ``poll``, whichever is longer."""
        now = utc_now()
        turn = leases.c
        async with self.db.transaction() as conn:
            taken = (
                await conn.execute(
                    self.db.insert(leases)
                    .values(name=GRAPH_TURN, holder=self.holder, until=_later(seconds))
                    .on_conflict_do_nothing()
                )
            ).rowcount == 1 or (
                await conn.execute(
                    update(leases)
                    .where(
                        turn.name == GRAPH_TURN,
                        or_(turn.until <= now, turn.holder == self.holder),
                    )
                    .values(holder=self.holder, until=_later(seconds))
                )
            ).rowcount == 1
            rows = {
                r["name"]: r
                for r in (
                    await conn.execute(
                        select(turn.name, turn.holder, turn.until).where(
                            turn.name.in_([GRAPH_TURN, GRAPH_PACE, GRAPH_WAIT])
                        )
                    )
                ).mappings()
            }
        pace = rows.get(GRAPH_PACE)
        spacing = float(pace["holder"]) if pace else 0.0
        wait = 0.0
        if not taken:
            left = datetime.fromisoformat(rows[GRAPH_TURN]["until"]) - datetime.now(UTC)
            wait = max(0.0, left.total_seconds())
            if rows[GRAPH_TURN]["holder"]:
                # Held since ``seconds`` before its end: the next request cannot start before
                # the gap after that has passed; then ask every ``poll``.
                wait = min(wait, max(poll, spacing - (seconds - wait)))
        window = rows.get(GRAPH_WAIT)
        return GraphTurn(
            taken=taken,
            wait=wait,
            spacing=spacing,
            window=datetime.fromisoformat(window["until"]) if window else None,
        )

    async def give_graph_turn(self, next_start: datetime, spacing: float) -> None:
        """Give the turn back: the next request (from any instance) starts at ``next_start``
        or later, and the pacer's gap is now ``spacing`` seconds."""
        turn = leases.c
        pace = self.db.insert(leases).values(
            name=GRAPH_PACE, holder=f"{max(0.0, spacing):.6f}", until=utc_now()
        )
        async with self.db.transaction() as conn:
            given = await conn.execute(
                update(leases)
                .where(turn.name == GRAPH_TURN, turn.holder == self.holder)
                .values(holder="", until=next_start.isoformat(timespec="microseconds"))
            )
            if given.rowcount:  # a turn that had run out does not set the pace
                await conn.execute(
                    pace.on_conflict_do_update(
                        index_elements=[turn.name],
                        set_={"holder": pace.excluded.holder, "until": pace.excluded.until},
                    )
                )

    async def graph_wait(self) -> tuple[datetime, str] | None:
        """The latest moment Graph asked any instance to wait until, and why (it may be past)."""
        wait = leases.c
        row = await self.db.fetchone(select(wait.holder, wait.until).where(wait.name == GRAPH_WAIT))
        return (datetime.fromisoformat(row["until"]), row["holder"]) if row else None

    async def pending(self) -> list[dict[str, Any]]:
        """What SharePoint does not have yet, and why: for the admin command."""
        rows = await self.db.fetchall(
            select(
                o.dialogue_id,
                o.version,
                o.revision,
                o.item_revision,
                o.doc_revision,
                o.actions_revision,
                o.attempts,
                o.last_error,
                o.next_attempt_at,
                o.updated_at,
            )
            .where(BEHIND)
            .order_by(o.updated_at, o.dialogue_id, o.version)
        )
        return [dict(r) for r in rows]

    async def counts(self) -> dict[str, int]:
        row = await self.db.fetchone(
            select(
                func.count().label("total"),
                func.sum(case((BEHIND, 1), else_=0)).label("pending"),
            ).select_from(sharepoint_outbox)
        )
        total = int(row["total"] or 0) if row else 0
        pending = int(row["pending"] or 0) if row else 0
        return {"total": total, "pending": pending, "synced": total - pending}

    async def saved(self, dialogue_ids: list[str]) -> dict[str, bool]:
        """Per dialogue: is its newest agreement version in SharePoint (item and document)?"""
        if not dialogue_ids:
            return {}
        rows = await self.db.fetchall(
            select(
                o.dialogue_id,
                (
                    (o.item_revision >= o.revision)
                    & (o.doc_revision >= o.revision)
                    & (o.actions_revision >= o.revision)
                ).label("saved"),
            )
            .join(
                dialogues,
                (dialogues.c.id == o.dialogue_id) & (dialogues.c.agreement_version == o.version),
            )
            .where(o.dialogue_id.in_(dialogue_ids))
        )
        return {r["dialogue_id"]: bool(r["saved"]) for r in rows}
