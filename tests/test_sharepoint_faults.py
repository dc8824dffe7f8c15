"""The fault test: 500 agreements and the action items of the confirmed ones (the second list)
reach SharePoint exactly once with the right content while
Graph fails 30 % of the requests (429 and 503 with Retry-After, 500, timeouts, reset
connections, throttled requests inside batches), is down completely for a stretch, and the
bot process is killed (SIGKILL) in the middle of the sync and started again.

The bot runs as a real subprocess (``python app.py``) with its syncer; the local Graph server
and the test's own changes to agreements (confirmations, disputes and revisions made while
the bot is down) run in this process. Waits are scaled down with GRAPH_WAIT_SCALE.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
import time
from pathlib import Path

from core.action_items import DONE, NOT_NEEDED
from settings import Settings
from sharepoint.provisioning import provision
from sharepoint.runtime import graph
from store.action_items import ActionItemStore
from store.database import Database
from store.dialogues import DialogueStore
from tests.graph_server import Faults, GraphServer
from tests.sharepoint_agreements import (
    ACTIONS_LIST,
    LIST,
    SITE_URL,
    actions_in_sharepoint,
    expected_actions,
    expected_documents,
    expected_items,
    graph_env,
    graph_settings,
    in_sharepoint,
    respond,
    revise,
    seed,
)

ROOT = Path(__file__).resolve().parent.parent
AGREEMENTS = 500
FAULTS = Faults(
    throttle=0.06,
    unavailable=0.06,
    server_error=0.08,
    timeout=0.04,
    reset=0.06,
    batch_throttle=0.05,
    retry_after=1,
    hang=1.2,
    seed=3,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_bot(server: GraphServer, database: Path) -> asyncio.subprocess.Process:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_APP", "GRAPH_"))},
        **graph_env(server.url, server.identity_env(), str(database)),
        "PORT": str(free_port()),
        "GRAPH_WAIT_SCALE": "0.02",
        "GRAPH_TIMEOUT": "0.5",
        "LOG_LEVEL": "WARNING",
    }
    return asyncio.create_subprocess_exec(  # type: ignore[return-value]
        sys.executable,
        "app.py",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def pending(database: Path) -> int:
    with sqlite3.connect(database, timeout=5) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM sharepoint_outbox WHERE item_revision < revision"
            " OR doc_revision < revision OR actions_revision < revision"
        ).fetchone()[0]


async def until(check, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_500_agreements_survive_faults_an_outage_and_a_killed_process(tmp_path, monkeypatch):
    database = tmp_path / "bot.sqlite3"
    server = GraphServer(page_size=50)
    await server.start()
    for key, value in server.identity_env().items():
        monkeypatch.setenv(key, value)
    bot = None
    try:
        async with graph(Settings(_env_file=None, **graph_settings(server.url))) as client:
            await provision(client, SITE_URL, LIST, "", "Hjemmearbejdsaftaler")
        db = Database(database)
        await db.open()
        # 60 agreements confirmed first (their action items go to the second list, and are
        # the first in the outbox), then 440 waiting for the employee.
        store = DialogueStore(db)
        early = await seed(db, 60, prefix="c")
        for d in early:
            await respond(store, d, confirm=True)
        dialogues = await seed(db, AGREEMENTS - len(early))
        await db.close()
        server.faults = FAULTS

        bot = await start_bot(server, database)
        await until(lambda: len(server.the_list(LIST)["items"]) >= 150, 40, "150 items")
        bot.send_signal(signal.SIGKILL)  # in the middle of the sync, requests in flight
        await bot.wait()
        synced_at_kill = len(server.items(LIST))
        actions_at_kill = len(server.items(ACTIONS_LIST))
        assert 150 <= synced_at_kill < AGREEMENTS

        # While the bot is down, agreements change: confirmed, disputed and revised.
        db = Database(database)
        await db.open()
        store = DialogueStore(db)
        for d in dialogues[:60]:
            await respond(store, d, confirm=True)
        for d in dialogues[60:80]:
            await respond(store, d, confirm=False)
            await revise(store, d)
        # Action items are marked done or not needed while the bot is down, some of them
        # already in SharePoint: the same items are updated, none is made twice.
        items = ActionItemStore(db)
        closed = 0
        for n, d in enumerate(early[:30]):
            for synced in await items.for_version(d.id, 1):
                status = DONE if n % 3 else NOT_NEEDED
                closed += await items.close(synced.item, status, d.employee_id or "") is not None
        await db.close()

        # SharePoint is down completely when the bot comes back, for a stretch.
        server.down = True
        bot = await start_bot(server, database)
        await until(lambda: server.stats.faults.get("down", 0) > 0, 30, "the bot to try again")
        await asyncio.sleep(1.0)  # it keeps trying, backing off, while SharePoint is down
        server.down = False
        await until(lambda: pending(database) == 0, 80, "the outbox to empty")
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), 30)
        bot = None

        db = Database(database)
        await db.open()
        expected = await expected_items(db, server)
        documents = await expected_documents(db)
        actions = await expected_actions(db)
        await db.close()
        assert len(expected) == AGREEMENTS + 20
        assert in_sharepoint(server) == expected  # each version once, with the right content
        assert server.files() == documents
        # Every action item of the 120 confirmed versions once, in its last state.
        assert actions_in_sharepoint(server) == actions
        assert {k.rsplit(":", 1)[0] for k in actions} == {
            f"{d.id}:1" for d in early + dialogues[:60]
        }
        statuses = [f["ActionStatus"] for f in actions.values()]
        assert closed > 0 and sum(s != "Åben" for s in statuses) == closed
        stats = server.stats
        outer = sum(v for k, v in stats.faults.items() if k not in ("down", "batch_throttle"))
        realized = outer / (stats.http - stats.faults["down"])
        assert realized > 0.15  # faults at a 30 % rate, realized on this run's requests
        for kind in (
            "throttle",
            "unavailable",
            "server_error",
            "timeout",
            "reset",
            "batch_throttle",
        ):
            assert stats.faults.get(kind, 0) > 0, kind
        assert stats.max_batch <= 20
        print(
            f"\nfault test: {len(expected)} versions, {len(actions)} action items"
            f" ({closed} closed while the bot was down), {stats.http} HTTP requests,"
            f" {stats.batches} batches, outer faults {realized:.0%}, faults {stats.faults},"
            f" conflicts {stats.conflicts},"
            f" items at kill {synced_at_kill}, action items at kill {actions_at_kill}"
        )
    finally:
        if bot is not None and bot.returncode is None:
            bot.kill()
            await bot.wait()
        await server.stop()
