"""Several instances on one store drain the SharePoint outbox and the reminder ledger
together: each entry is taken by one of them at a time, a claim of an instance that died
runs out, and every change is a compare-and-set, so each effect happens once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from store.database import Database
from store.dialogues import DialogueStore
from store.outbox import Outbox
from store.reminders import PENDING, SENDING, SENT, UNCERTAIN, LedgerRow, ReminderStore
from store.schema import sharepoint_outbox
from tests.sharepoint_agreements import respond, seed

pytestmark = pytest.mark.both_engines
WEEK = "2026-W49"


@pytest.fixture
async def instances(db_path) -> AsyncIterator[list[Database]]:
    """Three bot instances on one store (each with its own engine and pool)."""
    dbs = [Database(db_path) for _ in range(3)]
    for db in dbs:
        await db.open()
    yield dbs
    for db in dbs:
        await db.close()


async def test_syncers_of_several_instances_never_take_the_same_entry(instances):
    await seed(instances[0], 30)
    syncers = [Outbox(db) for db in instances for _ in range(2)]
    taken = await asyncio.gather(*(s.due("item", 7) for s in syncers))
    keys = [e.key for batch in taken for e in batch]
    assert len(keys) == len(set(keys)) == 30  # all of them, each once
    assert all(len(batch) <= 7 for batch in taken)
    # Nothing is left for another syncer while the claims hold: no second request.
    assert [await Outbox(db).due("item", 50) for db in instances] == [[]] * 3
    # The documents are claimed on their own: another syncer may upload them meanwhile.
    assert len(await syncers[1].due("document", 50)) == 30


async def test_a_syncer_sees_its_own_claims_again_and_an_outcome_releases_them(instances):
    await seed(instances[0], 2)
    mine, other = Outbox(instances[0]), Outbox(instances[1])
    first = await mine.due("item", 10)
    assert [e.key for e in await mine.due("item", 10)] == [e.key for e in first]
    sent, refused = first
    await mine.item_done(sent.dialogue_id, sent.version, sent.revision, "item-1", "etag-1")
    await mine.failed(refused.dialogue_id, refused.version, "503", retry_in=0)
    assert [e.key for e in await other.due("item", 10)] == [refused.key]  # retried elsewhere
    # A change after the send goes out again, and any syncer may take it.
    store = DialogueStore(instances[0])
    dialogue = await store.get(sent.dialogue_id)
    assert dialogue is not None
    await respond(store, dialogue, confirm=True)
    assert {e.key for e in await other.due("item", 10)} == {sent.key, refused.key}


async def test_the_claims_of_an_instance_that_died_run_out(instances):
    await seed(instances[0], 3)
    dead = Outbox(instances[0], claim_seconds=0.2)
    assert len(await dead.due("document", 10)) == 3
    alive = Outbox(instances[1])
    assert await alive.due("document", 10) == []
    await asyncio.sleep(0.3)
    assert len(await alive.due("document", 10)) == 3


async def test_outcomes_written_together_release_the_claims_in_one_transaction(instances):
    await seed(instances[0], 4)
    mine = Outbox(instances[0])
    entries = await mine.due("document", 10)
    async with mine.together():
        for e in entries:
            await mine.document_done(e.dialogue_id, e.version, e.revision)
    claimed = await instances[1].fetchall(
        select(sharepoint_outbox.c.doc_claim).where(sharepoint_outbox.c.doc_claim.is_not(None))
    )
    assert claimed == []
    assert (await mine.counts())["pending"] == 4  # the items are still to come


async def test_senders_of_several_instances_claim_disjoint_rows(instances):
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    stores = [ReminderStore(db) for db in instances]
    await stores[0].plan(WEEK, [(f"e{n:03d}", "pulse") for n in range(40)], now)
    claims = await asyncio.gather(
        *(
            s.claim(WEEK, now, 9, holder=f"sender-{n}-{i}", seconds=60)
            for n, s in enumerate(stores)
            for i in range(2)
        )
    )
    taken = [r.recipient_id for batch in claims for r in batch]
    assert len(taken) == len(set(taken)) == 40
    assert await stores[1].claim(WEEK, now, 50, holder="late", seconds=60) == []
    # A sender's own rows come back to it; others' come free when the claim runs out.
    again = await stores[0].claim(WEEK, now, 50, holder="sender-0-0", seconds=60)
    assert {r.recipient_id for r in again} == {r.recipient_id for r in claims[0]}
    later = now + timedelta(seconds=61)
    assert len(await stores[2].claim(WEEK, later, 50, holder="late", seconds=60)) == 40


async def test_each_row_is_sent_once_however_many_senders_try(instances):
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    stores = [ReminderStore(db) for db in instances]
    await stores[0].plan(WEEK, [("e1", "pulse")], now)
    row = LedgerRow("e1", "pulse", WEEK, 0)
    won = await asyncio.gather(
        *(s.mark(row, SENDING, expected=PENDING) for s in stores for _ in range(3))
    )
    assert won.count(True) == 1
    assert await stores[1].mark(row, SENT, expected=SENDING, status=201, attempts=1)
    assert await stores[2].counts(WEEK) == {SENT: 1}


async def test_a_row_left_sending_by_a_dead_claimant_becomes_uncertain(instances):
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    store = ReminderStore(instances[0])
    await store.plan(WEEK, [("e1", "pulse"), ("e2", "pulse")], now)
    (first, second) = await store.claim(WEEK, now, 2, holder="dead", seconds=30)
    assert await store.mark(first, SENDING, expected=PENDING)  # its request left, then it died
    other = ReminderStore(instances[1])
    assert await other.claim(WEEK, now + timedelta(seconds=10), 5, holder="b", seconds=30) == []
    taken = await other.claim(WEEK, now + timedelta(seconds=31), 5, holder="b", seconds=30)
    assert [r.recipient_id for r in taken] == [second.recipient_id]  # not sent again
    assert await other.counts(WEEK) == {UNCERTAIN: 1, PENDING: 1}


async def test_planning_a_week_on_two_instances_at_once_adds_each_row_once(instances):
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    entries = [(f"e{n}", kind) for n in range(20) for kind in ("pulse", "nudge")]
    added = await asyncio.gather(*(ReminderStore(db).plan(WEEK, entries, now) for db in instances))
    assert sum(added) == 40
    assert await ReminderStore(instances[0]).counts(WEEK) == {PENDING: 40}


async def test_the_sender_lease_has_one_holder_when_instances_ask_at_once(instances):
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    asked = await asyncio.gather(
        *(
            ReminderStore(db).take_lease(f"holder-{n}-{i}", now, 30)
            for n, db in enumerate(instances)
            for i in range(3)
        )
    )
    assert asked.count(True) == 1


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_postgresql_skips_rows_locked_by_another_instance_without_waiting(instances):
    """FOR UPDATE SKIP LOCKED: a syncer does not queue behind another one's open claim."""
    await seed(instances[0], 6)
    async with instances[1].transaction() as conn:
        locked = (
            await conn.execute(
                select(sharepoint_outbox.c.dialogue_id)
                .order_by(sharepoint_outbox.c.dialogue_id)
                .limit(2)
                .with_for_update()
            )
        ).all()
        taken = await asyncio.wait_for(Outbox(instances[2]).due("item", 10), 5)
    assert len(taken) == 4
    assert not {e.dialogue_id for e in taken} & {r.dialogue_id for r in locked}
