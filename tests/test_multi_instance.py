"""Three real bot processes on one PostgreSQL database, behind a round-robin proxy.

Each instance is ``python app.py`` on its own loopback port with the same ``DATABASE_URL``,
SharePoint pointed at the local Graph server (throttling and faults), and the reminders on an
external trigger. The test's Teams clients post to the proxy, so the turns of every dialogue
alternate between the instances. 50 managers go through their dialogue; half way one
instance is SIGKILLed, and the proxy skips it from then on (a connection refused is retried
on the next instance, as a load balancer's health check takes a dead one out). Then each
dialogue is concluded, ``POST /api/reminders/run`` goes to all three instances at once, and
the surviving instances drain the SharePoint outbox together. Afterwards: every dialogue is
at the right step (in the store and on the manager's screen), every agreement version is in
SharePoint exactly once, every reminder the ledger holds as sent reached Teams exactly once,
and none is left pending or lost.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from types import SimpleNamespace
from typing import Any

import aiohttp

from settings import Settings
from sharepoint.provisioning import provision
from sharepoint.runtime import graph
from store.database import Database
from tests.answers import STEP_ANSWERS
from tests.connector import LocalConnector
from tests.databases import rows
from tests.graph_server import Faults, GraphServer
from tests.harness import TeamsClient, User, action_data
from tests.instances import BotProcess, RoundRobinProxy, base_env, due_slot
from tests.sharepoint_agreements import (
    LIST,
    SITE_URL,
    expected_items,
    graph_settings,
    in_sharepoint,
)

DIALOGUES = 50
SECRET = "m" * 40
STEPS = list(STEP_ANSWERS)
FAULTS = Faults(
    throttle=0.05,
    unavailable=0.05,
    server_error=0.05,
    timeout=0.03,
    reset=0.04,
    batch_throttle=0.05,
    retry_after=1,
    hang=1.2,
    seed=11,
)


async def until(check, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def turn(client: TeamsClient, activity: dict[str, Any]) -> None:
    status = await client.post(activity)
    assert status == 201, status


async def answer_steps(client: TeamsClient, steps: list[str]) -> None:
    for step in steps:
        card = client.last_card()
        data = action_data(card.card, "next")
        assert data["step"] == step, (data["step"], step)
        await turn(client, client.activity(value={**data, **STEP_ANSWERS[step]}, replyToId=card.id))


async def test_three_instances_behind_a_proxy_one_killed(postgres_server, monkeypatch):
    started = time.monotonic()
    url = postgres_server.new_database()
    graph_server = GraphServer(page_size=50)
    await graph_server.start()
    for key, value in graph_server.identity_env().items():
        monkeypatch.setenv(key, value)
    connector = LocalConnector()
    await connector.start()
    instances: list[BotProcess] = []
    proxy = None
    try:
        async with graph(Settings(_env_file=None, **graph_settings(graph_server.url))) as client:
            await provision(client, SITE_URL, LIST, "", "Hjemmearbejdsaftaler")
        graph_server.faults = FAULTS
        env = base_env(
            **{
                k.upper(): str(v)
                for k, v in graph_settings(
                    graph_server.url, graph_wait_scale=0.02, graph_timeout=0.5
                ).items()
            },
            **graph_server.identity_env(),
            **due_slot(),
            DATABASE_URL=url,
            REMINDER_SCHEDULER="external",
            REMINDERS_RUN_SECRET=SECRET,
        )
        instances = [BotProcess(env, f"instance {n}") for n in range(3)]
        await instances[0].start()  # the first migrates the new database
        await asyncio.gather(*(i.start() for i in instances[1:]))
        proxy = RoundRobinProxy([i.url for i in instances])
        await proxy.start()

        async with aiohttp.ClientSession() as session:
            front = SimpleNamespace(url=proxy.url)
            managers = [
                TeamsClient(
                    session,
                    front,  # type: ignore[arg-type]
                    connector,
                    User(f"Leder {n}", str(uuid.UUID(int=8_000_000 + n))),
                )
                for n in range(DIALOGUES)
            ]
            gate = asyncio.Semaphore(10)

            async def first_half(client: TeamsClient) -> None:
                async with gate:
                    await turn(client, client.activity(text="start", textFormat="plain"))
                    await answer_steps(client, STEPS[:3])

            async def second_half(client: TeamsClient) -> None:
                async with gate:
                    await answer_steps(client, STEPS[3:])
                    review = client.last_card()
                    await turn(
                        client,
                        client.activity(
                            value=action_data(review.card, "conclude"), replyToId=review.id
                        ),
                    )

            await asyncio.gather(*(first_half(m) for m in managers))
            assert set(proxy.routed) == {i.url for i in instances}  # every instance answered
            await instances[1].kill()
            await asyncio.gather(*(second_half(m) for m in managers))
            assert instances[1].url in proxy.refused  # skipped, never answered a turn again

            # Reminders: the run endpoint of every instance at once (the dead one refuses).
            auth = {"Authorization": f"Bearer {SECRET}"}

            async def trigger(instance: BotProcess) -> int | None:
                try:
                    async with session.post(
                        f"{instance.url}/api/reminders/run", headers=auth
                    ) as response:
                        return response.status
                except aiohttp.ClientConnectorError:
                    return None

            answers = await asyncio.gather(*(trigger(i) for i in instances))
            assert answers == [202, None, 202], answers
            survivor = instances[0]

            async def reminders_done() -> bool:
                async with session.get(
                    f"{survivor.url}/api/reminders/status", headers=auth
                ) as response:
                    status = await response.json()
                busy = []
                for other in (instances[0], instances[2]):
                    async with session.get(
                        f"{other.url}/api/reminders/status", headers=auth
                    ) as response:
                        busy.append((await response.json())["running"])
                return (
                    not any(busy) and bool(status["ledger"]) and not status["ledger"].get("pending")
                )

            await until(reminders_done, 90, "the reminders to be sent")

            async def outbox_empty() -> bool:
                pending = rows(
                    url,
                    "SELECT COUNT(*) FROM sharepoint_outbox WHERE item_revision < revision"
                    " OR doc_revision < revision OR actions_revision < revision",
                )
                return pending[0][0] == 0

            await until(outbox_empty, 120, "the SharePoint outbox to empty")

            # Every dialogue at the right step: concluded, waiting for the employee.
            states = rows(
                url, "SELECT state, agreement_version, COUNT(*) FROM dialogues GROUP BY 1, 2"
            )
            assert states == [("awaiting_employee", 1, DIALOGUES)], states
            for manager in managers:  # what the manager sees: no error, the agreement sent
                last = " ".join((s.text or str(s.card)) for s in manager.seen()[-2:])
                assert "Beklager" not in last, last

        # Every agreement version in SharePoint exactly once, with the right fields.
        db = Database(url)
        await db.open()
        try:
            expected = await expected_items(db, graph_server)
        finally:
            await db.close()
        assert len(expected) == DIALOGUES
        assert in_sharepoint(graph_server) == expected
        assert sum(graph_server.stats.faults.values()) > 0, graph_server.stats.faults

        # Every reminder the ledger holds as sent reached Teams once; none pending or lost.
        ledger = rows(url, "SELECT recipient_id, kind, state FROM reminder_ledger")
        assert ledger and {state for _, _, state in ledger} <= {"sent", "skipped"}, ledger
        conversations = {m.user.aad_object_id: m.conversation_id for m in managers}
        digests = Counter(
            s.conversation_id
            for s in connector.sent
            if s.card is not None and "Din ugentlige oversigt" in str(s.card)
        )
        sent_digests = {r for r, kind, state in ledger if kind == "digest" and state == "sent"}
        assert {conversations[r]: digests[conversations[r]] for r in sent_digests} == {
            conversations[r]: 1 for r in sent_digests
        }
        assert sum(digests.values()) == len(sent_digests) == DIALOGUES
        print(
            f"\nmulti-instance: {DIALOGUES} dialogues, turns per instance"
            f" {dict(Counter(proxy.routed))}, refused {len(proxy.refused)},"
            f" Graph faults {graph_server.stats.faults},"
            f" {time.monotonic() - started:.1f} s"
        )
    finally:
        if proxy:
            await proxy.stop()
        await asyncio.gather(*(i.stop() for i in instances))
        await connector.stop()
        await graph_server.stop()
        postgres_server.drop(url)
