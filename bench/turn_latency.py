"""Time per turn and p50/p99 latency of a dialogue step, against a bare echo bot.

Both bots run as their own process (the real ``app.py`` on a fresh SQLite file, and
``bench.echo_bot``); this process is the Teams side: it posts Teams-shaped activities to
``/api/messages`` and answers the bots' replies and card updates with the LocalConnector from
the tests. Each conversation of the dialogue bot walks the manager's dialogue step by step
(every submit: validate, commit, replace the card, send the next card) and starts again when
it is concluded; each echo conversation sends plain messages.

    python -m bench.turn_latency [--turns 600] [--concurrency 1 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.answers import STEP_ANSWERS
from tests.connector import LocalConnector
from tests.harness import TeamsClient, User, action_data

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url


async def wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with session.post(f"{url}/api/messages", data=b"{}", headers={"Content-Type": "application/json"}):
                return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not start")


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def dialogue_worker(client: TeamsClient, turns: int, latencies: list[float]) -> None:
    steps = list(STEP_ANSWERS)
    await client.say("start")
    done = 0
    while done < turns:
        for step in steps + ["review"]:
            if done >= turns:
                return
            card = client.last_card()
            if step == "review":
                data = action_data(card.card, "conclude")
                payload = data
            else:
                data = action_data(card.card, "next")
                payload = {**data, **STEP_ANSWERS[step]}
            t0 = time.perf_counter()
            status = await client.post(client.activity(value=payload, replyToId=card.id))
            latencies.append(time.perf_counter() - t0)
            assert status == 201
            done += 1
        await client.say("start")


async def echo_worker(client: TeamsClient, turns: int, latencies: list[float]) -> None:
    for n in range(turns):
        t0 = time.perf_counter()
        status = await client.post(client.activity(text=f"hej {n}"))
        latencies.append(time.perf_counter() - t0)
        assert status == 201


async def measure(kind: str, url: str, connector: LocalConnector, concurrency: int, turns: int) -> dict[str, float]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await wait_ready(session, url)
        latencies: list[float] = []
        per_conv = max(1, turns // concurrency)
        clients = [
            TeamsClient(session, _Url(url), connector, User(f"Bruger {i}", f"00000000-0000-0000-0000-{i:012d}"))
            for i in range(concurrency)
        ]
        worker = dialogue_worker if kind == "dialogue" else echo_worker
        # Warm up once per process so that imports and first connections are not measured.
        await worker(TeamsClient(session, _Url(url), connector, User("Varm", "warm")), 10, [])
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c, per_conv, latencies) for c in clients))
        wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "turns": len(latencies),
        "per_turn_ms": wall / len(latencies) * 1000,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    args = parser.parse_args()

    connector = LocalConnector()
    await connector.start()
    tmp = tempfile.TemporaryDirectory()
    bot_port, echo_port, cached_port = free_port(), free_port(), free_port()
    bot = start(
        [sys.executable, "app.py"],
        {"PORT": str(bot_port), "DATABASE_PATH": f"{tmp.name}/bench.sqlite3", "LOG_LEVEL": "WARNING"},
    )
    echo = start([sys.executable, "-m", "bench.echo_bot", str(echo_port)], {})
    cached = start([sys.executable, "-m", "bench.echo_bot", str(cached_port), "--cached"], {})
    try:
        print(f"{'bot':9} {'conc':>4} {'turns':>6} {'per turn ms':>12} {'p50 ms':>8} {'p99 ms':>8}")
        results = {}
        for concurrency in args.concurrency:
            for kind, port in (("echo", echo_port), ("echo+cache", cached_port), ("dialogue", bot_port)):
                r = await measure(kind, f"http://127.0.0.1:{port}", connector, concurrency, args.turns)
                results[(kind, concurrency)] = r
                print(f"{kind:9} {concurrency:>4} {r['turns']:>6} {r['per_turn_ms']:>12.2f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}")
        for concurrency in args.concurrency:
            d = results[("dialogue", concurrency)]
            for base in ("echo", "echo+cache"):
                e = results[(base, concurrency)]
                print(
                    f"dialogue / {base:10} at {concurrency:>2} concurrent: time per turn "
                    f"{d['per_turn_ms'] / e['per_turn_ms']:.2f}x, p50 {d['p50_ms'] / e['p50_ms']:.2f}x, "
                    f"p99 {d['p99_ms'] / e['p99_ms']:.2f}x"
                )
    finally:
        for p in (bot, echo, cached):
            p.terminate()
            p.wait(10)
        await connector.stop()
        tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
