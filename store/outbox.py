"""The SharePoint outbox: which agreement versions SharePoint does not have yet, and why.

An agreement version and its outbox row are written in one transaction (``enqueue`` takes the
open connection), so a crash can never leave an agreement that SharePoint will not get. The
row's ``revision`` counts local changes to the version (concluded, confirmed, disputed);
``item_revision`` and ``doc_revision`` say which revision the list item and the summary
document in SharePoint show. The syncer sends the newest record and marks the revision it
sent, so a change made while a send is under way is sent again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite

from core.answers import AgreementRecord
from store.database import Database, utc_now

#: Where the outbox is kept in SQL, for the admin listing.
PENDING = "item_revision < revision OR doc_revision < revision"
#: The row of the ``leases`` table that holds Graph's latest Retry-After for every instance
#: on this store: ``until`` is the moment before which none of them sends to Graph, ``holder``
#: the reason (the status and Graph's error code).
GRAPH_WAIT = "sharepoint.graph_retry_after"


async def enqueue(conn: aiosqlite.Connection, dialogue_id: str, version: int) -> None:
    """Inside the caller's transaction: this agreement version changed, send it again."""
    now = utc_now()
    await conn.execute(
        "INSERT INTO sharepoint_outbox (dialogue_id, version, next_attempt_at, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (dialogue_id, version) DO UPDATE SET"
        " revision = revision + 1, attempts = 0, next_attempt_at = excluded.next_attempt_at,"
        " updated_at = excluded.updated_at",
        (dialogue_id, version, now, now),
    )


@dataclass
class Entry:
    dialogue_id: str
    version: int
    revision: int
    item_revision: int
    doc_revision: int
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


def _entry(row: aiosqlite.Row) -> Entry:
    return Entry(
        dialogue_id=row["dialogue_id"],
        version=row["version"],
        revision=row["revision"],
        item_revision=row["item_revision"],
        doc_revision=row["doc_revision"],
        item_id=row["item_id"],
        etag=row["etag"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        record=AgreementRecord.model_validate_json(row["record"]),
    )


_SELECT = (
    "SELECT o.dialogue_id, o.version, o.revision, o.item_revision, o.doc_revision, o.item_id,"
    " o.etag, o.attempts, o.last_error, a.record FROM sharepoint_outbox o"
    " JOIN agreements a ON a.dialogue_id = o.dialogue_id AND a.version = o.version"
)


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._held: list[tuple[str, tuple[Any, ...]]] | None = None

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        if self._held is not None:
            self._held.append((sql, params))
            return
        async with self.db.transaction() as conn:
            await conn.execute(sql, params)

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
            for sql, params in held:
                await conn.execute(sql, params)

    async def due(self, kind: str, limit: int) -> list[Entry]:
        """Entries whose list item ("item") or summary document ("document") is behind and
        whose next attempt is now or past, oldest first."""
        behind = {"item": "o.item_revision", "document": "o.doc_revision"}[kind]
        rows = await self.db.fetchall(
            f"{_SELECT} WHERE {behind} < o.revision"
            " AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.dialogue_id, o.version"
            " LIMIT ?",
            (utc_now(), limit),
        )
        return [_entry(r) for r in rows]

    async def next_due_in(self) -> float | None:
        """Seconds until the next pending entry is due (0 when one is due); None when empty."""
        row = await self.db.fetchone(
            f"SELECT MIN(next_attempt_at) AS at FROM sharepoint_outbox WHERE {PENDING}"
        )
        if not row or row["at"] is None:
            return None
        wait = (datetime.fromisoformat(row["at"]) - datetime.now(UTC)).total_seconds()
        return max(0.0, wait)

    async def item_done(
        self, dialogue_id: str, version: int, revision: int, item_id: str, etag: str | None
    ) -> None:
        await self._write(
            "UPDATE sharepoint_outbox SET item_revision = CASE WHEN item_revision > ?"
            " THEN item_revision ELSE ? END, item_id = ?,"
            " etag = ?, attempts = 0, synced_at = ?, updated_at = ?,"
            " last_error = CASE WHEN doc_revision < revision THEN last_error END"
            " WHERE dialogue_id = ? AND version = ?",
            (revision, revision, item_id, etag, utc_now(), utc_now(), dialogue_id, version),
        )

    async def document_done(self, dialogue_id: str, version: int, revision: int) -> None:
        await self._write(
            "UPDATE sharepoint_outbox SET doc_revision = CASE WHEN doc_revision > ?"
            " THEN doc_revision ELSE ? END, updated_at = ?,"
            " last_error = CASE WHEN item_revision < revision THEN last_error END"
            " WHERE dialogue_id = ? AND version = ?",
            (revision, revision, utc_now(), dialogue_id, version),
        )

    async def remember_item(
        self, dialogue_id: str, version: int, item_id: str | None, etag: str | None
    ) -> None:
        """The SharePoint item of this version (found after a duplicate create or a 412), or
        None when it is gone and must be created again."""
        await self._write(
            "UPDATE sharepoint_outbox SET item_id = ?, etag = ? WHERE dialogue_id = ? AND version = ?",
            (item_id, etag, dialogue_id, version),
        )

    async def failed(self, dialogue_id: str, version: int, reason: str, retry_in: float) -> None:
        """Not sent this time: why (a status code or an error class, never content) and when
        to try again."""
        await self._write(
            "UPDATE sharepoint_outbox SET attempts = attempts + 1, last_error = ?,"
            " next_attempt_at = ?, updated_at = ? WHERE dialogue_id = ? AND version = ?",
            (reason[:200], _later(retry_in), utc_now(), dialogue_id, version),
        )

    async def postpone_all(self, reason: str, retry_in: float) -> None:
        """SharePoint cannot be reached at all: every pending entry waits, with the reason."""
        at = _later(retry_in)
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE sharepoint_outbox SET last_error = ?, next_attempt_at = CASE"
                " WHEN next_attempt_at > ? THEN next_attempt_at ELSE ? END"
                f" WHERE {PENDING}",
                (reason[:200], at, at),
            )

    async def hold_graph(self, until: datetime, reason: str) -> None:
        """Graph asked to wait (Retry-After) until ``until``: no instance sends before it. A
        later moment replaces an earlier one, never the reverse."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                " until = excluded.until WHERE excluded.until > leases.until",
                (GRAPH_WAIT, reason[:200], until.isoformat(timespec="microseconds")),
            )

    async def graph_wait(self) -> tuple[datetime, str] | None:
        """The latest moment Graph asked any instance to wait until, and why (it may be past)."""
        row = await self.db.fetchone(
            "SELECT holder, until FROM leases WHERE name = ?", (GRAPH_WAIT,)
        )
        return (datetime.fromisoformat(row["until"]), row["holder"]) if row else None

    async def pending(self) -> list[dict[str, Any]]:
        """What SharePoint does not have yet, and why: for the admin command."""
        rows = await self.db.fetchall(
            "SELECT dialogue_id, version, revision, item_revision, doc_revision, attempts,"
            f" last_error, next_attempt_at, updated_at FROM sharepoint_outbox WHERE {PENDING}"
            " ORDER BY updated_at, dialogue_id, version"
        )
        return [dict(r) for r in rows]

    async def counts(self) -> dict[str, int]:
        row = await self.db.fetchone(
            f"SELECT COUNT(*) AS total, SUM(CASE WHEN {PENDING} THEN 1 ELSE 0 END) AS pending"
            " FROM sharepoint_outbox"
        )
        total = int(row["total"] or 0) if row else 0
        pending = int(row["pending"] or 0) if row else 0
        return {"total": total, "pending": pending, "synced": total - pending}

    async def saved(self, dialogue_ids: list[str]) -> dict[str, bool]:
        """Per dialogue: is its newest agreement version in SharePoint (item and document)?"""
        if not dialogue_ids:
            return {}
        marks = ",".join("?" * len(dialogue_ids))
        rows = await self.db.fetchall(
            "SELECT o.dialogue_id, o.item_revision >= o.revision AND o.doc_revision >= o.revision"
            " AS saved FROM sharepoint_outbox o JOIN dialogues d ON d.id = o.dialogue_id"
            f" AND d.agreement_version = o.version WHERE o.dialogue_id IN ({marks})",
            dialogue_ids,
        )
        return {r["dialogue_id"]: bool(r["saved"]) for r in rows}
