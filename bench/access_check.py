"""Latency of a dialogue turn with the manager check in Entra ID: off, cached and uncached.

The real app runs in this process on a fresh SQLite file, with the access checks against the
local Graph server of the tests (tests/graph_server.py, its directory and the managed
identity token endpoint), which answers every request after ``--graph-latency`` seconds, as
Graph's own work takes a while. The manager walks between two steps of a dialogue (``next``
on the first topic, ``back`` to it again); every one of those turns runs the manager check.

- ``off``: ACCESS_CHECKS=off (local mode), the baseline;
- ``cached``: ACCESS_CACHE_MINUTES=5, the answer of the first turn serves the others;
- ``uncached``: ACCESS_CACHE_MINUTES=0, every turn asks Graph ``GET /users/{id}/manager``.

    python -m bench.access_check [--turns 200] [--graph-latency 0.03]

Measured 2026-12-01 (2 shared cores, load average 1.4-1.9 from other test runs), 400 turns:

    mode        turns  p50 ms  p90 ms  p99 ms  Graph requests
    off           400   11.27   14.15   39.24      0
    cached        400   10.64   22.65   41.95      0
    uncached      400   49.99   74.43  145.66    400

"Graph requests" counts those after the employee was chosen: with the cache, the answer of
that choice serves every later turn. The cached check costs no measurable time at the median
(the spread at p90 is the machine's load); uncached, a turn takes one Graph round trip longer
(the modelled 30 ms plus the request's own few milliseconds, more at the tail).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.answers import STEP_ANSWERS
from tests.connector import LocalConnector
from tests.graph_server import GraphServer
from tests.harness import BotServer, TeamsClient, User, action_data

MANAGER = User("Lone Leder", "11111111-1111-1111-1111-111111111111")
EMPLOYEE = User("Mette Sørensen", "22222222-2222-2222-2222-222222222222")

MODES: dict[str, dict[str, Any]] = {
    "off": {"access_checks": "off"},
    "cached": {"access_checks": "graph", "access_cache_minutes": 5},
    "uncached": {"access_checks": "graph", "access_cache_minutes": 0},
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def one_mode(
    name: str, turns: int, graph_latency: float, folder: Path
) -> tuple[list[float], int]:
    graph = GraphServer(latency=graph_latency)
    await graph.start()
    os.environ.update(graph.identity_env())
    graph.directory.add_user(EMPLOYEE.aad_object_id, manager=MANAGER.aad_object_id)
    connector = LocalConnector()
    await connector.start()
    bot = BotServer(
        folder / f"{name}.sqlite3",
        graph_credential="managed_identity",
        graph_host=graph.url,
        access_timeout=5,
        **MODES[name],
    )
    await bot.start()
    try:
        async with aiohttp.ClientSession() as session:
            manager = TeamsClient(session, bot, connector, MANAGER)
            employee = TeamsClient(session, bot, connector, EMPLOYEE)
            await employee.say("hjælp")
            await manager.say("start")
            card = manager.last_card()
            await manager.submit(
                card, {**action_data(card.card, "next"), **STEP_ANSWERS["employee"]}
            )
            before = graph.directory.requests.get("manager", 0)
            took: list[float] = []
            for turn in range(turns):
                card = manager.last_card()
                verb = "next" if turn % 2 == 0 else "back"
                data = action_data(card.card, verb)
                if verb == "next":
                    data.update(STEP_ANSWERS["tasks"])
                started = time.perf_counter()
                await manager.submit(card, data)
                took.append(time.perf_counter() - started)
            return took, graph.directory.requests.get("manager", 0) - before
    finally:
        await bot.stop()
        await connector.stop()
        await graph.stop()


async def main(turns: int, graph_latency: float) -> None:
    logging.disable(logging.WARNING)  # the local mode warning, once per bot
    print(f"{'mode':<10} {'turns':>6} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7}  Graph requests")
    with tempfile.TemporaryDirectory() as folder:
        for name in MODES:
            took, asked = await one_mode(name, turns, graph_latency, Path(folder))
            ms = [t * 1000 for t in took]
            print(
                f"{name:<10} {len(ms):>6} {statistics.median(ms):>7.2f}"
                f" {percentile(ms, 0.9):>7.2f} {percentile(ms, 0.99):>7.2f}  {asked:>6}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--graph-latency", type=float, default=0.03)
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.graph_latency))
